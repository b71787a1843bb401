"""The result cache: content keys, exact entries, corruption, eviction, resuming a killed run."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import cache as cache_mod
from engine.cache import ResultCache, task_document, task_key
from engine.config import Config, ModelConfig
from engine.runner import run, simulate_task

ROOT = Path(__file__).resolve().parents[2]
MODEL = ModelConfig(d=80, noise=0.1)


def _seed(kind="spectrum", model=MODEL, seed=3):
    return simulate_task("network", model, kind, 200, seed)


def _same(a, b) -> bool:
    """Bit for bit: every field, arrays with their dtype and shape."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            if not (isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape
                    and x.tobytes() == y.tobytes()):
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


def test_an_entry_comes_back_bit_for_bit(tmp_path):
    cache = ResultCache(tmp_path)
    seed = _seed()
    assert seed.eigenvalues is not None and seed.weight_eigenvalues is None
    doc = task_document(MODEL, "spectrum", 200, "network", 3)
    assert cache.get(doc) is None
    cache.put(doc, seed)
    back = cache.get(doc)
    assert _same(back, seed)
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)
    path = cache.path(task_key(doc))
    assert path.parent.parent == tmp_path and path.name == f"{task_key(doc)}.npz"
    assert not list(path.parent.glob("*.tmp"))  # written atomically, nothing left over


def test_the_key_follows_every_input(monkeypatch):
    base = task_document(MODEL, "errors", None, "network", 0)
    others = [task_document(MODEL.with_(alpha=2.5), "errors", None, "network", 0),
              task_document(MODEL, "spectrum", None, "network", 0),
              task_document(MODEL, "errors", 999, "network", 0),
              task_document(MODEL, "errors", None, "srf", 0),
              task_document(MODEL, "errors", None, "network", 1)]
    keys = {task_key(d) for d in [base, *others]}
    assert len(keys) == 6
    # n_test None means max(n, 2000): the same task as writing it out
    assert task_key(task_document(MODEL, "errors", 2000, "network", 0)) == task_key(base)
    monkeypatch.setattr(engine, "__version__", "99.0")
    assert task_key(task_document(MODEL, "errors", None, "network", 0)) != task_key(base)
    monkeypatch.setattr(cache_mod, "simulation_numerics", lambda: {"chunk_numbers": 1})
    assert "chunk_numbers" in task_document(MODEL, "errors", None, "network", 0)["numerics"]


