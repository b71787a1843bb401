"""Files: atomic writes, provenance, and results to CSV / JSON / NPZ (docs/configuration.md).

Every file written here carries its *provenance*: all parameters, the seeds, the app
and library versions, the date, and the conventions of docs/model.md#conventions spelled out, so a
number in a file can always be traced back to what produced it.

Files are written atomically: the bytes go to a temporary file in the destination
directory, are flushed and ``fsync``-ed, and the temporary file is then renamed over
the destination (``os.replace``, atomic on POSIX and Windows). A crash or an error
mid-way leaves the old file intact and no temporary file behind.

:func:`result_to_dict` / :func:`result_from_dict` turn a :class:`~engine.results.RunResult`
into plain JSON-able data and back *exactly* (every array bit for bit, shapes and
dtypes included); sessions (:mod:`engine.session`) are built on them.

This module never imports Qt.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as _dt
import io
import json
import math
import os
import platform
import tempfile
import types
import typing
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy

import engine
from engine import results as _results
from engine.config import ALaw, Config, ConfigError, ModelConfig
from engine.errors import EngineError

APP_NAME = "feature-spectrum-lab"

#: Version of the encoding produced by :func:`result_to_dict`.
RESULT_ENCODING = 1

#: The conventions of docs/model.md#conventions, written verbatim into every export.
CONVENTIONS: dict[str, str] = {
    "inputs": "x ~ N(0, I_d); target direction theta with |theta| = 1 (random, seeded)",
    "labels": "y = sigma_star(<theta, x>) + sqrt(Delta) * xi, xi ~ N(0, 1); "
              "model.noise is the variance Delta",
    "network": "f(x) = (1/sqrt(p)) * sum_i a_i * sigma(<w_i, x>), i = 1..p",
    "w_init": "rows w_i of W0 uniform on the unit sphere ('sphere') or N(0, I_d/d) "
              "('gaussian')",
    "a_law": "a_i i.i.d. from the finitely supported law model.a_law (values, probs)",
    "step": "one gradient step W1 = W0 - eta * grad_W L, "
            "L = (1/(2 n0)) sum_nu (y_nu - f(x_nu))^2",
    "eta": "eta = eta_tilde * sqrt(p) (maximal scaling; each row moves by O(1))",
    "residual": "'labels': r_nu = y_nu (network output at initialisation removed, as the "
                "theory assumes); 'full': r_nu = y_nu - f(x_nu; W0, a)",
    "batch": "n0 = round(alpha0 * d); alpha0 = null is the large-batch limit "
             "(population gradient, Delta w_i = eta_tilde * a_i * mu1 * mu1_star * theta)",
    "sizes": "p = round(beta * d), n = round(alpha * d), n0 = round(alpha0 * d)",
    "readout": "a_hat = argmin_a sum_nu (y_nu - a . sigma(F x_nu)/sqrt(p))^2 + lam |a|^2 "
               "on n fresh samples (sum over samples, not mean)",
    "lam": "lam in the sum convention; the engine's internal ridge is lam_int = lam * p / n",
    "features": "Phi is the n x p matrix sigma(F x_nu); spectra are those of the feature "
                "covariance (1/n) Phi^T Phi (p x p)",
    "outliers": "order-p outlier positions are given in eigenvalue units of (1/n) Phi^T Phi",
    "weights": "weight spectra are those of W1 W1^T (p x p); F F^T for the sRF model",
    "test_error": "E (y - f_hat(x))^2 on fresh data (includes the noise Delta)",
    "hermite": "mu1 = E[z sigma(z)], mu1_star = E[z sigma_star(z)], z ~ N(0, 1)",
    "srf": "spiked random features F = sqrt(c) W0 + u v^T, u_i = r * a_i",
}

PathLike = str | os.PathLike[str]


# =========================================================================== atomic writes


def atomic_write_bytes(path: PathLike, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Destination. Its directory must exist.
    data : bytes
        The whole content.
    force : bool
        Overwrite an existing file. Without it an existing file is left alone.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is false.
    OSError
        On any failure to write; the old file (if any) is then unchanged and the
        temporary file is removed.
    """
    dest = Path(path)
    if not force and dest.exists():
        raise FileExistsError(f"{dest} already exists; not overwritten (use force=True, "
                              f"or --force on the command line, to replace it)")
    # The temporary file lives in the destination directory so that the final rename
    # never crosses a file system (which would make it a non-atomic copy).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp",
                                    dir=dest.parent if str(dest.parent) else ".")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600 files; give the result the usual permissions.
        with contextlib.suppress(OSError):
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        if force:
            os.replace(tmp, dest)
        else:
            _publish_exclusive(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(dest.parent)
    return dest


def _publish_exclusive(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest`` only if ``dest`` does not exist (no check-then-write race).

    A hard link fails atomically when the destination exists; on file systems
    without hard links fall back to a check followed by a rename.
    """
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise FileExistsError(f"{dest} already exists; not overwritten (use force=True, "
                              f"or --force on the command line, to replace it)") from None
    except OSError:
        if dest.exists():
            raise FileExistsError(f"{dest} already exists; not overwritten (use force=True, "
                                  f"or --force on the command line, to replace it)") from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); harmless where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: PathLike, text: str, *, force: bool = False,
                      encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`); newlines are kept as given."""
    return atomic_write_bytes(path, text.encode(encoding), force=force)


# =========================================================================== provenance


def versions() -> dict[str, str]:
    """App, Python, numpy and scipy versions, and the platform."""
    return {
        "app": engine.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def provenance(config: Config, seeds: Sequence[int] | None = None) -> dict[str, Any]:
    """Everything needed to trace a file back to what produced it.

    Parameters
    ----------
    config : Config
        The configuration that was run.
    seeds : sequence of int, optional
        The seeds actually used; defaults to ``config.run.seeds``.

    Returns
    -------
    dict
        JSON-able: ``app``, ``app_version``, ``python``, ``numpy``, ``scipy``,
        ``platform``, ``date`` (ISO 8601, UTC), ``seeds``, ``config``
        (``config.to_dict()``, all parameters), ``derived`` (``p``, ``n``, ``n0``,
        ``lam_int``, ``large_batch``) and ``conventions`` (docs/model.md#conventions as text).
    """
    v = versions()
    m = config.model
    return {
        "app": APP_NAME,
        "app_version": v["app"],
        "python": v["python"],
        "numpy": v["numpy"],
        "scipy": v["scipy"],
        "platform": v["platform"],
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seeds": [int(s) for s in (config.run.seeds if seeds is None else seeds)],
        "config": config.to_dict(),
        "derived": {"p": m.p, "n": m.n, "n0": m.n0, "lam_int": m.lam_int,
                    "large_batch": m.large_batch},
        "conventions": dict(CONVENTIONS),
    }


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, json.dumps(value, allow_nan=True) if not isinstance(value, str)
                    else value))


def provenance_header(prov: Mapping[str, Any]) -> str:
    """The provenance as ``# key: value`` comment lines (dotted keys), for CSV files."""
    items: list[tuple[str, str]] = []
    _flatten("", prov, items)
    return "".join(f"# {k}: {v}\n" for k, v in items)


# =========================================================================== exact encoding

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (_results.Convergence, _results.SRFParams, _results.TheorySpectrum,
                _results.TheoryRidge, _results.TheoryWeights, _results.Expressivity,
                _results.TailCurve, _results.SimSeed, _results.PointResult,
                _results.CurveResult, _results.RunResult)
}

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class DecodeError(EngineError, ValueError):
    """A result document that cannot be decoded; the message names the field."""


