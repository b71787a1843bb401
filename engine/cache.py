"""The result cache: every simulation task's result under a content hash of its inputs.

A task is one simulated model at one parameter point and one seed. Its key is the
SHA-256 of a canonical JSON document (:func:`task_document`): the point's model (every
parameter), the run kind (which spectra the task computes) and test-set size, the
simulation's numerics (chunking, quadrature, block seeding: :func:`simulation_numerics`),
the seed, the simulated model and the engine version. Runs look their tasks up before
computing them, so a rerun computes only what is missing: an interrupted sweep resumes,
and a grid refined with new values reuses the cells it already had
(docs/cli.md#the-result-cache).

One entry is one ``.npz`` file, ``<folder>/<key[:2]>/<key>.npz``, written to a temporary
file and renamed into place (atomic): arrays are stored in binary, so a cached result
comes back bit for bit. Its ``meta`` member (JSON) repeats the task document, and the
SHA-256 of every array. An entry whose document, checksums, fields or zip structure do
not match exactly is counted as corrupt, deleted and recomputed: never trusted.

The folder is bounded (:data:`DEFAULT_LIMIT_BYTES`): once it grows past its limit the
least recently used entries are evicted (a hit refreshes an entry's time).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import ModelConfig
from engine.results import SimSeed

#: Version of the entry layout (part of every key).
CACHE_FORMAT = 1
#: Default size limit of the cache folder (bytes).
DEFAULT_LIMIT_BYTES = 2 * 2**30
#: Eviction keeps the folder below this share of its limit, so that it does not run on
#: every write once the folder is full.
EVICT_TO = 0.9
#: Look at the folder's size after this many writes (and when a run ends).
PRUNE_EVERY = 50
#: A temporary file older than this (s) is the leftover of a killed writer.
STALE_TEMP_S = 3600.0
#: The entries' suffix.
SUFFIX = ".npz"


class CacheCorrupt(Exception):  # noqa: N818 - caught inside this module, never escapes
    """An entry that does not decode exactly to what its key promises."""


def default_cache_dir() -> Path:
    """The user's cache folder of the app (``~/.cache/feature-spectrum-lab/simulations``
    on Linux; the platform's convention elsewhere)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("feature-spectrum-lab")) / "simulations"


def simulation_numerics() -> dict[str, Any]:
    """The engine constants a simulation's numbers depend on (part of every key)."""
    from engine import gradient, sampling

    return {"chunk_numbers": sampling.CHUNK_NUMBERS, "chunk_work": sampling.CHUNK_WORK,
            "block_rows": sampling.BLOCK_ROWS, "streams": list(sampling.STREAMS),
            "quad_nodes": gradient.QUAD_NODES, "row_block": gradient.ROW_BLOCK,
            "full_residual_mc_alpha": gradient.FULL_RESIDUAL_MC_ALPHA}


def task_document(model: ModelConfig, kind: str, n_test: int | None, simulated: str,
                  seed: int) -> dict[str, Any]:
    """What a simulation task's result depends on: the content of its key.

    Parameters
    ----------
    model : ModelConfig
        The point's model.
    kind : {"spectrum", "weights", "errors"}
        The run kind (which spectra the task computes).
    n_test : int or None
        ``run.n_test`` (None is resolved to ``max(n, 2000)``, its meaning).
    simulated : {"network", "srf"}
    seed : int
    """
    import engine
    from engine.network import default_n_test

    return {"format": CACHE_FORMAT, "engine": engine.__version__, "simulated": simulated,
            "seed": int(seed), "kind": kind, "n_test": default_n_test(model, n_test),
            "model": model.to_dict(), "numerics": simulation_numerics()}


def _canonical(doc: Any) -> str:
    # sort_keys and repr-exact floats: one text per document.
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)


