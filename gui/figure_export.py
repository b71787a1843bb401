"""Figures to PNG, SVG and PDF (and the clipboard), at a chosen size and DPI.

How a figure is rendered, and why:

- The plot's scene is laid out at its *logical* size, ``width_in x height_in`` inches
  at 96 px/in (the on-screen unit every pen width, marker size and tick length of the
  style is expressed in), by setting the geometry of the view's central item.
- **PNG**: the scene is painted into a ``QImage`` of exactly
  ``round(width_in*dpi) x round(height_in*dpi)`` pixels whose device-pixel ratio is
  ``dpi/96``. Qt then scales geometry and text, but *not* cosmetic pens (their width
  is in device pixels) — which is why high-DPI exports usually come out with hairlines.
  Every pen in the scene is therefore widened by ``dpi/96`` for the duration of the
  render and restored afterwards. Rendering into our own image (never grabbing the
  widget) also makes the size independent of the screen's HiDPI scaling.
- **SVG**: pyqtgraph 0.14's ``SVGExporter`` raises ``ValueError`` with PySide6 6.12
  (docs/architecture.md#pitfalls); the scene is painted into a ``QtSvg.QSvgGenerator`` instead.
- **PDF**: a ``QPdfWriter`` with the page size in inches and a resolution of 96 dpi,
  so that one device unit is one logical pixel and cosmetic pens keep their width
  (at 1200 dpi they would be 1/1200 in), and point-size fonts come out at the size
  the layout measured. Text and lines stay vector.
- A figure whose items cannot shrink to the requested size (long titles or legends
  at presentation font sizes) is laid out larger and zoomed out to fit, never clipped.
- The presentation style, if asked for, is applied with ``plot.apply_style`` and the
  plot's previous style is restored afterwards, also when rendering fails.
- Items are put in pyqtgraph's export mode so scatter markers are drawn as vectors
  (not from the on-screen pixmap atlas, which would be blurry when scaled).
- Files are written atomically by :func:`engine.export.atomic_write_bytes`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QMarginsF,
    QRectF,
    QSize,
    QSizeF,
    Qt,
)
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter, QPdfWriter, QPen
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QAbstractGraphicsShapeItem,
    QApplication,
    QGraphicsItem,
    QGraphicsWidget,
)

import engine
from engine.config import Config
from engine.export import provenance as engine_provenance
from engine.files import atomic_write_bytes
from gui.style import PlotStyle, get_style

if TYPE_CHECKING:
    from gui.plots.base import PlotBase

#: Logical pixels per inch: the unit of the styles' pen widths and marker sizes.
LOGICAL_DPI = 96.0

FORMATS = ("png", "svg", "pdf")

#: Refuse sizes that would allocate absurd images (100 megapixels is a poster at 600 dpi).
MAX_PIXELS = 100_000_000


# =========================================================================== public API


def export_figure(plot: Any, path: str | os.PathLike[str], *, fmt: str | None = None,
                  width_in: float = 6.0, height_in: float = 4.0, dpi: float = 150,
                  style: PlotStyle | str | None = None, force: bool = False,
                  provenance: Mapping[str, Any] | None = None) -> Path:
    """Write one plot to a PNG, SVG or PDF file.

    Parameters
    ----------
    plot : PlotBase
        A plot tab (``graphics_view()``, ``style``, ``apply_style``).
    path : str or path-like
        Destination file.
    fmt : {"png", "svg", "pdf"}, optional
        Default: from the file suffix.
    width_in, height_in : float
        Figure size in inches.
    dpi : float
        Resolution of the PNG (its size is exactly ``round(width_in*dpi)`` x
        ``round(height_in*dpi)`` pixels and it records the DPI); for SVG/PDF it only
        sets the nominal resolution metadata.
    style : PlotStyle or str, optional
        E.g. :data:`gui.style.PRESENTATION` or ``"presentation"``; ``None`` keeps the
        plot's current (on-screen) style.
    force : bool
        Overwrite an existing file.
    provenance : mapping, optional
        Embedded in the file (PNG text chunk ``Description``, SVG ``<desc>``, PDF XMP
        ``dc:description``) as JSON, so a figure can be traced to its parameters.
        Default: :func:`engine.export.provenance` of the config the plot shows.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        Unknown format, or a non-positive / absurd size.
    FileExistsError
        The file exists and ``force`` is false (nothing is rendered then).
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    _check_size(width_in, height_in, dpi, fmt)
    if not force and path.exists():
        raise FileExistsError(f"{path} already exists; not overwritten (use force=True, "
                              f"or --force on the command line, to replace it)")
    data = render_bytes(plot, fmt, width_in=width_in, height_in=height_in, dpi=dpi,
                        style=style, provenance=provenance)
    return atomic_write_bytes(path, data, force=force)


