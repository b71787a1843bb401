"""Figure export (PNG/SVG/PDF/clipboard), sessions through the plots, headless export.

Every format is written and read back: PNG sizes and line widths measured in pixels,
SVG parsed as XML, PDF checked for its header and page size.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import re  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from synthetic import make_config, make_result  # noqa: E402

from engine import views  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.results import RunResult  # noqa: E402
from engine.session import load_session, save_session  # noqa: E402
from engine.views import Views  # noqa: E402
from gui import figure_export  # noqa: E402
from gui.figure_export import (  # noqa: E402
    copy_to_clipboard,
    export_all,
    export_figure,
    image_array,
)
from gui.plots import create_plots  # noqa: E402
from gui.plots.base import PlotBase, mkpen  # noqa: E402
from gui.style import ON_SCREEN, PRESENTATION  # noqa: E402

X_LABEL = "kappa_x [units]"
Y_LABEL = "density_y [1/units]"
LINE_RGB = (0xD5, 0x5E, 0x00)  # Okabe-Ito vermillion: easy to find in the pixels


class LinePlot(PlotBase):
    """The smallest real PlotBase: one horizontal line at y = 0.5, axis labels."""

    name = "line"
    title = "A line"

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        item.setLabel("bottom", X_LABEL)
        item.setLabel("left", Y_LABEL)
        item.setXRange(0, 1, padding=0)
        item.setYRange(0, 1, padding=0)
        self._panel = self._add_panel("line", item)
        return view

    def _redraw(self) -> None:
        self._begin()
        self._panel.pool.line("line", [0.0, 1.0], [0.5, 0.5],
                              mkpen("#D55E00", self._style.line_width))
        self._end()

    def export_data(self) -> dict[str, tuple[list[str], np.ndarray]]:
        return {"line": (["x [units]", "y [units]"], np.array([[0.0, 0.5], [1.0, 0.5]]))}


@pytest.fixture
def line_plot(qtbot) -> LinePlot:  # noqa: ANN001
    plot = LinePlot(ON_SCREEN)
    qtbot.addWidget(plot)
    plot.resize(500, 350)
    return plot


def _line_thickness(path: Path, background: str = ON_SCREEN.background) -> float:
    """Effective width in pixels of the horizontal line: summed line 'coverage' per column.

    Antialiased edges count by how far their colour has moved from the background to
    the line colour, so a 2-px line straddling a pixel boundary still measures ~2.
    """
    arr = image_array(QImage(str(path))).astype(float)[..., :3]
    bg = np.array(QColor(background).getRgb()[:3], float)
    line = np.array(LINE_RGB, float)
    span = line - bg
    cover = np.clip(((arr - bg) @ span) / (span @ span), 0, 1)
    # ignore pixels that are not on the line's colour axis (text, axes)
    off_axis = np.linalg.norm((arr - bg) - cover[..., None] * span, axis=-1) > 40
    cover[off_axis] = 0
    h, w = cover.shape
    cols = cover[:, w // 3: 2 * w // 3]
    # only a band around the line: grid lines elsewhere must not count
    band = int(np.ceil(6 * h / 384))  # 6 logical pixels
    centre = int(np.median(cols.argmax(axis=0)))
    return float(np.median(cols[max(centre - band, 0): centre + band + 1].sum(axis=0)))


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize("width_in, height_in, dpi", [(6.0, 4.0, 150), (3.5, 2.5, 300),
                                                      (5.0, 5.0, 72)])
def test_png_has_exact_size_and_dpi(line_plot: LinePlot, tmp_path: Path, width_in: float,
                                    height_in: float, dpi: int) -> None:
    out = export_figure(line_plot, tmp_path / "f.png", width_in=width_in, height_in=height_in,
                        dpi=dpi)
    img = QImage(str(out))
    assert (img.width(), img.height()) == (round(width_in * dpi), round(height_in * dpi))
    assert img.dotsPerMeterX() == pytest.approx(dpi / 0.0254, abs=1)


def test_png_lines_scale_with_dpi(line_plot: LinePlot, tmp_path: Path) -> None:
    """Pens are widened by dpi/96: no hairlines at 300 dpi (docs/architecture.md#pitfalls)."""
    t96 = _line_thickness(export_figure(line_plot, tmp_path / "a.png", dpi=96))
    t288 = _line_thickness(export_figure(line_plot, tmp_path / "b.png", dpi=288))
    assert 1.5 <= t96 <= 2.6  # ON_SCREEN line_width is 2 px at 96 dpi
    assert 2.5 <= t288 / t96 <= 3.5


def test_png_text_scales_with_dpi(line_plot: LinePlot, tmp_path: Path) -> None:
    """Fonts grow with the DPI too: the dark (text/axis) pixels scale like the area."""
    def ink(path: Path) -> float:
        arr = image_array(QImage(str(path))).astype(int)[..., :3]
        fg = np.array([0xDD, 0xDD, 0xDD])  # ON_SCREEN foreground on a dark background
        return float((np.abs(arr - fg).sum(axis=-1) < 120).sum())

    a = ink(export_figure(line_plot, tmp_path / "a.png", dpi=96))
    b = ink(export_figure(line_plot, tmp_path / "b.png", dpi=192))
    assert 3.0 <= b / a <= 5.0  # ~4 = 2^2 for everything scaled by 2


def test_presentation_style_applied_then_restored(line_plot: LinePlot, tmp_path: Path) -> None:
    out = export_figure(line_plot, tmp_path / "p.png", style=PRESENTATION, dpi=96)
    corner = QImage(str(out)).pixelColor(2, 2)
    assert corner == QColor(PRESENTATION.background)
    assert line_plot.style is ON_SCREEN
    assert line_plot.plot_widget.backgroundBrush().color() == QColor(ON_SCREEN.background)
    out = export_figure(line_plot, tmp_path / "s.png", dpi=96)  # style=None: as on screen
    assert QImage(str(out)).pixelColor(2, 2) == QColor(ON_SCREEN.background)
    out = export_figure(line_plot, tmp_path / "n.png", style="presentation", dpi=96)
    assert QImage(str(out)).pixelColor(2, 2) == QColor(PRESENTATION.background)


def test_geometry_restored_after_export(line_plot: LinePlot, tmp_path: Path) -> None:
    central = line_plot.plot_widget.centralWidget
    before = central.geometry()
    export_figure(line_plot, tmp_path / "g.png", width_in=9, height_in=2, dpi=50)
    assert central.geometry() == before


# --------------------------------------------------------------------------- SVG / PDF


def test_svg_is_xml_with_paths_and_axis_labels(line_plot: LinePlot, tmp_path: Path) -> None:
    out = export_figure(line_plot, tmp_path / "f.svg", width_in=6, height_in=4,
                        style=PRESENTATION)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    assert tags & {"path", "polyline"}
    texts = " ".join(t for el in root.iter() for t in (el.text,) if t)
    assert "kappa_x" in texts and "density_y" in texts
    assert root.get("width") == "152.4mm" and root.get("height") == "101.6mm"  # 6 x 4 in


def test_pdf_has_header_and_page_size(line_plot: LinePlot, tmp_path: Path) -> None:
    out = export_figure(line_plot, tmp_path / "f.pdf", width_in=6, height_in=4,
                        style=PRESENTATION)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 3000
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert box and (float(box.group(1)), float(box.group(2))) == pytest.approx((432, 288),
                                                                               abs=1)


def test_format_from_suffix_and_bad_format(line_plot: LinePlot, tmp_path: Path) -> None:
    out = export_figure(line_plot, tmp_path / "noext", fmt="svg")
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    with pytest.raises(ValueError, match="png, svg, pdf"):
        export_figure(line_plot, tmp_path / "f.gif")
    with pytest.raises(ValueError, match="dpi"):
        export_figure(line_plot, tmp_path / "f.png", dpi=0)


# --------------------------------------------------------------------------- files


def test_overwrite_refused_without_force(line_plot: LinePlot, tmp_path: Path) -> None:
    f = tmp_path / "f.png"
    f.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="force"):
        export_figure(line_plot, f)
    assert f.read_bytes() == b"precious"
    export_figure(line_plot, f, force=True)
    assert QImage(str(f)).width() == 900


