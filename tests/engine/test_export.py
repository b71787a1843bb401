"""engine.export: atomic writes, provenance, exact encoding, CSV/JSON/NPZ files."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from synthetic import assert_results_equal, make_config, make_result

import engine
from engine import export
from engine.export import (
    DecodeError,
    atomic_write_bytes,
    atomic_write_text,
    provenance,
    read_csv_provenance,
    result_from_dict,
    result_to_dict,
    write_result,
)

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

    monkeypatch.setattr(export.os, "replace", boom)
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

    monkeypatch.setattr(export.os, "fsync", bad_fsync)
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
    from engine.export import _decode_any, encode

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

    config, back = load_session(save_session(tmp_path / "s.json", cfg, result))
    assert config == cfg
    assert_results_equal(result, back)
    net = result.curves[0].points[0].sims["network"][1]
    with np.load(tmp_path / "out" / "arrays.npz") as z:
        assert np.array_equal(z["c0_p0_network_seed1_eigenvalues"], net.eigenvalues)


def test_dumps_keeps_arrays_on_one_line_and_strings_intact() -> None:
    from engine.export import dumps, encode

    doc = {"label": 'odd "@@array-0@@" \x00 text', "a": encode(np.arange(1000.0)),
           "nested": [encode(np.array([[np.nan, 1.5]]))]}
    text = dumps(doc)
    assert json.loads(text)["label"] == doc["label"]
    assert json.loads(text) == json.loads(json.dumps(doc))
    assert text.count("\n") < 30  # 1000 numbers do not take 1000 lines