def task_key(document: dict[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical JSON text of a task document."""
    return hashlib.sha256(_canonical(document).encode()).hexdigest()


def _digest(a: np.ndarray) -> str:
    head = f"{a.dtype.str}{a.shape}".encode()
    return hashlib.sha256(head + np.ascontiguousarray(a).tobytes()).hexdigest()


# --------------------------------------------------------------------------- encoding

_FIELDS = tuple(f.name for f in dataclasses.fields(SimSeed))


def encode_entry(key: str, document: dict[str, Any], seed: SimSeed) -> bytes:
    """The ``.npz`` bytes of one entry: ``meta`` (JSON) and one array per array field.

    Floats are stored as 0-d float64 arrays (exact), ints and strings in ``meta``.
    """
    fields: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name in _FIELDS:
        value = getattr(seed, name)
        if value is None:
            fields[name] = {"kind": "none"}
        elif isinstance(value, (bool, np.bool_)):
            raise TypeError(f"SimSeed.{name}: booleans are not stored")
        elif isinstance(value, str):
            fields[name] = {"kind": "str", "value": value}
        elif isinstance(value, (int, np.integer)):
            fields[name] = {"kind": "int", "value": int(value)}
        else:
            kind = "array" if isinstance(value, np.ndarray) else "float"
            arr = np.asarray(value) if kind == "array" else np.asarray(float(value))
            arrays[f"f_{name}"] = arr
            fields[name] = {"kind": kind, "sha256": _digest(arr)}
    meta = {"format": CACHE_FORMAT, "key": key, "task": document, "fields": fields}
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(_canonical(meta)), **arrays)
    return buf.getvalue()


def decode_entry(data: bytes, key: str, document: dict[str, Any]) -> SimSeed:
    """The :class:`SimSeed` of an entry, checked against ``key`` and ``document``.

    Raises
    ------
    CacheCorrupt
        Any mismatch: zip structure or CRC, meta, task document, field set, checksums.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"][()]))
            members = {name: z[name] for name in z.files if name != "meta"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            json.JSONDecodeError) as exc:
        raise CacheCorrupt(f"unreadable entry ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT \
            or meta.get("key") != key or meta.get("task") != document:
        raise CacheCorrupt("the entry belongs to another task or format")
    fields = meta.get("fields")
    if not isinstance(fields, dict) or set(fields) != set(_FIELDS):
        raise CacheCorrupt("the entry's fields are not those of a SimSeed")
    values = {name: _field(name, fields[name], members) for name in _FIELDS}
    if set(members) != {f"f_{n}" for n, f in fields.items() if f.get("kind") in
                        ("array", "float")}:
        raise CacheCorrupt("the entry holds arrays it does not describe")
    return SimSeed(**values)


def _field(name: str, spec: Any, members: dict[str, np.ndarray]) -> Any:
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind == "none":
        return None
    if kind in ("str", "int"):
        value = spec.get("value")
        if kind == "str" and isinstance(value, str):
            return value
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        raise CacheCorrupt(f"field {name}: not a {kind}")
    arr = members.get(f"f_{name}")
    if kind not in ("array", "float") or arr is None or _digest(arr) != spec.get("sha256"):
        raise CacheCorrupt(f"field {name}: missing or its checksum does not match")
    if kind == "float":
        if arr.shape != () or arr.dtype != np.float64:
            raise CacheCorrupt(f"field {name}: not a float")
        return float(arr[()])
    return arr


# --------------------------------------------------------------------------- the folder


@dataclass
class CacheStats:
    """What a cache did since it was opened: hits, misses, writes, corrupt entries
    (recomputed), evicted entries."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0
    evicted: int = 0


@dataclass(frozen=True)
class CacheInfo:
    """A cache folder: its path, entries, total size and limit (bytes)."""

    folder: Path
    entries: int
    size: int
    limit: int

    def text(self) -> str:
        return (f"{self.folder}: {self.entries} entries, {self.size / 2**20:.1f} MiB of "
                f"{self.limit / 2**20:.0f} MiB")


class ResultCache:
    """A folder of simulation results keyed by content (module docstring).

    Parameters
    ----------
    folder : path or None
        None: :func:`default_cache_dir`. Created on the first write.
    limit_bytes : int
        Size limit of the folder; the least recently used entries go first.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None, *,
                 limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.limit_bytes = int(limit_bytes)
        self.stats = CacheStats()
        self._writes_since_prune = 0

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{SUFFIX}"

    # Tasks -------------------------------------------------------------------------
    def get(self, document: dict[str, Any]) -> SimSeed | None:
        """The cached result of the task ``document`` (None: missing or corrupt)."""
        key = task_key(document)
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.stats.misses += 1
            return None
        try:
            seed = decode_entry(data, key, document)
        except CacheCorrupt:
            self.stats.corrupt += 1
            self.stats.misses += 1
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        self.stats.hits += 1
        return seed

    def put(self, document: dict[str, Any], seed: SimSeed) -> None:
        """Store the result of the task ``document`` (atomically)."""
        key = task_key(document)
        path = self.path(key)
        data = encode_entry(key, document, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.stats.writes += 1
        self._writes_since_prune += 1
        if self._writes_since_prune >= PRUNE_EVERY:
            self.prune()

    # The folder --------------------------------------------------------------------
    def _entries(self) -> list[tuple[float, int, Path]]:
        """``(mtime, size, path)`` of every entry; stale temporary files are removed."""
        out = []
        if not self.folder.is_dir():
            return out
        now = time.time()
        for sub in self.folder.iterdir():
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for entry in os.scandir(sub):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if entry.name.endswith(SUFFIX):
                    out.append((st.st_mtime, st.st_size, Path(entry.path)))
                elif entry.name.endswith(".tmp") and now - st.st_mtime > STALE_TEMP_S:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        return out

    def info(self) -> CacheInfo:
        entries = self._entries()
        return CacheInfo(self.folder, len(entries), sum(s for _, s, _ in entries),
                         self.limit_bytes)

    def prune(self) -> int:
        """Evict the least recently used entries while the folder exceeds its limit
        (down to :data:`EVICT_TO` of it); returns how many were evicted."""
        self._writes_since_prune = 0
        entries = self._entries()
        total = sum(s for _, s, _ in entries)
        if total <= self.limit_bytes:
            return 0
        evicted = 0
        for _, size, path in sorted(entries):
            if total <= EVICT_TO * self.limit_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
                evicted += 1
        self.stats.evicted += evicted
        return evicted

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        entries = self._entries()
        for _, _, path in entries:
            with contextlib.suppress(OSError):
                path.unlink()
        if self.folder.is_dir():
            for sub in self.folder.iterdir():
                if sub.is_dir() and len(sub.name) == 2:
                    with contextlib.suppress(OSError):
                        sub.rmdir()  # only when empty
        return len(entries)


def clear_cache(folder: str | os.PathLike[str] | None = None) -> int:
    """Delete every entry of the cache at ``folder`` (None: the user's); the GUI's
    "Clear cache". Returns how many entries were deleted."""
    return ResultCache(folder).clear()


def cache_info(folder: str | os.PathLike[str] | None = None) -> CacheInfo:
    """Entries and size of the cache at ``folder`` (None: the user's)."""
    return ResultCache(folder).info()