def test_failed_render_keeps_old_file_and_style(line_plot: LinePlot, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "f.png"
    f.write_bytes(b"old figure")
    central = line_plot.plot_widget.centralWidget
    geometry = central.geometry()

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(figure_export, "_render", boom)
    with pytest.raises(RuntimeError, match="exploded"):
        export_figure(line_plot, f, style=PRESENTATION, force=True)
    assert f.read_bytes() == b"old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]  # no temp file
    assert line_plot.style is ON_SCREEN
    assert central.geometry() == geometry


def test_copy_to_clipboard(line_plot: LinePlot) -> None:
    image = copy_to_clipboard(line_plot, dpi=100, width_in=4, height_in=3)
    assert (image.width(), image.height()) == (400, 300)
    clip = QApplication.clipboard().image()
    assert (clip.width(), clip.height()) == (400, 300)


# --------------------------------------------------------------------------- real plots


@pytest.fixture
def real_plots(qtbot) -> list[PlotBase]:  # noqa: ANN001
    plots = create_plots(ON_SCREEN)
    for p in plots:
        qtbot.addWidget(p)
        p.resize(700, 450)
    return plots


def _views(config: Config, result: RunResult) -> Views:
    """Both halves of every view, as the app builds them from a result."""
    snapshot = tuple(c.points[0] for c in result.curves)
    bundle = views.TheoryBundle(config, run=result, snapshot=snapshot, stage="snapshot")
    return views.combine(views.theory_views(bundle), views.simulation_views(result, config),
                         config)


def test_export_all_real_plots(real_plots: list[PlotBase], tmp_path: Path) -> None:
    result = make_result()
    v = _views(result.config, result)
    for p in real_plots:
        p.set_views(v)
    files = export_all(real_plots, tmp_path, style=PRESENTATION, dpi=100)
    assert len(files) == 3 * len(real_plots)
    for f in files:
        assert f.stat().st_size > 2000, f
        if f.suffix == ".png":
            img = QImage(str(f))
            assert (img.width(), img.height()) == (600, 400)
            # a real figure, not a blank page: many distinct colours
            arr = image_array(img)[..., :3].reshape(-1, 3)
            assert len(np.unique(arr[::7], axis=0)) > 20, f
        elif f.suffix == ".svg":
            ET.parse(f)
        else:
            assert f.read_bytes().startswith(b"%PDF")
    assert all(p.style is ON_SCREEN for p in real_plots)
    # every figure carries the provenance of the config it shows
    png = QImage(str(tmp_path / "spectrum.png"))
    prov = json.loads(png.text("Description"))
    assert prov["config"] == result.config.to_dict() and "eta" in prov["conventions"]
    assert prov["seeds"] == list(v.seeds)
    desc = [el.text for el in ET.parse(tmp_path / "tail.svg").getroot().iter()
            if el.tag.endswith("desc")]
    assert json.loads(desc[0])["config"]["model"]["d"] == result.config.model.d
    pdf = (tmp_path / "weights.pdf").read_bytes()
    assert b"dc:description" in pdf and b"eta_tilde" in pdf
    before = files[0].read_bytes()
    with pytest.raises(FileExistsError):
        export_all(real_plots, tmp_path, style=PRESENTATION, dpi=100)
    assert files[0].read_bytes() == before


def _tables(plot: PlotBase) -> dict[str, tuple[list[str], np.ndarray]]:
    return {k: (list(cols), np.asarray(rows)) for k, (cols, rows) in plot.export_data().items()}


def test_session_round_trip_gives_identical_plot_data(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = make_config()
    result = make_result(cfg)
    first = create_plots(ON_SCREEN)
    for p in first:
        qtbot.addWidget(p)
        p.resize(700, 450)
        p.set_views(_views(cfg, result))
    path = save_session(tmp_path / "s.json", cfg, result, ui={"tab": "spectrum"})
    session = load_session(path)
    config, loaded = session.config, session.result
    assert config == cfg
    second = create_plots(ON_SCREEN)
    n_tables = 0
    for a, b in zip(first, second, strict=True):
        qtbot.addWidget(b)
        b.resize(700, 450)
        b.set_views(_views(config, loaded))
        ta, tb = _tables(a), _tables(b)
        assert ta.keys() == tb.keys(), a.name
        for k in ta:
            assert ta[k][0] == tb[k][0]
            x, y = ta[k][1], tb[k][1]
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), \
                (a.name, k)
            n_tables += 1
    assert n_tables >= 3  # the plots really drew something to compare