def export_all(plots: Sequence[Any], folder: str | os.PathLike[str], *,
               style: PlotStyle | str | None = "presentation", dpi: float = 150,
               formats: Sequence[str] = FORMATS, width_in: float = 6.0,
               height_in: float = 4.0, force: bool = False,
               provenance: Mapping[str, Any] | None = None) -> list[Path]:
    """Write every plot in every format to ``folder`` as ``<plot.name>.<fmt>``.

    Existing files are checked before anything is written, so without ``force`` either
    every file is written or none is.

    Returns
    -------
    list of Path
        The files written, plot by plot in the given order.
    """
    folder = Path(folder)
    for f in formats:
        _format_of(Path(f"x.{f}"), f)
    targets = [(plot, folder / f"{plot.name}.{f}", f) for plot in plots for f in formats]
    if not force:
        existing = [p for _, p, _ in targets if p.exists()]
        if existing:
            raise FileExistsError(f"{len(existing)} figure file(s) already exist in {folder}, "
                                  f"e.g. {existing[0].name}; not overwritten (use force=True, "
                                  f"or --force on the command line)")
    folder.mkdir(parents=True, exist_ok=True)
    return [export_figure(plot, p, fmt=f, width_in=width_in, height_in=height_in, dpi=dpi,
                          style=style, force=force, provenance=provenance)
            for plot, p, f in targets]


def copy_to_clipboard(plot: Any, *, dpi: float = 150, width_in: float = 6.0,
                      height_in: float = 4.0,
                      style: PlotStyle | str | None = None) -> QImage:
    """Put the figure on the system clipboard as an image; returns the image."""
    _check_size(width_in, height_in, dpi, "png")
    image = render_image(plot, width_in=width_in, height_in=height_in, dpi=dpi, style=style)
    QApplication.clipboard().setImage(image)
    return image


def render_image(plot: Any, *, width_in: float = 6.0, height_in: float = 4.0,
                 dpi: float = 150, style: PlotStyle | str | None = None) -> QImage:
    """The figure as a ``QImage`` of exactly ``round(width_in*dpi) x round(height_in*dpi)``."""
    width_px, height_px = round(width_in * dpi), round(height_in * dpi)
    with _prepared(plot, style, width_in, height_in) as (view, source, st):
        image = QImage(width_px, height_px, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor(st.background))
        # Scale at the device level: pyqtgraph items that reset the painter's world
        # transform (scatter markers) would drop a world-transform scale.
        zoom = width_px / source.width()  # = scale, or scale / k when zoomed out
        image.setDevicePixelRatio(zoom)
        painter = QPainter(image)
        try:
            _render(view, painter, source, QRectF(source), pen_scale=zoom, world_scale=1.0)
        finally:
            painter.end()
        image.setDevicePixelRatio(1.0)
        # Metadata only (pHYs chunk); set after painting so fonts were laid out at 96 dpi.
        dpm = round(dpi / 0.0254)
        image.setDotsPerMeterX(dpm)
        image.setDotsPerMeterY(dpm)
    return image


