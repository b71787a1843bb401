"""Exports: atomic files and sets of files (engine.files), provenance (engine.export), exact
encoding (engine.encoding), CSV/JSON/NPZ files (engine.tables, engine.export.write_result)."""

from __future__ import annotations

import collections
import csv
import json
import math
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from synthetic import assert_results_equal, make_config, make_result

import engine
from engine import files
from engine.encoding import (
    DecodeError,
    _decode_any,
    dumps,
    encode,
    result_from_dict,
    result_to_dict,
)
from engine.export import provenance, write_result
from engine.files import atomic_write_bytes, atomic_write_text
from engine.tables import read_csv_provenance

PROV_KEYS = {"app", "app_version", "python", "numpy", "scipy", "date", "seeds", "config",
             "derived", "conventions"}


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- atomic


def test_atomic_write_creates_and_refuses_overwrite(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    atomic_write_text(f, "one\n")
    assert f.read_text() == "one\n"
    with pytest.raises(FileExistsError, match="already exists.*force"):
        atomic_write_text(f, "two\n")
    assert f.read_text() == "one\n"
    atomic_write_text(f, "two\n", force=True)
    assert f.read_text() == "two\n"
    assert _leftovers(tmp_path) == []
    # usual permissions, not mkstemp's 0600
    umask = os.umask(0)
    os.umask(umask)
    assert (f.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_atomic_write_failure_on_replace_keeps_old_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "session.json"
    f.write_bytes(b"old content")

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(f, b"new content that never lands", force=True)
    assert f.read_bytes() == b"old content"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]


def test_atomic_write_failure_mid_write_keeps_old_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "data.csv"
    f.write_bytes(b"old")

    def bad_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files.os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write_bytes(f, b"x" * 100000, force=True)
    assert f.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_atomic_write_exclusive_has_no_race(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A file appearing between the check and the publish is still not overwritten."""
    f = tmp_path / "x.png"
    real_exists = Path.exists

    def exists_then_create(self: Path) -> bool:
        out = real_exists(self)
        if self == f and not out:
            f.write_bytes(b"someone else's")
        return out

    monkeypatch.setattr(Path, "exists", exists_then_create)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(f, b"mine")
    assert f.read_bytes() == b"someone else's"
    assert _leftovers(tmp_path) == []


def test_atomic_write_removes_temporary_files_left_by_a_kill(tmp_path: Path) -> None:
    stray = tmp_path / ".x.png.k3j_9ab2.tmp"  # mkstemp's name for a write of x.png
    stray.write_bytes(b"half a png")
    other = tmp_path / ".y.png.k3j_9ab2.tmp"  # another destination's: not ours to remove
    other.write_bytes(b"half")
    atomic_write_bytes(tmp_path / "x.png", b"png")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".y.png.k3j_9ab2.tmp", "x.png"]


# --------------------------------------------------------------------------- sets of files


def _listing(folder: Path) -> dict[str, bytes] | None:
    """Every file of ``folder`` with its content (``None``: no folder)."""
    if not folder.exists():
        return None
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _staged(folder: Path) -> list[str]:
    """Siblings of ``folder`` of the staging scheme (what a kill can leave)."""
    return sorted(p.name for p in folder.parent.iterdir()
                  if p.name.startswith(f".{folder.name}.{files.STAGE_TAG}-"))


def _set(tag: str, n: int, size: int) -> dict[str, bytes]:
    return {f"t{i:04d}.csv": (f"{tag} {i} ".encode() * size)[:size] for i in range(n)}


def test_write_set_creates_the_folder_with_exactly_the_set(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "out"
    paths = files.write_set(folder, {"x.csv": b"1,2\n", "y.json": b"{}"})
    assert paths == [folder / "x.csv", folder / "y.json"]
    assert _listing(folder) == {"x.csv": b"1,2\n", "y.json": b"{}"}
    assert _staged(folder) == []
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "x.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_set_replaces_its_files_and_keeps_the_others(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    folder.chmod(0o750)
    (folder / "notes.txt").write_bytes(b"mine")
    (folder / "link").symlink_to("notes.txt")
    inode = (folder / "notes.txt").stat().st_ino
    files.write_set(folder, {"a.csv": b"old a", "b.csv": b"old b"})
    before = _listing(folder)
    with pytest.raises(FileExistsError, match="already exist.*--force"):
        files.write_set(folder, {"b.csv": b"new b", "c.csv": b"c"})
    assert _listing(folder) == before  # not even c.csv, which was free
    files.write_set(folder, {"b.csv": b"new b", "c.csv": b"c"}, force=True)
    assert _listing(folder) == {"notes.txt": b"mine", "link": b"mine", "a.csv": b"old a",
                                "b.csv": b"new b", "c.csv": b"c"}
    assert os.readlink(folder / "link") == "notes.txt"
    assert (folder / "notes.txt").stat().st_ino == inode  # the same file, not a copy
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert _staged(folder) == []


def test_write_set_from_inside_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    files.write_set(folder, {"a.csv": b"a"})
    monkeypatch.chdir(folder)
    files.write_set(".", {"b.csv": b"b"})
    # the working directory follows the folder (its previous version is gone)
    assert sorted(os.listdir(".")) == ["a.csv", "b.csv"]
    assert Path.cwd() == folder


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two renames"])
def test_write_set_both_ways_of_swapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         exchange: bool) -> None:
    if not exchange:
        monkeypatch.setattr(files, "_RENAMEAT2", None)
    elif files._RENAMEAT2 is None:
        pytest.skip("no renameat2 on this system")
    folder = tmp_path / "out"
    files.write_set(folder, {"a.csv": b"a", "b.csv": b"b"})
    files.write_set(folder, {"b.csv": b"B", "c.csv": b"c"}, force=True)
    assert _listing(folder) == {"a.csv": b"a", "b.csv": b"B", "c.csv": b"c"}
    assert _staged(folder) == []


def test_write_set_checks_everything_before_writing(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        files.write_set(a_file, {"a.csv": b"a"})
    with pytest.raises(NotADirectoryError, match="is a file"):
        files.write_set(a_file / "sub" / "out", {"a.csv": b"a"})
    for name in ("", ".", "..", "../a.csv", "sub/a.csv", "a\x00.csv"):
        with pytest.raises(ValueError, match="not a plain file name"):
            files.write_set(tmp_path / "new", {"ok.csv": b"", name: b""})
    with pytest.raises(TypeError, match="must be bytes"):
        files.write_set(tmp_path / "new", {"ok.csv": b"", "text.csv": "text"})
    assert not (tmp_path / "new").exists()

    folder = tmp_path / "out"
    (folder / "figures").mkdir(parents=True)
    (folder / "a.csv").write_bytes(b"a")
    with pytest.raises(IsADirectoryError, match="'figures', which is not a file"):
        files.write_set(folder, {"b.csv": b"b"}, force=True)
    assert sorted(os.listdir(folder)) == ["a.csv", "figures"]
    assert _staged(folder) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out"]


def test_check_targets_sees_names_and_patterns(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    files.check_targets(folder, ["a.png"], patterns=["*.csv"])  # a new folder: all free
    assert not folder.exists()
    files.write_set(folder, {"sim_errors.csv": b"1", "a.png": b"png"})
    with pytest.raises(FileExistsError, match="a.png"):
        files.check_targets(folder, ["a.png", "b.png"])
    with pytest.raises(FileExistsError, match="sim_errors.csv"):
        files.check_targets(folder, ["b.png"], patterns=["*.csv", "*.npz"])
    files.check_targets(folder, ["b.png"], patterns=["*.npz"])
    files.check_targets(folder, ["a.png"], patterns=["*.csv"], force=True)
    with pytest.raises(NotADirectoryError):
        files.check_targets(folder / "a.png", ["x"])
    assert _listing(folder) == {"sim_errors.csv": b"1", "a.png": b"png"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permission bits do not bind root")
def test_write_set_refuses_an_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    files.write_set(folder, {"a.csv": b"a"})
    tmp_path.chmod(0o555)  # the folder is writable, its parent (where staging goes) not
    try:
        with pytest.raises(PermissionError, match="cannot write into"):
            files.write_set(folder, {"b.csv": b"b"})
    finally:
        tmp_path.chmod(0o755)
    assert _listing(folder) == {"a.csv": b"a"}


@pytest.mark.parametrize("existing", [False, True])
def test_write_set_failure_mid_write_leaves_the_folder_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool) -> None:
    folder = tmp_path / "out"
    if existing:
        files.write_set(folder, {"a.csv": b"a", "keep.txt": b"k"})
    before = _listing(folder)
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        files.write_set(folder, {f"f{i}.csv": b"new" for i in range(5)} | {"a.csv": b"A"},
                        force=True)
    assert _listing(folder) == before
    assert _staged(folder) == []


def test_write_set_failed_second_rename_puts_the_folder_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    files.write_set(folder, {"a.csv": b"a"})
    monkeypatch.setattr(files, "_RENAMEAT2", None)
    real_rename, calls = os.rename, []

    def rename(src: object, dst: object) -> None:
        calls.append(src)
        if len(calls) == 2:
            raise OSError(16, "Device or resource busy")
        real_rename(src, dst)

    monkeypatch.setattr(files.os, "rename", rename)
    with pytest.raises(OSError, match="busy"):
        files.write_set(folder, {"a.csv": b"A", "b.csv": b"b"}, force=True)
    assert _listing(folder) == {"a.csv": b"a"}
    assert _staged(folder) == []


# A child process that publishes a set and is killed by the parent (or kills itself at a
# chosen step, patched in below).
_CHILD = """
import os, sys
from engine import files
folder, tag, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
content = {f"t{i:04d}.csv": (f"{tag} {i} ".encode() * size)[:size] for i in range(n)}
%s
print("ready", flush=True)
files.write_set(folder, content, force=True)
print("done", flush=True)
"""


def _child(folder: Path, tag: str, n: int, size: int, patch: str = "") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD % patch, str(folder), tag, str(n),
                             str(size)], stdout=subprocess.PIPE, text=True)


def test_killed_between_the_two_renames_is_rolled_forward(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    files.write_set(folder, {"notes.txt": b"kept", **_set("old", 3, 10)})
    patch = ("files._RENAMEAT2 = None\n"
             "real, calls = os.rename, []\n"
             "def rename(a, b):\n"
             "    calls.append(a)\n"
             "    if len(calls) == 2:\n"
             "        os._exit(9)\n"
             "    real(a, b)\n"
             "os.rename = rename\n")
    child = _child(folder, "new", 5, 10, patch)
    out, _ = child.communicate()
    assert child.returncode == 9 and "done" not in out
    assert not folder.exists()  # the one instant of the fallback without a folder
    assert len(_staged(folder)) == 2
    files.write_set(folder, {"later.txt": b"later"})
    assert _listing(folder) == {"notes.txt": b"kept", **_set("new", 5, 10),
                                "later.txt": b"later"}
    assert _staged(folder) == []


def test_killed_after_the_swap_loses_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    files.write_set(folder, {"notes.txt": b"kept", **_set("old", 3, 10)})
    # A file written into the folder while the new version is staged (after the mirror)
    # is in the previous version only; the kill comes before that version is emptied.
    patch = ("real_exchange = files._exchange\n"
             "def exchange(new, target):\n"
             "    (target / 'late.txt').write_bytes(b'late')\n"
             "    return real_exchange(new, target)\n"
             "files._exchange = exchange\n"
             "files._retire = lambda *args: os._exit(9)\n")
    child = _child(folder, "new", 5, 10, patch)
    child.communicate()
    assert child.returncode == 9
    assert _listing(folder) == {"notes.txt": b"kept", **_set("new", 5, 10)}
    assert len(_staged(folder)) == 1
    files.write_set(folder, {"later.txt": b"later"})
    assert _listing(folder) == {"notes.txt": b"kept", **_set("new", 5, 10),
                                "late.txt": b"late", "later.txt": b"later"}
    assert _staged(folder) == []


def test_sigkill_at_random_moments_leaves_the_previous_state_or_the_whole_set(
        tmp_path: Path) -> None:
    """20 exports of 400 files, each killed at a random moment of its run."""
    n, size = 400, 16384
    rng = random.Random(20261130)
    # How long one export takes a child here, from "ready" to "done": the kills are
    # spread over that span and a little beyond (so that some exports complete).
    child = _child(tmp_path / "calibration", "c", n, size)
    assert child.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    assert child.stdout.readline().strip() == "done"
    span = time.perf_counter() - t0
    child.wait()
    child.stdout.close()
    decoy = tmp_path / ".export0.other"  # not of the staging scheme: never touched
    decoy.mkdir()
    found: collections.Counter[str] = collections.Counter()
    states = []
    for trial in range(20):
        folder = tmp_path / f"export{trial}"
        previous = None
        if trial % 2:  # half into a folder holding an earlier export and a file of the user
            previous = {"notes.txt": b"kept", **_set("old", n // 2, 100)}
            files.write_set(folder, previous)
        child = _child(folder, "new", n, size)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.25 * span))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        state = _listing(folder)
        if state == previous:
            found["previous state"] += 1
        elif state == {**(previous or {}), **_set("new", n, size)}:
            found["complete new set"] += 1
        else:
            pytest.fail(f"trial {trial}: a partial export, {len(state or {})} files; "
                        f"so far {dict(found)}")
        found["kills that left staging folders"] += bool(_staged(folder))
        states.append((folder, state))
    print(f"SIGKILL outcomes over {len(states)} exports (span {span:.3f} s): {dict(found)}")
    # The next write cleans what the kills left, and keeps what was published.
    for folder, state in states:
        files.write_set(folder, {"later.txt": b"later"})
        assert _staged(folder) == []
        assert _listing(folder) == {**(state or {}), "later.txt": b"later"}
    assert decoy.is_dir()


# --------------------------------------------------------------------------- provenance


def test_provenance_has_parameters_versions_and_conventions() -> None:
    cfg = make_config()
    prov = provenance(cfg, seeds=[3, 7])
    assert PROV_KEYS <= set(prov)
    assert prov["config"] == cfg.to_dict()
    assert prov["seeds"] == [3, 7]
    assert prov["app_version"] == engine.__version__
    assert prov["numpy"] == np.__version__
    assert prov["date"].endswith("+00:00")  # UTC
    assert prov["derived"] == {"p": 40, "n": 80, "n0": None, "lam_int": 0.05,
                               "large_batch": True}
    conv = " ".join(prov["conventions"].values())
    for text in ("eta = eta_tilde * sqrt(p)", "lam_int = lam * p / n", "p = round(beta * d)",
                 "n = round(alpha * d)", "n0 = round(alpha0 * d)", "large-batch",
                 "(1/n) Phi^T Phi", "variance Delta", "'labels'", "unit sphere",
                 "N(0, I_d/d)"):
        assert text in conv, text
    # the conventions' source is the package's own documentation, with its version
    assert prov["conventions_doc"] == (f"docs/model.md#conventions of Feature Spectrum Lab "
                                       f"{engine.__version__}")
    # every document it names is one of the package's own docs
    docs = {f.name for f in (Path(__file__).resolve().parents[2] / "docs").glob("*.md")}
    assert set(re.findall(r"[\w-]+\.md", json.dumps(prov))) <= docs
    json.dumps(prov, allow_nan=False)  # strict JSON


# --------------------------------------------------------------------------- encoding


def test_result_round_trip_is_exact_through_json_text() -> None:
    r = make_result()
    text = json.dumps(result_to_dict(r), allow_nan=False)  # strict JSON: no NaN literal
    back = result_from_dict(json.loads(text))
    assert_results_equal(r, back)
    assert back.config == r.config
    # the awkward values really were there
    pt = back.curves[1].points[1]
    assert pt.theory_spectrum.edges.shape == (0, 2)
    assert math.isnan(pt.theory_spectrum.convergence.residual)
    assert np.signbit(pt.theory_spectrum.density[0])
    assert back.curves[0].points[0].srf_params.constants["weird"] == math.inf
    assert type(back.curves[0].points[1].value) is int
    assert back.curves[1].overrides == {"alpha0": 5.0}


def test_exotic_values_round_trip() -> None:
    values = [np.float32(1.5), np.int64(-3), np.array([1 + 2j, np.nan - 1j]),
              np.arange(6, dtype=np.int32).reshape(2, 3), [1, (2.0, None)], {"k": -math.inf},
              np.array([[np.inf, -np.inf]])]
    for v in values:
        back = _decode_any(json.loads(json.dumps(encode(v), allow_nan=False)), "v")
        if isinstance(v, np.ndarray):
            assert back.dtype == v.dtype and np.array_equal(back, v, equal_nan=True)
        else:
            assert type(back) is type(v) and back == v
    with pytest.raises(TypeError, match="dict key"):
        encode({1: 2})


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["curves"][0]["points"][0]["theory_spectrum"]["grid"]["data"].pop(),
     "curves[0].points[0].theory_spectrum.grid: corrupt array"),
    (lambda d: d["curves"][0]["points"][0]["sims"]["network"][0].__setitem__(
        "eigenvalues", {"__ndarray__": 1, "dtype": "<f8", "shape": [2], "data": ["x", 1]}),
     "sims.network[0].eigenvalues: corrupt array"),
    (lambda d: d.__setitem__("success", "yes"), "result.success: expected true or false"),
    (lambda d: d["curves"][0].__setitem__("label", 3), "curves[0].label: expected a string"),
    (lambda d: d["curves"][0]["points"][0]["theory_ridge"].pop("test_error"),
     "missing field 'test_error'"),
    (lambda d: d["curves"][0]["points"][0]["model"].__setitem__("beta", -1),
     "points[0].model: invalid ModelConfig: model.beta must be > 0"),
    (lambda d: d.__setitem__("encoding", 99), "encoding 99 is newer"),
    (lambda d: d["curves"][0]["points"][0].__setitem__("new_field", 1), "unknown field"),
])
def test_corrupt_result_names_the_field(mutate, where: str) -> None:
    d = json.loads(json.dumps(result_to_dict(make_result()), allow_nan=False))
    mutate(d)
    with pytest.raises(DecodeError) as exc:
        result_from_dict(d)
    assert where in str(exc.value)


# --------------------------------------------------------------------------- files


def test_write_result_all_formats_carry_provenance(tmp_path: Path) -> None:
    r = make_result()
    files = write_result(r, tmp_path / "out")
    names = {f.name for f in files}
    assert {"result.json", "arrays.npz", "theory_spectrum.csv", "sim_eigenvalues.csv",
            "sim_errors.csv", "theory_errors.csv", "sim_histogram.csv"} <= names
    assert all(f.exists() for f in files)

    for f in files:
        if f.suffix != ".csv":
            continue
        prov = read_csv_provenance(f)
        assert {"app", "app_version", "numpy", "scipy", "date", "seeds", "config.model.d",
                "config.model.eta_tilde", "conventions.eta", "conventions.lam"} <= set(prov)
        assert prov["seeds"] == "[3, 7]"
        rows = list(csv.reader(line for line in f.read_text().splitlines()
                               if not line.startswith("#")))
        header, body = rows[0], rows[1:]
        assert header[:2] == ["curve", "alpha [sweep value]"]
        assert body and all(len(row) == len(header) for row in body)

    # tidy eigenvalue table: every eigenvalue of every seed, exactly
    f = tmp_path / "out" / "sim_eigenvalues.csv"
    rows = list(csv.DictReader(line for line in f.read_text().splitlines()
                               if not line.startswith("#")))
    sel = [float(row["eigenvalue [1]"]) for row in rows if row["curve"] == "alpha0 = 5"
           and row["model"] == "srf" and row["seed"] == "7" and row["state"] == "after"
           and row["alpha [sweep value]"] == "2"]
    expected = r.curves[1].points[1].sims["srf"][1].eigenvalues
    assert np.array_equal(sel, expected)

    # histogram of the bulk: the separated outliers are outside its range, and it
    # integrates to the bulk's share of all eigenvalues (the theory's normalisation)
    f = tmp_path / "out" / "sim_histogram.csv"
    rows = [row for row in csv.DictReader(line for line in f.read_text().splitlines()
                                          if not line.startswith("#"))
            if row["curve"] == "large batch" and row["alpha [sweep value]"] == "1.0"
            and row["model"] == "network" and row["state"] == "after"]
    lo = np.array([float(row["bin_lo [1]"]) for row in rows])
    hi = np.array([float(row["bin_hi [1]"]) for row in rows])
    dens = np.array([float(row["density [1/eigenvalue] (bulk, seeds pooled)"]) for row in rows])
    sims = r.curves[0].points[0].sims["network"]
    p = sims[0].eigenvalues.size
    assert hi.max() < min(s.outliers.min() for s in sims)
    assert np.sum(dens * (hi - lo)) == pytest.approx((p - 1) / p)

    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    assert PROV_KEYS <= set(doc["provenance"])
    assert_results_equal(r, result_from_dict(doc["result"]))

    with np.load(tmp_path / "out" / "arrays.npz", allow_pickle=False) as z:
        prov = json.loads(str(z["provenance"]))
        assert PROV_KEYS <= set(prov)
        assert np.array_equal(z["c0_p1_network_seed3_eigenvalues"],
                              r.curves[0].points[1].sims["network"][0].eigenvalues)
        assert np.array_equal(z["c1_p0_theory_grid"], r.curves[1].points[0].theory_spectrum.grid)
        assert np.array_equal(z["sweep_values"], [1.0, 2.0])


def test_write_result_refuses_overwrite_without_force(tmp_path: Path) -> None:
    r = make_result()
    write_result(r, tmp_path, formats=("json",))
    before = (tmp_path / "result.json").read_bytes()
    with pytest.raises(FileExistsError, match="already exist"):
        write_result(r, tmp_path, formats=("csv", "json"))
    # nothing at all was written: not even the CSVs that did not exist yet
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]
    assert (tmp_path / "result.json").read_bytes() == before
    files = write_result(r, tmp_path, formats=("csv", "json"), force=True)
    assert len(files) > 2
    with pytest.raises(ValueError, match="formats"):
        write_result(r, tmp_path, formats=("xlsx",))


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("preset", ["Large step, a = ±1", "Finite batch"])
def test_end_to_end_run_write_and_reload(preset: str, tmp_path: Path) -> None:
    """A real engine.runner.run result survives every file format exactly."""
    from dataclasses import replace

    from engine.config import NumericsConfig
    from engine.presets import load_preset
    from engine.runner import run
    from engine.session import load_session, save_session

    cfg = load_preset(preset).with_model(d=40).with_run(seeds=(0, 1))
    cfg = replace(cfg, numerics=NumericsConfig(q_kappa=30, q_inner=30, q2=15, n_grid=120))
    result = run(cfg)
    assert result.curves[0].points[0].sims  # simulated, not just theory

    files = write_result(result, tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    assert_results_equal(result, result_from_dict(doc["result"]))
    assert doc["provenance"]["seeds"] == [0, 1]
    assert any(f.name == "sim_eigenvalues.csv" for f in files)

    session = load_session(save_session(tmp_path / "s.json", cfg, result))
    assert session.config == cfg
    assert_results_equal(result, session.result)
    net = result.curves[0].points[0].sims["network"][1]
    with np.load(tmp_path / "out" / "arrays.npz") as z:
        assert np.array_equal(z["c0_p0_network_seed1_eigenvalues"], net.eigenvalues)


def test_dumps_keeps_arrays_on_one_line_and_strings_intact() -> None:
    doc = {"label": 'odd "@@array-0@@" \x00 text', "a": encode(np.arange(1000.0)),
           "nested": [encode(np.array([[np.nan, 1.5]]))]}
    text = dumps(doc)
    assert json.loads(text)["label"] == doc["label"]
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert text.count("\n") < 30  # 1000 numbers do not take 1000 lines
