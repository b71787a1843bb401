"""The exact encoding of results: a RunResult to plain JSON-able data and back.

:func:`result_to_dict` / :func:`result_from_dict` turn a :class:`~engine.results.RunResult`
into plain JSON-able data and back *exactly*: every array bit for bit, shapes and dtypes
included, non-finite floats and signed zeros kept, ints kept apart from floats. Exports
(:mod:`engine.export`) and sessions (:mod:`engine.session`) are built on them, and
:func:`dumps` writes the strict JSON text.

Decoding checks every value against the type hints of the result dataclasses and names
the first offending field by its path (:class:`DecodeError`).

This module never imports Qt.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from engine import results as _results
from engine.config import ALaw, Config, ConfigError, ModelConfig
from engine.errors import EngineError

#: Version of the encoding produced by :func:`result_to_dict`.
RESULT_ENCODING = 1

#: The result dataclasses, encoded field by field (``__type__`` names them).
_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (_results.Convergence, _results.SRFParams, _results.TheorySpectrum,
                _results.TheoryRidge, _results.TheoryWeights, _results.Expressivity,
                _results.TailCurve, _results.SimSeed, _results.PointResult,
                _results.CurveResult, _results.RunResult)
}

#: The configuration dataclasses, encoded through their own ``to_dict`` / ``from_dict``.
_CONFIG_TYPES: dict[str, type] = {"Config": Config, "ModelConfig": ModelConfig, "ALaw": ALaw}

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
    # Before int and float: np.float64 is a float, and its dtype must survive.
    if isinstance(obj, np.generic):
        return _npscalar_out(obj)
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return _float_out(obj)
    if isinstance(obj, np.ndarray):
        return _array_out(obj)
    return _structure_out(obj)


def _npscalar_out(obj: np.generic) -> dict[str, Any]:
    if obj.dtype.kind not in "biuf":
        raise TypeError(f"cannot encode numpy scalar of dtype {obj.dtype}")
    item = obj.item()
    return {"__npscalar__": obj.dtype.str,
            "value": _float_out(item) if isinstance(item, float) else item}


def _structure_out(obj: Any) -> Any:
    """Dataclasses of the schema, tuples, lists and string-keyed mappings."""
    for name, cls in _CONFIG_TYPES.items():
        if isinstance(obj, cls):
            return {"__type__": name, **obj.to_dict()}
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
        return _mapping_out(obj)
    raise TypeError(f"cannot encode an object of type {type(obj).__name__}")


def _mapping_out(obj: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise TypeError(f"cannot encode a dict key of type {type(k).__name__} ({k!r})")
        if k.startswith("__"):
            raise TypeError(f"dict key {k!r} is reserved for the encoding")
        out[k] = encode(v)
    return out


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
    known = {**_TYPES, **_CONFIG_TYPES}
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
        return _decode_union(v, hint, path)
    if origin is tuple:
        return _decode_tuple(v, hint, path)
    if origin is dict:
        return _decode_dict(v, hint, path)
    leaf = _LEAF_DECODERS.get(hint)
    if leaf is not None:
        return leaf(v, path)
    if hint in _CONFIG_TYPES.values():
        return _decode_config(v, hint, path)
    if isinstance(hint, type) and hint.__name__ in _TYPES:
        return _decode_dataclass(v, hint, path)
    raise _fail(path, f"no decoder for type {hint!r}")  # pragma: no cover - schema bug


def _decode_union(v: Any, hint: Any, path: str) -> Any:
    args = typing.get_args(hint)
    if v is None:
        if type(None) in args:
            return None
        raise _fail(path, "is missing (null) but required")
    rest = [a for a in args if a is not type(None)]
    return _decode_typed(v, rest[0], path) if len(rest) == 1 else _decode_any(v, path)


def _decode_tuple(v: Any, hint: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(v, list):
        raise _fail(path, f"expected a list, got {_describe(v)}")
    args = typing.get_args(hint)
    item = args[0] if args else Any
    return tuple(_decode_typed(x, item, f"{path}[{i}]") for i, x in enumerate(v))


def _decode_dict(v: Any, hint: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, Mapping) or any(str(k).startswith("__") for k in v):
        raise _fail(path, f"expected an object, got {_describe(v)}")
    item = typing.get_args(hint)[1] if typing.get_args(hint) else Any
    return {k: _decode_typed(x, item, f"{path}.{k}") for k, x in v.items()}


def _decode_bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise _fail(path, f"expected true or false, got {_describe(v)}")
    return v


def _decode_int(v: Any, path: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _fail(path, f"expected an integer, got {_describe(v)}")
    return v


def _decode_str(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise _fail(path, f"expected a string, got {_describe(v)}")
    return v


#: Decoders of the schema's leaf types.
_LEAF_DECODERS: dict[Any, Callable[[Any, str], Any]] = {
    np.ndarray: _decode_array, float: _decode_float, bool: _decode_bool, int: _decode_int,
    str: _decode_str,
}


def _decode_config(v: Any, hint: type, path: str) -> Any:
    if not isinstance(v, Mapping):
        raise _fail(path, f"expected an object, got {_describe(v)}")
    body = {k: x for k, x in v.items() if k != "__type__"}
    try:
        return hint.from_dict(body)  # type: ignore[attr-defined]
    except ConfigError as exc:
        raise _fail(path, f"invalid {hint.__name__}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise _fail(path, f"invalid {hint.__name__}: {exc}") from None


def _decode_dataclass(v: Any, hint: type, path: str) -> Any:
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
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _fail(path, f"missing field {f.name!r} of {hint.__name__}")
        # Fields added later (with defaults) are simply absent from older files.
    unknown = sorted(set(v) - names - {"__type__"})
    if unknown:
        raise _fail(path, f"unknown field(s) {', '.join(unknown)} in {hint.__name__} "
                          f"(written by a newer version?)")
    return hint(**kwargs)


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

