"""Progress reporting and cancellation without any GUI toolkit.

Long engine functions take ``progress(fraction, message)`` and ``cancel`` (a
:class:`CancelToken`, or anything with an ``is_set()`` method, or ``None``).
Nested stages map their own 0..1 range into a slice of the parent's range with
:func:`sub_progress`, so a run reports one monotone fraction from start to end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from engine.errors import Cancelled

ProgressFn = Callable[[float, str], None]


class CancelLike(Protocol):
    """Anything that can tell whether cancellation was requested."""

    def is_set(self) -> bool:  # pragma: no cover - protocol
        """Return True once cancellation has been requested."""
        ...


class CancelToken:
    """A thread-safe flag: the GUI thread sets it, the worker polls it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Request cancellation."""
        self._event.set()

    def is_set(self) -> bool:
        """Return True once cancellation has been requested."""
        return self._event.is_set()


def check_cancel(cancel: CancelLike | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` has been set.

    Called between chunks of work, so that a run stops within a fraction of a second.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled by the user")


def null_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


def sub_progress(progress: ProgressFn | None, start: float, stop: float) -> ProgressFn:
    """Map a stage's own 0..1 progress into ``[start, stop]`` of the parent.

    Parameters
    ----------
    progress : callable or None
        The parent's callback ``progress(fraction, message)``.
    start, stop : float
        The slice of the parent's range this stage covers.

    Returns
    -------
    callable
        A callback for the stage.
    """
    if progress is None:
        return null_progress
    span = stop - start

    def _child(fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        progress(start + span * f, message)

    return _child