def render_bytes(plot: Any, fmt: str, *, width_in: float = 6.0, height_in: float = 4.0,
                 dpi: float = 150, style: PlotStyle | str | None = None,
                 provenance: Mapping[str, Any] | None = None) -> bytes:
    """The figure as the bytes of a PNG, SVG or PDF file (provenance embedded)."""
    fmt = _format_of(Path(f"x.{fmt}"), fmt)
    meta = json.dumps(dict(provenance) if provenance is not None else plot_provenance(plot),
                      ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if fmt == "png":
        image = render_image(plot, width_in=width_in, height_in=height_in, dpi=dpi,
                             style=style)
        image.setText("Software", f"Feature Spectrum Lab {engine.__version__}")
        image.setText("Title", str(getattr(plot, "title", "figure")))
        image.setText("Description", meta)
        return _image_png_bytes(image)
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    title = str(getattr(plot, "title", "figure"))
    with _prepared(plot, style, width_in, height_in) as (view, source, st):
        # The device resolution stays 96 dpi: Qt sizes point-size fonts by the paint
        # device's DPI, and the layout was measured at 96. The page is the logical
        # figure size; a zoomed-out layout (source larger than the page) is mapped
        # onto it by the painter's world transform (see _render).
        w, h = width_in * LOGICAL_DPI, height_in * LOGICAL_DPI
        if fmt == "svg":
            gen = QSvgGenerator()
            gen.setOutputDevice(buf)
            gen.setSize(QSize(round(w), round(h)))
            gen.setViewBox(QRectF(0, 0, w, h))
            gen.setResolution(round(LOGICAL_DPI))
            gen.setTitle(title)
            gen.setDescription(meta)
            device: Any = gen
        else:
            pdf = QPdfWriter(buf)
            pdf.setResolution(round(LOGICAL_DPI))
            pdf.setPageSize(QPageSize(QSizeF(width_in, height_in), QPageSize.Unit.Inch,
                                      "figure", QPageSize.SizeMatchPolicy.ExactMatch))
            pdf.setPageMargins(QMarginsF(0, 0, 0, 0))
            pdf.setTitle(title)
            pdf.setCreator(f"Feature Spectrum Lab {engine.__version__}")
            pdf.setDocumentXmpMetadata(_xmp(title, meta))
            device = pdf
        painter = QPainter(device)
        if not painter.isActive():
            raise RuntimeError(f"could not start painting the {fmt.upper()} file")
        try:
            target = QRectF(0, 0, w, h)
            painter.fillRect(target, QColor(st.background))
            _render(view, painter, source, target, pen_scale=w / source.width(),
                    world_scale=w / source.width())
        finally:
            painter.end()
    buf.close()
    return bytes(buf.data().data())


def plot_provenance(plot: PlotBase) -> dict[str, Any]:
    """Provenance of what ``plot`` shows: :func:`engine.export.provenance` of its views.

    The plot keeps the :class:`engine.views.Views` it draws: their ``config`` produced
    them and their ``seeds`` are the simulated seeds drawn (none for theory only).
    Without views (an empty plot), the app and library versions only.
    """
    views = plot.views
    if views is not None:
        return engine_provenance(views.config, seeds=views.seeds)
    prov = engine_provenance(Config())
    return {k: v for k, v in prov.items()
            if k in ("app", "app_version", "python", "numpy", "scipy", "platform", "date")}


def _xmp(title: str, description: str) -> bytes:
    """An XMP packet with the title, the creator tool and the provenance (PDF metadata)."""
    t, d = escape(title), escape(description)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>\n'
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{d}</rdf:li></rdf:Alt>'
        '</dc:description>\n'
        f'   <xmp:CreatorTool>Feature Spectrum Lab {engine.__version__}</xmp:CreatorTool>\n'
        '  </rdf:Description>\n'
        ' </rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    ).encode()


# =========================================================================== internals


def _format_of(path: Path, fmt: str | None) -> str:
    f = (fmt or path.suffix.lstrip(".")).lower()
    if f not in FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FORMATS)} (from fmt= or "
                         f"the file suffix), got {f or path.name!r}")
    return f


