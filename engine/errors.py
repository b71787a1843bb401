"""Exceptions shared by the whole engine.

Every error the engine raises on purpose derives from :class:`EngineError`, so a
front end (CLI or GUI) can tell expected failures (bad input, non-convergence,
not enough memory, a cancelled run) from programming errors.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of all deliberate engine errors."""


class ConfigError(EngineError, ValueError):
    """An invalid configuration value.

    Parameters
    ----------
    key : str
        Dotted path of the offending key, e.g. ``"model.beta"``.
    message : str
        Full human-readable message; it names the key, the value and the
        allowed range (``model.beta must be > 0, got -1``).
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class ExpressionError(EngineError, ValueError):
    """A user expression in ``z`` that the safe parser refuses."""


class ConvergenceError(EngineError, RuntimeError):
    """The theory solver did not converge; the message says where and what was tried."""


class MemoryGuardError(EngineError, MemoryError):
    """A run would need more memory than the configured share of this machine."""

    def __init__(self, message: str, needed_bytes: int = 0, allowed_bytes: int = 0) -> None:
        super().__init__(message)
        self.needed_bytes = needed_bytes
        self.allowed_bytes = allowed_bytes


class Cancelled(EngineError):  # noqa: N818 - a normal outcome, not an error
    """Raised inside a long computation when its cancel token has been set.

    Front ends treat it as a normal outcome, not as an error.
    """
