"""Axis ticks that stay readable: 1-2-5 on log axes, a few round values on narrow panels.

pyqtgraph labels every minor tick of a log axis over a decade or two (0.06 0.07 0.08 …,
which collide) and puts five ticks on a 150-pixel panel; these helpers choose fewer.
Tick positions on a log axis are in log10 units, as pyqtgraph expects.
"""

from __future__ import annotations

import math
from typing import Any

from gui.plots.text import fmt_num

Ticks = list[list[tuple[float, str]]]

#: Over more decades than this, the 2 and 5 of each decade stay unlabelled.
MINOR_LABEL_DECADES = 2.5


def log_ticks(lo: float, hi: float) -> Ticks:
    """1-2-5 ticks for a log axis showing ``[10**lo, 10**hi]`` (log10 units).

    1, 10, 100 … are major ticks; 2 and 5 of each decade are unlabelled minor ticks over
    :data:`MINOR_LABEL_DECADES` decades or more (else "0.0050.01" collide), and labelled
    major ticks over fewer (an axis from 0.2 to 0.9 would otherwise have no label).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [[], []]
    # a few decades beyond the range: zooming out still finds ticks
    first, last = math.floor(lo) - 3, math.ceil(hi) + 3
    powers = [(float(k), fmt_num(10.0 ** k)) for k in range(first, last + 1)]
    label_minor = hi - lo < MINOR_LABEL_DECADES
    minor = [(math.log10(m) + k, fmt_num(m * 10.0 ** k) if label_minor else "")
             for k in range(first, last) for m in (2, 5)]
    visible_powers = sum(1 for v, _ in powers if lo <= v <= hi)
    if label_minor or visible_powers < 2:
        # one level: a style that draws major ticks only keeps every label
        return [sorted(powers + minor), []]
    return [powers, minor]


def set_log_ticks(axis: Any, log: bool, view_range: tuple[float, float] | None = None) -> None:
    """:func:`log_ticks` on a log axis (for ``view_range`` in log10 units, default the
    axis' own range); pyqtgraph's automatic ticks on a linear axis."""
    if not log:
        axis.setTicks(None)
        return
    lo, hi = view_range if view_range is not None else axis.range
    axis.setTicks(log_ticks(lo, hi))


def few_ticks(lo: float, hi: float, n: int = 3) -> list[tuple[float, str]]:
    """About ``n`` round tick positions in ``[lo, hi]`` (1-2-5 steps), for narrow panels."""
    raw = max(hi - lo, 1e-12) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= raw)
    first = math.ceil(lo / step)
    out = []
    k = first
    while k * step <= hi + 1e-9 * step:
        out.append((k * step, fmt_num(k * step)))
        k += 1
    return out