def _check_size(width_in: float, height_in: float, dpi: float, fmt: str) -> None:
    for name, v, lo, hi in (("width_in", width_in, 0.5, 100), ("height_in", height_in, 0.5, 100),
                            ("dpi", dpi, 10, 2400)):
        if not (isinstance(v, (int, float)) and lo <= v <= hi):
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {v!r}")
    if fmt == "png" and round(width_in * dpi) * round(height_in * dpi) > MAX_PIXELS:
        raise ValueError(f"a {width_in} x {height_in} in PNG at {dpi} dpi has more than "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels; lower the size or DPI")


def _image_png_bytes(image: QImage) -> bytes:
    arr = QByteArray()
    buf = QBuffer(arr)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise RuntimeError("Qt could not encode the PNG")
    buf.close()
    return bytes(arr.data())


def _resolve_style(plot: Any, style: PlotStyle | str | None) -> PlotStyle | None:
    if isinstance(style, str):
        return get_style(style)
    return style


@contextlib.contextmanager
def _prepared(plot: Any, style: PlotStyle | str | None, width_in: float,
              height_in: float) -> Iterator[tuple[pg.GraphicsView, QRectF, PlotStyle]]:
    """Apply the export style and lay the scene out at the logical figure size.

    Yields the view, the source rectangle to render (the laid-out scene area) and the
    style. The source is the logical size ``96*width_in x 96*height_in`` unless the
    figure cannot be laid out that small (its items' minimum sizes — long titles,
    wide legends or tick labels at presentation font sizes — exceed it); then the
    source is enlarged by the smallest factor ``k`` that fits, keeping the aspect
    ratio, and the caller maps it onto the same output, i.e. the figure is zoomed out
    by ``k`` rather than clipped. Restores the previous style and geometry on exit.
    """
    new_style = _resolve_style(plot, style)
    previous = getattr(plot, "style", None)
    view = plot.graphics_view()
    central: QGraphicsWidget = view.centralWidget
    old_geometry = central.geometry()
    restyled = new_style is not None and new_style != previous
    # Axes remember the widest tick label they have drawn and only shrink when a label
    # is >10 px narrower (pyqtgraph's hysteresis), so the export's larger fonts would
    # leave the on-screen axes wider afterwards: remember and restore that state.
    axes = [(ax, ax.textWidth, ax.textHeight) for ax in view.scene().items()
            if isinstance(ax, pg.AxisItem)]
    try:
        if restyled:
            plot.apply_style(new_style)
        # A hidden tab defers its redraw (PlotBase._schedule); draw it now.
        plot.ensure_drawn()
        st = new_style or previous
        if st is None:
            raise TypeError("the plot has no current style; pass style=")
        w, h = width_in * LOGICAL_DPI, height_in * LOGICAL_DPI
        k = 1.0
        for _ in range(4):
            central.setGeometry(QRectF(0, 0, w * k, h * k))
            _settle(view)
            need = central.effectiveSizeHint(Qt.SizeHint.MinimumSize)
            k_new = max(k, need.width() / w, need.height() / h)
            if k_new <= k * 1.0001:
                break
            k = k_new * 1.01  # a little slack so rounding does not clip the last pixel
        yield view, QRectF(0, 0, w * k, h * k), st
    finally:
        # Style first: the export style's larger fonts raise the minimum size, and a
        # geometry restored under it would be clamped (a pixel or so too wide).
        if restyled and previous is not None:
            plot.apply_style(previous)
        for ax, text_width, text_height in axes:
            ax.textWidth, ax.textHeight = text_width, text_height
            # (private in pyqtgraph; each applies to one orientation only: the other
            # would clamp the axis' length to its text size)
            with contextlib.suppress(AttributeError):
                if ax.orientation in ("left", "right"):
                    ax._updateWidth()  # noqa: SLF001
                else:
                    ax._updateHeight()  # noqa: SLF001
        _settle(view)
        central.setGeometry(old_geometry)
        _settle(view)


def _settle(view: pg.GraphicsView) -> None:
    """Finish the layout at the new size, synchronously.

    Axis items widen themselves for their tick labels while painting (pyqtgraph
    measures text then), which posts a layout request; one throwaway render, then the
    posted events, then activating every layout, gives a stable layout to render.
    """
    scene = view.scene()
    central = view.centralWidget
    for _ in range(2):
        # 1:1, not a thumbnail: axes measure their tick labels with this painter, and
        # text measured at a tiny scale would leave them a pixel or two off.
        rect = central.geometry()
        scratch = QImage(max(1, round(rect.width())), max(1, round(rect.height())),
                         QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(scratch)
        scene.render(p, QRectF(0, 0, scratch.width(), scratch.height()), rect)
        p.end()
        # Only layout requests: running other queued events (a worker's result, a
        # timer's slot) in the middle of an export would re-enter the GUI.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        for item in [central, *central.childItems()]:
            _activate_layouts(item)


def _activate_layouts(item: QGraphicsItem) -> None:
    # pyqtgraph items shadow layout() with a ``layout`` attribute: call Qt's method.
    if isinstance(item, QGraphicsWidget):
        layout = QGraphicsWidget.layout(item)
        if layout is not None:
            layout.activate()
    for child in item.childItems():
        _activate_layouts(child)


def _render(view: pg.GraphicsView, painter: QPainter, source: QRectF, target: QRectF, *,
            pen_scale: float, world_scale: float) -> None:
    """Paint ``source`` (scene coordinates) onto ``target`` (painter coordinates).

    ``world_scale`` is target/source (1 for PNG, whose scaling is the device-pixel
    ratio); ``pen_scale`` is what cosmetic pens must be widened by to keep their
    proportions (the total scale: cosmetic pens ignore both kinds of scaling).
    """
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    scene = view.scene()
    items = [it for it in scene.items() if isinstance(it, pg.GraphicsItem)]
    for it in items:
        # Vector markers (not the on-screen pixmap atlas, blurry when scaled), full
        # antialiasing. Scatter markers reset the painter's world transform and size
        # themselves by resolutionScale, so it must be the world scale (a PNG's
        # device-pixel ratio survives that reset, hence 1 there).
        it.setExportMode(True, {"antialias": True, "painter": painter,
                                "resolutionScale": world_scale})
    # Legends ignore transformations, so a world scale would not shrink them with the
    # rest; they sit in their ViewBox's pixel coordinates, so without the flag they
    # draw at the same place and size, and then follow the world scale.
    legends = [it for it in items if isinstance(it, pg.LegendItem)
               and it.flags() & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations]
    if abs(world_scale - 1.0) > 1e-9:
        for it in legends:
            it.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
    else:
        legends = []
    try:
        with _scaled_pens(scene, pen_scale):
            scene.render(painter, target, source)
    finally:
        for it in legends:
            it.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        for it in items:
            it.setExportMode(False)


def _scaled(pen: Any, factor: float) -> Any:
    if pen is None or not isinstance(pen, QPen):
        return pen
    out = QPen(pen)
    width = pen.widthF()
    # A width of 0 is Qt's 1-pixel cosmetic pen.
    out.setWidthF((width if width > 0 else 1.0) * factor)
    return out


class _PenWidener:
    """Widens the pens of scene items in place and remembers how to undo it exactly.

    Pens live in different places per item type (an options dict, an attribute, a
    per-point array); each is swapped where it lives, so nothing is re-created.
    """

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.undo: list[Any] = []

    def option(self, d: dict[str, Any], *keys: str) -> None:
        for key in keys:
            pen = d.get(key)
            if isinstance(pen, QPen):
                self.undo.append(lambda d=d, key=key, pen=pen: d.__setitem__(key, pen))
                d[key] = _scaled(pen, self.factor)

    def axis(self, it: pg.AxisItem) -> None:
        # setPen invalidates the axis' cached picture (it records the pens).
        pen, tpen = it.pen(), it.textPen()
        self.undo.append(lambda: (it.setPen(pen), it.setTextPen(tpen)))
        it.setPen(_scaled(pen, self.factor))
        it.setTextPen(tpen)

    def scatter(self, it: pg.ScatterPlotItem) -> None:
        self.option(it.opts, "pen")
        pens = it.data["pen"]
        if len(pens):
            saved = pens.copy()
            self.undo.append(lambda: it.data.__setitem__("pen", saved))
            new = pens.copy()
            for i, p in enumerate(pens):
                new[i] = _scaled(p, self.factor) if isinstance(p, QPen) else p
            it.data["pen"] = new

    def bars(self, it: pg.BarGraphItem) -> None:
        # bars are painted from a cached picture: drop it before and after
        self.option(it.opts, "pen")
        it.picture = None
        self.undo.append(lambda: setattr(it, "picture", None))

    def legend_sample(self, it: ItemSample) -> None:
        # A legend sample draws from a data-less item outside the scene.
        self.option(it.item.opts, "pen", "symbolPen")
        scatter = getattr(it.item, "scatter", None)
        if scatter is not None:
            self.option(scatter.opts, "pen")

    def curve(self, it: Any) -> None:
        self.option(it.opts, "pen", "shadowPen")

    def data_item(self, it: pg.PlotDataItem) -> None:
        # Only legend samples read these (the child curve/scatter draw the data).
        self.option(it.opts, "pen", "shadowPen", "symbolPen")

    def infinite_line(self, it: pg.InfiniteLine) -> None:
        pen = it.pen
        self.undo.append(lambda: (setattr(it, "pen", pen), setattr(it, "currentPen", pen)))
        it.pen = _scaled(pen, self.factor)
        it.currentPen = it.pen

    def shape(self, it: QAbstractGraphicsShapeItem) -> None:
        pen = it.pen()
        self.undo.append(lambda: it.setPen(pen))
        it.setPen(_scaled(pen, self.factor))

    def widen(self, it: Any) -> None:
        """The first handler whose type matches ``it`` (order matters: subclasses first)."""
        for kind, handler in (
                (pg.AxisItem, self.axis), (pg.ScatterPlotItem, self.scatter),
                (pg.BarGraphItem, self.bars), (ItemSample, self.legend_sample),
                ((pg.PlotCurveItem, pg.ErrorBarItem, pg.LegendItem), self.curve),
                (pg.PlotDataItem, self.data_item), (pg.InfiniteLine, self.infinite_line),
                (QAbstractGraphicsShapeItem, self.shape)):
            if isinstance(it, kind):
                handler(it)
                return


@contextlib.contextmanager
def _scaled_pens(scene: Any, factor: float) -> Iterator[None]:
    """Widen every pen in the scene by ``factor``; restore the originals on exit."""
    if abs(factor - 1.0) < 1e-9:
        yield
        return
    widener = _PenWidener(factor)
    try:
        for it in scene.items():
            widener.widen(it)
        yield
    finally:
        for fn in reversed(widener.undo):
            fn()


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` in pixels of an image file (a small helper for tests/tools)."""
    img = QImage(str(path))
    if img.isNull():
        raise ValueError(f"{path} is not a readable image")
    return img.width(), img.height()


def image_array(image: QImage) -> np.ndarray:
    """RGBA ``uint8`` array (H, W, 4) of an image, for checks in tests."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
    return arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width()].copy()
