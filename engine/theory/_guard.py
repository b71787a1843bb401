"""Numerical failures of the theory become :class:`~engine.errors.ConvergenceError`.

docs/model.md#numerics: a theory result is finite or the solver says, in one line, which
stage failed and why. Overflow, division by zero and invalid operations are evaluated
silently (``np.errstate(all="ignore")``) and caught by explicit finiteness checks at the
end of each stage; exceptions raised by numpy, scipy or Python arithmetic
(:data:`NUMERICAL_ERRORS`) are turned into a :class:`ConvergenceError` naming the stage.
Programming errors (``TypeError``, ``AttributeError``, ...) are not numerical and pass
through unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import numpy as np

from engine.errors import ConvergenceError

__all__ = ["NUMERICAL_ERRORS", "guarded", "require_finite", "safe_inv", "safe_solve", "stage"]

#: Exceptions that mean "the arithmetic broke down", not "the code is wrong".
NUMERICAL_ERRORS: tuple[type[BaseException], ...] = (
    np.linalg.LinAlgError, OverflowError, FloatingPointError, ZeroDivisionError)

P = ParamSpec("P")
R = TypeVar("R")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no detail"
    return f"{type(exc).__name__}: {text}"


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Run a block of the theory as the stage ``name``.

    Inside, floating-point exceptions are off (the block checks finiteness itself), and
    any of :data:`NUMERICAL_ERRORS` leaving the block becomes
    ``ConvergenceError("<name>: numerical failure (<type>: <message>)")``.
    A :class:`ConvergenceError` raised inside keeps its own message.
    """
    try:
        with np.errstate(all="ignore"):
            yield
    except NUMERICAL_ERRORS as exc:
        raise ConvergenceError(f"{name}: numerical failure ({_one_line(exc)})") from exc


def guarded(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of :func:`stage` for a whole public function."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            with stage(name):
                return fn(*args, **kwargs)

        return inner

    return wrap


def require_finite(name: str, what: str, *values: object) -> None:
    """Raise ``ConvergenceError("<name>: <what> (...)")`` unless every value is finite.

    ``values`` are scalars or arrays; the message quotes the first non-finite one.
    """
    for v in values:
        arr = np.asarray(v)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            bad = arr[~np.isfinite(arr)].ravel()[0] if arr.ndim else arr
            raise ConvergenceError(f"{name}: {what} (got {bad})")


def safe_inv(M: np.ndarray) -> np.ndarray:
    """Batched inverse; a singular matrix of the batch gives NaNs, not an exception.

    The solvers reject non-finite trial points, so one singular ``z`` cannot abort a
    whole batch.
    """
    try:
        return np.linalg.inv(M)
    except np.linalg.LinAlgError:
        out = np.full(M.shape, np.nan, dtype=np.result_type(M, float))
        for idx in np.ndindex(*M.shape[:-2]):
            try:
                out[idx] = np.linalg.inv(M[idx])
            except np.linalg.LinAlgError:
                pass
        return out


def safe_solve(M: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched ``solve(M, rhs)`` (``rhs`` of shape (B, n)); least squares where singular."""
    try:
        return np.linalg.solve(M, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty(rhs.shape, dtype=np.result_type(M, rhs))
        for i in range(M.shape[0]):
            try:
                out[i] = np.linalg.solve(M[i], rhs[i])
            except np.linalg.LinAlgError:
                try:
                    out[i] = np.linalg.lstsq(M[i], rhs[i], rcond=None)[0]
                except np.linalg.LinAlgError:
                    out[i] = np.nan
        return out