def _float_out(x: float) -> float | dict[str, str]:
    # JSON has no NaN/inf; an explicit tag keeps the files strict JSON for other tools.
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _array_out(a: np.ndarray) -> dict[str, Any]:
    if a.dtype.kind not in "biufc":
        raise TypeError(f"cannot encode an array of dtype {a.dtype} (numbers only)")
    if a.dtype.kind == "c":
        data: Any = np.stack([a.real, a.imag], axis=-1).tolist()
    else:
        data = a.tolist()
    if a.dtype.kind in "fc" and a.size and not np.isfinite(a).all():
        data = _nonfinite_to_str(data)
    # tolist() gives Python floats whose repr is the shortest exact one, so the JSON
    # text round-trips every float64 bit for bit; shape and dtype are kept explicitly
    # because an empty (0, 2) array would otherwise come back as shape (0,).
    return {"__ndarray__": RESULT_ENCODING, "dtype": a.dtype.str, "shape": list(a.shape),
            "data": data}


def _nonfinite_to_str(x: Any) -> Any:
    if isinstance(x, list):
        return [_nonfinite_to_str(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def encode(obj: Any) -> Any:
    """Encode a result (or any part of one) as JSON-able data, exactly.

    Tuples become JSON arrays; numpy arrays, non-finite floats, numpy scalars, lists
    and the dataclasses of :mod:`engine.results` / :mod:`engine.config` become tagged
    objects (``__ndarray__``, ``__float__``, ``__type__``, ...).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cannot encode numpy scalar of dtype {obj.dtype}")
        item = obj.item()
        return {"__npscalar__": obj.dtype.str,
                "value": _float_out(item) if isinstance(item, float) else item}
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return _float_out(obj)
    if isinstance(obj, np.ndarray):
        return _array_out(obj)
    if isinstance(obj, Config):
        return {"__type__": "Config", **obj.to_dict()}
    if isinstance(obj, ModelConfig):
        return {"__type__": "ModelConfig", **obj.to_dict()}
    if isinstance(obj, ALaw):
        return {"__type__": "ALaw", **obj.to_dict()}
    if dataclasses.is_dataclass(obj) and type(obj).__name__ in _TYPES:
        out: dict[str, Any] = {"__type__": type(obj).__name__}
        for f in dataclasses.fields(obj):
            out[f.name] = encode(getattr(obj, f.name))
        return out
    if isinstance(obj, tuple):
        return [encode(v) for v in obj]
    if isinstance(obj, list):
        return {"__list__": [encode(v) for v in obj]}
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot encode a dict key of type {type(k).__name__} ({k!r})")
            if k.startswith("__"):
                raise TypeError(f"dict key {k!r} is reserved for the encoding")
            out[k] = encode(v)
        return out
    raise TypeError(f"cannot encode an object of type {type(obj).__name__}")


def _fail(path: str, message: str) -> DecodeError:
    return DecodeError(f"{path}: {message}")


def _decode_array(d: Any, path: str) -> np.ndarray:
    if not isinstance(d, Mapping) or "__ndarray__" not in d:
        raise _fail(path, f"expected an array object, got {_describe(d)}")
    try:
        dtype = np.dtype(d["dtype"])
        shape = tuple(int(s) for s in d["shape"])
        data = d["data"]
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(path, f"corrupt array header ({exc})") from None
    if dtype.kind not in "biufc" or any(s < 0 for s in shape):
        raise _fail(path, f"corrupt array header (dtype {dtype}, shape {shape})")
    try:
        if dtype.kind in "fc":
            data = _str_to_nonfinite(data)
        arr = np.array(data, dtype=np.float64 if dtype.kind == "c" else dtype)
        if dtype.kind == "c":
            arr = (arr[..., 0] + 1j * arr[..., 1]).astype(dtype)
        if arr.shape != shape:
            if arr.size == 0 and math.prod(shape) == 0:
                arr = arr.reshape(shape)
            else:
                raise ValueError(f"data has shape {arr.shape}, header says {shape}")
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise _fail(path, f"corrupt array ({exc})") from None
    return arr


def _str_to_nonfinite(x: Any) -> Any:
    if isinstance(x, list):
        return [_str_to_nonfinite(v) for v in x]
    if isinstance(x, str):
        if x not in _NONFINITE:
            raise ValueError(f"{x!r} is not a number")
        return _NONFINITE[x]
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{x!r} is not a number")
    return x


def _describe(v: Any) -> str:
    if isinstance(v, Mapping):
        return "an object" + (f" of type {v['__type__']}" if "__type__" in v else "")
    if isinstance(v, list):
        return "a list"
    return f"{type(v).__name__} {v!r}"[:80]


def _decode_float(v: Any, path: str) -> float:
    if isinstance(v, Mapping) and "__float__" in v:
        if v["__float__"] not in _NONFINITE:
            raise _fail(path, f"bad non-finite float tag {v['__float__']!r}")
        return _NONFINITE[v["__float__"]]
    if isinstance(v, Mapping) and "__npscalar__" in v:
        return float(_decode_any(v, path))
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(path, f"expected a number, got {_describe(v)}")
    return float(v)


def _decode_any(v: Any, path: str) -> Any:
    """Decode a value whose type is not fixed by the schema (``Any`` fields)."""
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    if isinstance(v, list):
        return tuple(_decode_any(x, f"{path}[{i}]") for i, x in enumerate(v))
    if not isinstance(v, Mapping):
        raise _fail(path, f"unexpected {_describe(v)}")
    if "__ndarray__" in v:
        return _decode_array(v, path)
    if "__float__" in v:
        return _decode_float(v, path)
    if "__list__" in v:
        if not isinstance(v["__list__"], list):
            raise _fail(path, "corrupt list tag")
        return [_decode_any(x, f"{path}[{i}]") for i, x in enumerate(v["__list__"])]
    if "__npscalar__" in v:
        try:
            dtype = np.dtype(v["__npscalar__"])
            raw = v["value"]
            value = _decode_float(raw, path) if dtype.kind == "f" else raw
            if dtype.kind not in "biuf" or isinstance(value, (Mapping, list, str)):
                raise ValueError(f"dtype {dtype}")
            return dtype.type(value)
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(path, f"corrupt numpy scalar ({exc})") from None
    if "__type__" in v:
        return _decode_typed(v, _type_by_name(v["__type__"], path), path)
    return {k: _decode_any(x, f"{path}.{k}") for k, x in v.items()}


def _type_by_name(name: Any, path: str) -> type:
    known = {**_TYPES, "Config": Config, "ModelConfig": ModelConfig, "ALaw": ALaw}
    if name not in known:
        raise _fail(path, f"unknown object type {name!r}")
    return known[name]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(_results))


def _decode_typed(v: Any, hint: Any, path: str) -> Any:
    """Decode ``v`` against the type ``hint`` of the result schema, checking types."""
    if hint is Any:
        return _decode_any(v, path)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if v is None:
            if type(None) in args:
                return None
            raise _fail(path, "is missing (null) but required")
        rest = [a for a in args if a is not type(None)]
        return _decode_typed(v, rest[0], path) if len(rest) == 1 else _decode_any(v, path)
    if origin is tuple:
        if not isinstance(v, list):
            raise _fail(path, f"expected a list, got {_describe(v)}")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_decode_typed(x, item, f"{path}[{i}]") for i, x in enumerate(v))
    if origin is dict:
        if not isinstance(v, Mapping) or any(str(k).startswith("__") for k in v):
            raise _fail(path, f"expected an object, got {_describe(v)}")
        item = typing.get_args(hint)[1] if typing.get_args(hint) else Any
        return {k: _decode_typed(x, item, f"{path}.{k}") for k, x in v.items()}
    if hint is np.ndarray:
        return _decode_array(v, path)
    if hint is float:
        return _decode_float(v, path)
    if hint is bool:
        if not isinstance(v, bool):
            raise _fail(path, f"expected true or false, got {_describe(v)}")
        return v
    if hint is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _fail(path, f"expected an integer, got {_describe(v)}")
        return v
    if hint is str:
        if not isinstance(v, str):
            raise _fail(path, f"expected a string, got {_describe(v)}")
        return v
    if hint in (Config, ModelConfig, ALaw):
        if not isinstance(v, Mapping):
            raise _fail(path, f"expected an object, got {_describe(v)}")
        body = {k: x for k, x in v.items() if k != "__type__"}
        try:
            return hint.from_dict(body)
        except ConfigError as exc:
            raise _fail(path, f"invalid {hint.__name__}: {exc.message}") from None
        except (TypeError, ValueError) as exc:
            raise _fail(path, f"invalid {hint.__name__}: {exc}") from None
    if isinstance(hint, type) and hint.__name__ in _TYPES:
        if not isinstance(v, Mapping):
            raise _fail(path, f"expected a {hint.__name__} object, got {_describe(v)}")
        if v.get("__type__", hint.__name__) != hint.__name__:
            raise _fail(path, f"expected a {hint.__name__}, got a {v.get('__type__')}")
        hints = _hints(hint)
        kwargs: dict[str, Any] = {}
        names = set()
        for f in dataclasses.fields(hint):
            names.add(f.name)
            if f.name in v:
                kwargs[f.name] = _decode_typed(v[f.name], hints[f.name], f"{path}.{f.name}")
            elif (f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING):
                raise _fail(path, f"missing field {f.name!r} of {hint.__name__}")
            # Fields added later (with defaults) are simply absent from older files.
        unknown = sorted(set(v) - names - {"__type__"})
        if unknown:
            raise _fail(path, f"unknown field(s) {', '.join(unknown)} in {hint.__name__} "
                              f"(written by a newer version?)")
        return hint(**kwargs)
    raise _fail(path, f"no decoder for type {hint!r}")  # pragma: no cover - schema bug


def result_to_dict(result: _results.RunResult) -> dict[str, Any]:
    """Encode a :class:`RunResult` as JSON-able data (exact; see :func:`result_from_dict`).

    Returns
    -------
    dict
        ``{"__type__": "RunResult", "encoding": 1, ...fields}``; arrays are tagged
        objects ``{"__ndarray__", "dtype", "shape", "data"}`` with ``data`` as nested
        lists, non-finite floats are ``{"__float__": "nan"|"inf"|"-inf"}`` (inside
        arrays the strings ``"nan"``, ``"inf"``, ``"-inf"``). Serialise with
        ``json.dumps(..., allow_nan=False)``: the output is strict JSON.
    """
    if not isinstance(result, _results.RunResult):
        raise TypeError(f"expected a RunResult, got {type(result).__name__}")
    out = encode(result)
    out["encoding"] = RESULT_ENCODING
    return out


def result_from_dict(d: Mapping[str, Any]) -> _results.RunResult:
    """Decode the output of :func:`result_to_dict` into an identical :class:`RunResult`.

    Raises
    ------
    DecodeError
        Naming the first offending field by its path (``result.curves[0].points[2]
        .theory_spectrum.grid: corrupt array (...)``), for wrong types, missing
        fields, corrupt arrays, an invalid embedded config, or a newer encoding.
    """
    if not isinstance(d, Mapping):
        raise _fail("result", f"expected an object, got {_describe(d)}")
    enc = d.get("encoding", RESULT_ENCODING)
    if isinstance(enc, bool) or not isinstance(enc, int) or enc > RESULT_ENCODING:
        raise _fail("result.encoding", f"encoding {enc!r} is newer than this version of "
                                       f"the app reads (at most {RESULT_ENCODING})")
    body = {k: v for k, v in d.items() if k != "encoding"}
    return _decode_typed(body, _results.RunResult, "result")


def dumps(obj: Any, *, indent: int | None = 1) -> str:
    """Strict JSON text (no NaN/Infinity literals) with a trailing newline.

    Indented for reading, except the ``data`` of encoded arrays, written on one line:
    indenting puts every number on its own line, which doubles the size of a session
    full of eigenvalues for no reader's benefit.
    """
    if indent is None:
        return json.dumps(obj, allow_nan=False, ensure_ascii=False) + "\n"
    blobs: list[str] = []
    # A fresh random tag: no string in the document can contain it by accident.
    tag = f"@@array-{uuid.uuid4().hex}-"

    def pull(x: Any) -> Any:
        if isinstance(x, dict):
            if "__ndarray__" in x and isinstance(x.get("data"), list):
                blobs.append(json.dumps(x["data"], allow_nan=False, separators=(",", ":")))
                return {**x, "data": f"{tag}{len(blobs) - 1}@@"}
            return {k: pull(v) for k, v in x.items()}
        if isinstance(x, list):
            return [pull(v) for v in x]
        return x

    text = json.dumps(pull(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    parts = text.split(f'"{tag}')
    out = [parts[0]]
    for part in parts[1:]:
        index, _, rest = part.partition('@@"')
        out.append(blobs[int(index)] + rest)
    return "".join(out) + "\n"


# =========================================================================== tables

Table = tuple[list[str], list[list[Any]]]


def _seeds_used(result: _results.RunResult) -> list[int]:
    seeds: set[int] = set()
    for curve in result.curves:
        for pt in curve.points:
            for sims in pt.sims.values():
                seeds.update(int(s.seed) for s in sims)
    return sorted(seeds) if seeds else list(result.config.run.seeds)


def _fmt(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, ALaw):
        return json.dumps(v.to_dict())
    return v


def tables(result: _results.RunResult) -> dict[str, Table]:
    """The result as tidy tables: ``{name: (columns, rows)}``; only non-empty ones.

    Columns carry their units in brackets. Every table starts with the columns
    ``curve`` and the sweep parameter (or ``point``), so the tables of a multi-curve
    sweep stack cleanly. Eigenvalues are those of ``(1/n) Phi^T Phi`` (dimensionless),
    densities are per unit eigenvalue, errors are mean squared errors in units of ``y^2``.
    """
    sweep = result.sweep_param or "point"
    key = ["curve", f"{sweep} [sweep value]" if result.sweep_param else "point"]
    t: dict[str, list[list[Any]]] = {}
    cols: dict[str, list[str]] = {
        "theory_spectrum": key + ["state", "eigenvalue [1]", "density [1/eigenvalue]"],
        "theory_spectrum_summary": key + ["state", "atom_zero [probability]",
                                          "mass [probability]", "edges [eigenvalue]",
                                          "outliers [eigenvalue]",
                                          "outliers_centred [eigenvalue]", "success",
                                          "n_iter", "residual", "message"],
        "theory_errors": key + ["baseline", "test_error [y^2]", "train_error [y^2]",
                                "bias [y^2]", "variance [y^2]", "success", "n_iter",
                                "residual", "warnings"],
        "theory_learned_function": key + ["baseline", "kappa [1]", "learned_function [y]",
                                          "target [y]"],
        "theory_weights": key + ["eigenvalue [W1 W1^T]", "density [1/eigenvalue]"],
        "theory_weights_summary": key + ["atom_zero [probability]", "edges [eigenvalue]",
                                         "spikes [eigenvalue]"],
        "expressivity": key + ["kappa [1]", "target [y]", "fit [y]", "atom", "mu0 [y]"],
        "srf_params": key + ["atom", "a [1]", "pi [probability]", "u [1]", "s0 [1]",
                             "c [1]", "s [1]", "nv [1]", "gamma [1]", "r0 [1]"],
        "sim_eigenvalues": key + ["model", "seed", "state", "rank", "eigenvalue [1]"],
        "sim_weight_eigenvalues": key + ["model", "seed", "rank", "eigenvalue [W1 W1^T]"],
        "sim_histogram": key + ["model", "state", "bin_lo [1]", "bin_hi [1]",
                                "density [1/eigenvalue] (bulk, seeds pooled)"],
        "sim_outliers": key + ["model", "seed", "index", "outlier [eigenvalue]"],
        "sim_errors": key + ["model", "seed", "test_error [y^2]", "train_error [y^2]",
                             "spike_overlap [1]", "elapsed [s]"],
        "sim_errors_summary": key + ["model", "n_seeds", "test_error_mean [y^2]",
                                     "test_error_std [y^2]", "train_error_mean [y^2]",
                                     "train_error_std [y^2]"],
        "sim_learned_function": key + ["model", "seed", "kappa [1]", "fhat_mean [y]",
                                       "fhat_sem [y]"],
        "theory_failures": key + ["message"],
    }
    for name in cols:
        t[name] = []

    def js(a: np.ndarray | None) -> str:
        return "" if a is None else json.dumps(np.asarray(a).tolist())

    for curve in result.curves:
        for i, pt in enumerate(curve.points):
            k = [curve.label, _fmt(pt.value) if result.sweep_param else i]
            if pt.theory_error:
                t["theory_failures"].append(k + [pt.theory_error])
            for state, ts in (("after", pt.theory_spectrum), ("before",
                                                              pt.theory_spectrum_before)):
                if ts is None:
                    continue
                t["theory_spectrum"] += [k + [state, _fmt(x), _fmt(y)]
                                         for x, y in zip(ts.grid, ts.density, strict=True)]
                c = ts.convergence
                t["theory_spectrum_summary"].append(
                    k + [state, _fmt(ts.atom_zero), _fmt(ts.mass), js(ts.edges),
                         js(ts.outliers), js(ts.outliers_centred), c.success, c.n_iter,
                         _fmt(c.residual), c.message])
            for base, tr in (("after step", pt.theory_ridge), ("rf (eta_tilde=0)",
                                                               pt.theory_ridge_rf)):
                if tr is None:
                    continue
                c = tr.convergence
                t["theory_errors"].append(
                    k + [base, _fmt(tr.test_error), _fmt(tr.train_error), _fmt(tr.bias),
                         _fmt(tr.variance), c.success, c.n_iter, _fmt(c.residual),
                         "; ".join(tr.warnings)])
                t["theory_learned_function"] += [
                    k + [base, _fmt(a), _fmt(b), _fmt(c_)]
                    for a, b, c_ in zip(tr.kappa, tr.learned_function, tr.target,
                                        strict=True)]
            tw = pt.theory_weights
            if tw is not None:
                t["theory_weights"] += [k + [_fmt(x), _fmt(y)]
                                        for x, y in zip(tw.grid, tw.density, strict=True)]
                t["theory_weights_summary"].append(
                    k + [_fmt(tw.atom_zero), js(tw.edges), js(tw.spikes)])
            ex = pt.expressivity
            if ex is not None:
                mu0 = np.atleast_2d(ex.mu0)
                for atom in range(mu0.shape[0]):
                    t["expressivity"] += [
                        k + [_fmt(ex.kappa[q]), _fmt(ex.target[q]), _fmt(ex.fit[q]), atom,
                             _fmt(mu0[atom, q])] for q in range(len(ex.kappa))]
            sp = pt.srf_params
            if sp is not None:
                for atom in range(len(sp.a)):
                    t["srf_params"].append(
                        k + [atom] + [_fmt(getattr(sp, f)[atom])
                                      for f in ("a", "pi", "u", "s0", "c", "s", "nv")]
                        + [_fmt(sp.gamma), _fmt(sp.r0)])
            for model, sims in pt.sims.items():
                for s in sims:
                    for state, ev in (("after", s.eigenvalues),
                                      ("before", s.eigenvalues_before)):
                        if ev is not None:
                            t["sim_eigenvalues"] += [k + [model, s.seed, state, r, _fmt(x)]
                                                     for r, x in enumerate(ev)]
                    if s.weight_eigenvalues is not None:
                        t["sim_weight_eigenvalues"] += [
                            k + [model, s.seed, r, _fmt(x)]
                            for r, x in enumerate(s.weight_eigenvalues)]
                    t["sim_outliers"] += [k + [model, s.seed, j, _fmt(x)]
                                          for j, x in enumerate(np.ravel(s.outliers))]
                    if s.test_error is not None or s.train_error is not None:
                        t["sim_errors"].append(k + [model, s.seed, _fmt(s.test_error),
                                                    _fmt(s.train_error),
                                                    _fmt(s.spike_overlap), _fmt(s.elapsed)])
                    if s.kappa_bins is not None and s.fhat_mean is not None:
                        sem = (s.fhat_sem if s.fhat_sem is not None
                               else np.full(len(s.kappa_bins), np.nan))
                        t["sim_learned_function"] += [
                            k + [model, s.seed, _fmt(a), _fmt(b), _fmt(c_)]
                            for a, b, c_ in zip(s.kappa_bins, s.fhat_mean, sem, strict=True)]
                for state in ("after", "before"):
                    evs = [_bulk(s, state) for s in sims]
                    evs = [e for e in evs if e is not None and len(e)]
                    total = sum(len(e) for e in (s.eigenvalues if state == "after"
                                                 else s.eigenvalues_before for s in sims)
                                if e is not None)
                    if evs:
                        edges, dens = _histogram(np.concatenate(evs), total)
                        t["sim_histogram"] += [k + [model, state, _fmt(lo), _fmt(hi), _fmt(y)]
                                               for lo, hi, y in zip(edges[:-1], edges[1:], dens,
                                                                    strict=True)]
                te = np.array([s.test_error for s in sims if s.test_error is not None], float)
                tr_ = np.array([s.train_error for s in sims if s.train_error is not None],
                               float)
                if te.size or tr_.size:
                    t["sim_errors_summary"].append(
                        k + [model, max(te.size, tr_.size),
                             _fmt(te.mean()) if te.size else "",
                             _fmt(te.std(ddof=1)) if te.size > 1 else "",
                             _fmt(tr_.mean()) if tr_.size else "",
                             _fmt(tr_.std(ddof=1)) if tr_.size > 1 else ""])
    return {name: (cols[name], rows) for name, rows in t.items() if rows}


def _bulk(s: _results.SimSeed, state: str) -> np.ndarray | None:
    """The bulk of one seed's spectrum: order-p outliers would squash the histogram.

    After the step the run has already separated ``s.outliers`` (the largest
    eigenvalues); before it, the outliers (e.g. from a non-centred activation) are
    separated by the engine's own rule.
    """
    if state == "after":
        if s.eigenvalues is None:
            return None
        ev = np.sort(np.asarray(s.eigenvalues, float))
        k = len(np.ravel(s.outliers))
        return ev[: ev.size - k] if k else ev
    if s.eigenvalues_before is None:
        return None
    try:
        from engine.spectra import split_outliers
    except ImportError:
        return np.asarray(s.eigenvalues_before, float)
    return split_outliers(s.eigenvalues_before)[0]


def _histogram(ev: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin the bulk with the engine's binning (engine.spectra) when it is there.

    The GUI's histogram comes from the same function, so the CSV matches the figure;
    ``numpy.histogram`` is the fallback while it is missing. The density is
    normalised by ``total`` (all eigenvalues, outliers included) like the engine's.
    """
    try:
        from engine.spectra import histogram
    except ImportError:
        counts, edges = np.histogram(ev, bins=80)
        return edges, counts / (total * np.diff(edges))
    edges, dens = histogram(ev)
    return np.asarray(edges, float), np.asarray(dens, float) * ev.size / total


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]],
              prov: Mapping[str, Any] | None = None, *, title: str = "") -> str:
    """CSV text: ``# key: value`` provenance lines, then a header row, then the rows."""
    buf = io.StringIO()
    if title:
        buf.write(f"# table: {title}\n")
    if prov is not None:
        buf.write(provenance_header(prov))
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([_fmt(v) for v in row] for row in rows)
    return buf.getvalue()


