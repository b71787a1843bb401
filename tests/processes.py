"""Child processes of the test process, for the tests that check that a run leaves none.

Importable from ``tests/engine`` and ``tests/gui`` as ``import processes`` (like
``synthetic``).
"""

from __future__ import annotations

import psutil


def child_pids() -> set[int]:
    """The pids of this process's children (recursively) alive now."""
    return {p.pid for p in psutil.Process().children(recursive=True)}


def new_children(before: set[int] | None = None) -> list[psutil.Process]:
    """This process's children started since ``before`` (pids), without
    multiprocessing's resource tracker (one idle bookkeeping process per interpreter,
    started with the first semaphore and ended with it)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid not in (before or set()) and "resource_tracker" not in " ".join(
                    p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out
