"""Numbers and names as the plots print them (legends, titles, readouts, ticks).

Every number shown keeps a sensible number of digits: three significant digits, but
never fewer than the integer part (an outlier at 1213.4 reads "1213", not "1.21e+03"),
and scientific notation only for very small or very large values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: Unicode names of the quantities, shared by axis labels, legends and readouts.
LAMBDA = "λ"
ETA = "η̃"
KAPPA = "κ"

#: Names of the simulated models in legends and row labels.
SIM_NAMES = {"network": "network", "srf": "sRF"}


def fmt_num(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits (all integer digits kept).

    >>> fmt_num(1213.4), fmt_num(8.599), fmt_num(0.03851), fmt_num(3.0), fmt_num(2e-6)
    ('1213', '8.6', '0.0385', '3', '2e-06')
    """
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{x:.{digits}g}"
    if magnitude >= 10 ** (digits - 1):
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def fmt_list(values: Iterable[float], digits: int = 3, most: int = 3) -> str:
    """Up to ``most`` values, comma-separated, then "… (n)" when there are more."""
    vals = [float(v) for v in values]
    text = ", ".join(fmt_num(v, digits) for v in vals[:most])
    if len(vals) > most:
        text += f", … ({len(vals)})"
    return text


def curve_label(label: str, index: int) -> str:
    """Legend text of a curve (an unlabelled single curve gets none)."""
    return label if label else ("" if index == 0 else f"curve {index + 1}")


def seeds_text(n_seeds: int) -> str:
    """" (3 seeds)" for several seeds, nothing for one."""
    return f" ({n_seeds} seeds)" if n_seeds > 1 else ""