def _npz_arrays(result: _results.RunResult) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    if result.sweep_param:
        arrays["sweep_values"] = np.array([np.nan if v is None else float(v)
                                           for v in result.sweep_values])
    for ci, curve in enumerate(result.curves):
        for pi, pt in enumerate(curve.points):
            pre = f"c{ci}_p{pi}_"
            for tag, ts in (("theory", pt.theory_spectrum),
                            ("theory_before", pt.theory_spectrum_before)):
                if ts is not None:
                    for f in ("grid", "density", "edges", "outliers", "outliers_centred"):
                        arrays[f"{pre}{tag}_{f}"] = np.asarray(getattr(ts, f))
            for tag, tr in (("ridge", pt.theory_ridge), ("ridge_rf", pt.theory_ridge_rf)):
                if tr is not None:
                    for f in ("m0", "m1", "kappa", "learned_function", "target"):
                        arrays[f"{pre}{tag}_{f}"] = np.asarray(getattr(tr, f))
                    arrays[f"{pre}{tag}_errors"] = np.array([tr.test_error, tr.train_error])
            if pt.theory_weights is not None:
                for f in ("grid", "density", "edges", "spikes"):
                    arrays[f"{pre}weights_{f}"] = np.asarray(getattr(pt.theory_weights, f))
            if pt.expressivity is not None:
                for f in ("kappa", "mu0", "target", "fit", "coefficients"):
                    arrays[f"{pre}expressivity_{f}"] = np.asarray(getattr(pt.expressivity, f))
            for model, sims in pt.sims.items():
                for s in sims:
                    sp = f"{pre}{model}_seed{s.seed}_"
                    for f in ("eigenvalues", "eigenvalues_before", "outliers",
                              "weight_eigenvalues", "top_overlaps", "kappa_bins",
                              "fhat_mean", "fhat_sem"):
                        a = getattr(s, f)
                        if a is not None:
                            arrays[sp + f] = np.asarray(a)
                    arrays[sp + "errors"] = np.array(
                        [np.nan if s.test_error is None else s.test_error,
                         np.nan if s.train_error is None else s.train_error])
    return arrays


