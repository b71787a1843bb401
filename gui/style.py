"""Plot styles: the on-screen style and the presentation style used for export.

A style is data: plots read colours, pen widths and font sizes from it in
``apply_style``; the exporter scales pens and fonts with the DPI on top of it.
The presentation palette is Okabe–Ito (colour-blind safe).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Okabe & Ito (2008), colour-blind-safe qualitative palette.
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Bright colours that read well on a dark background.
SCREEN_PALETTE = (
    "#4FC3F7",
    "#FF8A65",
    "#81C784",
    "#F48FB1",
    "#FFD54F",
    "#BA68C8",
    "#E0E0E0",
    "#A1887F",
)


@dataclass(frozen=True)
class PlotStyle:
    """Everything a plot needs to draw itself in a given look.

    Attributes
    ----------
    name : str
        ``"screen"`` or ``"presentation"``.
    background, foreground : str
        Colours of the canvas and of axes/text.
    palette : tuple of str
        Colours for successive curves (theory and simulation of a curve share one).
    line_width : float
        Pen width of theory lines, in points at 96 DPI.
    marker_size : float
        Scatter marker size in pixels at 96 DPI.
    font_size : float
        Axis label font size in points.
    tick_font_size : float
        Tick label font size in points.
    title_font_size : float
        Title font size in points.
    histogram_alpha : int
        Fill alpha (0-255) of histograms.
    grid_alpha : float
        Grid line alpha in [0, 1] (0 hides the grid).
    """

    name: str
    background: str
    foreground: str
    palette: tuple[str, ...]
    line_width: float
    marker_size: float
    font_size: float
    tick_font_size: float
    title_font_size: float
    histogram_alpha: int
    grid_alpha: float

    def color(self, index: int) -> str:
        """The palette colour of curve ``index`` (cycling)."""
        return self.palette[index % len(self.palette)]


ON_SCREEN = PlotStyle(
    name="screen",
    background="#1E1E1E",
    foreground="#DDDDDD",
    palette=SCREEN_PALETTE,
    line_width=2.0,
    marker_size=7.0,
    font_size=10.0,
    tick_font_size=9.0,
    title_font_size=11.0,
    histogram_alpha=110,
    grid_alpha=0.15,
)

PRESENTATION = PlotStyle(
    name="presentation",
    background="#FFFFFF",
    foreground="#000000",
    palette=OKABE_ITO,
    line_width=3.0,
    marker_size=10.0,
    font_size=16.0,
    tick_font_size=14.0,
    title_font_size=18.0,
    histogram_alpha=90,
    grid_alpha=0.0,
)

STYLES = {s.name: s for s in (ON_SCREEN, PRESENTATION)}


def get_style(name: str) -> PlotStyle:
    """Return the style called ``name`` (``"screen"`` or ``"presentation"``).

    Raises
    ------
    ValueError
        Naming the allowed styles.
    """
    try:
        return STYLES[name]
    except KeyError:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {name!r}") from None