def _corruptions(path: Path, other: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    flipped = bytearray(data)
    # a byte inside the eigenvalues' data (the members are stored, not compressed)
    mid = data.index(b"f_eigenvalues.npy") + 200
    flipped[mid] ^= 0x40
    return [("truncated", data[: len(data) // 2]), ("flipped", bytes(flipped)),
            ("empty", b""), ("garbage", b"PK\x03\x04 not a zip"),
            ("another task's entry", other.read_bytes())]


def test_a_corrupt_entry_is_recomputed_never_trusted(tmp_path):
    cache = ResultCache(tmp_path)
    doc = task_document(MODEL, "spectrum", 200, "network", 3)
    other = task_document(MODEL, "spectrum", 200, "network", 4)
    seed = _seed()
    cache.put(doc, seed)
    cache.put(other, _seed(seed=4))
    path = cache.path(task_key(doc))
    for what, data in _corruptions(path, cache.path(task_key(other))):
        path.write_bytes(data)
        before = cache.stats.corrupt
        assert cache.get(doc) is None, what
        assert cache.stats.corrupt == before + 1, what
        assert not path.exists(), what  # removed, to be written again
        cache.put(doc, seed)
    assert _same(cache.get(doc), seed)


def _errors_config(values, seeds=(0, 1)) -> Config:
    return Config.from_dict({"model": {"d": 60, "noise": 0.1}, "run": {
        "kind": "errors", "theory": False, "simulate": ["network"], "seeds": list(seeds),
        "n_test": 300, "grid": {"x": {"param": "alpha", "values": list(values)},
                                "y": {"param": "lam", "values": [0.1, 1.0]}}}})


def _values(result):
    return [(s.test_error, s.train_error) for c in result.curves for p in c.points
            for s in p.sims["network"]]


def test_a_run_with_a_corrupt_entry_equals_a_clean_run(tmp_path):
    cfg = _errors_config([0.5, 1.0])
    clean = _values(run(cfg))
    cache = ResultCache(tmp_path)
    run(cfg, cache=cache)
    entries = sorted(tmp_path.glob("*/*.npz"))
    assert len(entries) == 8
    entries[3].write_bytes(entries[3].read_bytes()[:100])
    again = ResultCache(tmp_path)
    assert _values(run(cfg, cache=again)) == clean
    assert (again.stats.hits, again.stats.corrupt, again.stats.writes) == (7, 1, 1)


def test_a_refined_grid_computes_only_its_new_cells(tmp_path):
    cache = ResultCache(tmp_path)
    first = run(_errors_config([0.5, 2.0]), cache=cache)
    assert cache.stats.writes == 8 and cache.stats.hits == 0
    refined = ResultCache(tmp_path)
    second = run(_errors_config([0.5, 1.0, 2.0]), cache=refined)
    assert refined.stats.hits == 8 and refined.stats.writes == 4
    # the reused cells are the very same numbers
    old = {p.value: _values_at(p) for p in first.curves[0].points}
    new = {p.value: _values_at(p) for p in second.curves[0].points}
    assert all(new[v] == old[v] for v in old)


def _values_at(point):
    return [(s.test_error, s.train_error) for s in point.sims["network"]]


def test_eviction_removes_the_least_recently_used(tmp_path):
    cache = ResultCache(tmp_path)
    docs = [task_document(MODEL, "errors", 200, "network", s) for s in range(4)]
    for doc in docs:
        cache.put(doc, _seed(kind="errors", seed=doc["seed"]))
    sizes = [cache.path(task_key(d)).stat().st_size for d in docs]
    now = time.time()
    for age, doc in zip((400, 300, 200, 100), docs, strict=True):
        os.utime(cache.path(task_key(doc)), (now - age, now - age))
    cache.get(docs[0])  # used just now: evicted last
    small = ResultCache(tmp_path, limit_bytes=int(sum(sizes) * 0.6))
    assert small.prune() == 2
    assert [small.path(task_key(d)).exists() for d in docs] == [True, False, False, True]
    assert small.info().size <= small.limit_bytes


def test_info_clear_and_the_command_line(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put(task_document(MODEL, "errors", 200, "network", 0), _seed(kind="errors"))
    info = cache.info()
    assert info.entries == 1 and info.size > 0 and info.folder == tmp_path
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "engine", "cache", "info", "--cache",
                          str(tmp_path)], capture_output=True, text=True, env=env, check=True)
    assert "1 entries" in out.stdout and str(tmp_path) in out.stdout
    out = subprocess.run([sys.executable, "-m", "engine", "cache", "clear", "--cache",
                          str(tmp_path)], capture_output=True, text=True, env=env, check=True)
    assert "removed 1 cached result" in out.stdout
    assert cache.info().entries == 0 and cache_mod.clear_cache(tmp_path) == 0


def test_a_killed_run_resumes_from_the_cache(tmp_path):
    """SIGKILL a CLI run after some tasks; the rerun computes only the rest."""
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model": {"d": 400, "alpha": 2.0, "noise": 0.1}, "run": {
        "kind": "errors", "theory": False, "simulate": ["network", "srf"],
        "seeds": list(range(6)), "n_test": 2000,
        "sweep": {"param": "lam", "values": [0.1, 1.0]}}}))
    store = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "engine", "run", str(cfg), "--workers", "1", "--quiet",
           "--cache", str(store)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(store.glob("*/*.npz"))) < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    done = len(list(store.glob("*/*.npz")))
    assert 3 <= done < 24
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["execution"]
    assert report["tasks"] == 24
    assert report["cached"] == done and report["computed"] == 24 - done
    assert report["corrupt"] == 0  # a killed writer leaves no half-written entry
    fresh = subprocess.run([*cmd[:-2], "--no-cache", "--json"], capture_output=True,
                           text=True, env=env, check=True)
    assert json.loads(fresh.stdout)["network"] == json.loads(out.stdout)["network"]
    assert json.loads(fresh.stdout)["srf"] == json.loads(out.stdout)["srf"]


def test_the_default_folder_is_the_users_cache(monkeypatch, tmp_path):
    if sys.platform != "linux":
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ResultCache().folder == tmp_path / "feature-spectrum-lab" / "simulations"