# =========================================================================== write_result


def write_result(result: _results.RunResult, folder: PathLike, *,
                 formats: Sequence[str] = ("csv", "json", "npz"),
                 force: bool = False, prefix: str = "") -> list[Path]:
    """Write a run's result to ``folder``, every file with its provenance.

    Parameters
    ----------
    result : RunResult
    folder : str or path-like
        Created if missing.
    formats : sequence of {"csv", "json", "npz"}
        ``csv``: one tidy table per quantity (``<prefix><table>.csv``, see :func:`tables`)
        with ``# key: value`` provenance lines on top. ``json``: one document
        ``<prefix>result.json`` ``{"app", "provenance", "result"}`` with the whole
        result (:func:`result_to_dict`, reloadable exactly). ``npz``:
        ``<prefix>arrays.npz``, the raw arrays (``c<curve>_p<point>_...``: theory
        grids/densities, eigenvalues per seed, ...) plus ``provenance`` (a JSON string).
    force : bool
        Overwrite existing files. Without it nothing is written if any target exists.
    prefix : str
        Prepended to every file name.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileExistsError
        If a target exists and ``force`` is false (checked before writing anything).
    ValueError
        For an unknown format.
    """
    bad = [f for f in formats if f not in ("csv", "json", "npz")]
    if bad:
        raise ValueError(f"formats must be drawn from csv, json, npz; got {bad}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prov = provenance(result.config, _seeds_used(result))
    prov["run"] = {"success": result.success, "message": result.message,
                   "elapsed_s": result.elapsed, "started": result.started,
                   "versions_at_run": dict(result.versions)}

    # Build every file in memory first: a failure then writes nothing at all.
    files: dict[Path, bytes] = {}
    if "csv" in formats:
        for name, (columns, rows) in tables(result).items():
            files[folder / f"{prefix}{name}.csv"] = table_csv(
                columns, rows, prov, title=name).encode("utf-8")
    if "json" in formats:
        doc = {"app": APP_NAME, "kind": "result", "provenance": prov,
               "result": result_to_dict(result)}
        files[folder / f"{prefix}result.json"] = dumps(doc).encode("utf-8")
    if "npz" in formats:
        arrays = _npz_arrays(result)
        buf = io.BytesIO()
        np.savez_compressed(buf, provenance=np.array(dumps(prov, indent=None)), **arrays)
        files[folder / f"{prefix}arrays.npz"] = buf.getvalue()

    if not force:
        existing = [p for p in files if p.exists()]
        if existing:
            raise FileExistsError(f"{len(existing)} file(s) already exist in {folder}, e.g. "
                                  f"{existing[0].name}; not overwritten (use force=True, "
                                  f"or --force on the command line)")
    return [atomic_write_bytes(p, data, force=force) for p, data in files.items()]


def read_csv_provenance(path: PathLike) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a CSV written here (for tests and tools)."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("# "):
                break
            k, _, v = line[2:].rstrip("\n").partition(": ")
            out[k] = v
    return out

