"""Spectrum of the feature covariance ``(1/n) Phi^T Phi``: histogram vs theory density.

Before the step (``eta_tilde = 0``) is dashed, after the step solid; overlaid in one
panel or side by side. Outliers are of order ``p``, far right of the bulk, so they get
their own narrow panel on a log axis (a "broken axis") with the predicted positions as
vertical lines and the simulated ones as markers; their values are also in the legend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.plots.base import (
    NEUTRAL,
    PlotBase,
    curve_label,
    mkbrush,
    mkpen,
    pooled,
    set_log_ticks,
)

LAMBDA = "λ"
RHO = "ρ(λ)"


def _bulk_of(seed: Any, before: bool) -> np.ndarray:
    eig = seed.eigenvalues_before if before else seed.eigenvalues
    if eig is None:
        return np.zeros(0)
    eig = np.asarray(eig, dtype=float)
    if before:
        # the engine separates outliers after the step only; before the step (relu)
        # there can be one of order p too, which would squash the histogram
        from engine.spectra import split_outliers

        return np.asarray(split_outliers(eig)[0], dtype=float)
    k = len(seed.outliers) if seed.outliers is not None else 0
    # eigenvalues are ascending and the outliers are the k largest
    return eig[: eig.size - k] if k else eig


def _few_ticks(lo: float, hi: float, n: int = 3) -> list[tuple[float, str]]:
    """About ``n`` round tick positions in [lo, hi] (1-2-5 steps)."""
    raw = max(hi - lo, 1e-12) / n
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= raw)
    first = np.ceil(lo / step) * step
    return [(float(v), f"{v:g}") for v in np.arange(first, hi + 1e-9 * step, step)]


class SpectrumPlot(PlotBase):
    """Histogram of eigenvalues with the theory density, before and after the step."""

    name = "spectrum"
    title = "Spectrum"

    def _build(self) -> pg.GraphicsView:
        view = pg.GraphicsLayoutWidget()
        self._p_before = pg.PlotItem()
        self._p_after = pg.PlotItem()
        self._p_out = pg.PlotItem()
        for item in (self._p_before, self._p_after):
            self._set_labels(item, f"{LAMBDA}  (eigenvalue of Φᵀ Φ / n)", f"density  {RHO}")
        self._p_out.setLabel("bottom", f"outliers {LAMBDA}")
        self._p_out.hideAxis("left")
        self._p_out.setLogMode(x=True, y=False)
        self._p_out.setYRange(0, 1)
        self._p_out.setMouseEnabled(y=False)
        self._p_before.setYLink(self._p_after)
        self._add_legend(self._p_after)
        self._add_legend(self._p_before)
        self._layout_mode: tuple[bool, bool] | None = None
        self._view = view
        return view

    def plot_items(self) -> list[pg.PlotItem]:
        return [self._p_before, self._p_after, self._p_out]

    def _arrange(self, overlay: bool, outliers: bool) -> None:
        # All three panels stay in the layout for the widget's lifetime; a panel not in
        # use is hidden with zero width. Why: a PlotItem removed from a GraphicsLayout and
        # later garbage-collected crashes PySide6 6.12 at interpreter exit.
        ci = self._view.ci
        if not ci.items:
            ci.addItem(self._p_before, row=0, col=0)
            ci.addItem(self._p_after, row=0, col=1)
            ci.addItem(self._p_out, row=0, col=2)
            self._install_readout(self._p_after, LAMBDA, RHO)
            self._install_readout(self._p_before, LAMBDA, RHO)
            self._install_readout(self._p_out, LAMBDA, "")
        mode = (overlay, outliers)
        if mode == self._layout_mode:
            return
        for item, visible, width in ((self._p_before, not overlay, None),
                                     (self._p_out, outliers, 230)):
            item.setVisible(visible)
            if visible:
                item.setMinimumWidth(150 if width else 0)
                item.setMaximumWidth(width if width else 16777215)
            else:
                item.setMinimumWidth(0)
                item.setMaximumWidth(0)
        self._layout_mode = mode

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        overlay = bool(self.options.get("overlay", True))
        log_x = bool(self.options.get("log_x", False))
        log_y = bool(self.options.get("log_y", False))
        st = self._style
        out_theory: list[tuple[int, str, float]] = []
        out_sim: list[tuple[int, str, float]] = []

        theory_pts = self._theory.selected_points() if self._theory else []
        sim_pts = self._sim.selected_points() if self._sim else []
        multi = max(len(theory_pts), len(sim_pts)) > 1
        after_item = self._p_after
        before_item = self._p_after if overlay else self._p_before
        # compact legends: one entry per curve (its colour) + a neutral key per kind
        curve_names: dict[int, str] = {}
        kinds: dict[Any, dict[str, Any]] = {self._p_after: {}, self._p_before: {}}
        series: dict[Any, list[tuple[Any, Any]]] = {self._p_after: [], self._p_before: []}
        lw = st.line_width

        for ci, label, point in theory_pts:
            color = self._curve_color(ci)
            lab = curve_label(label, ci)
            curve_names.setdefault(ci, lab)
            spec = point.theory_spectrum
            before = point.theory_spectrum_before
            if before is not None and (point.model.eta_tilde > 0 or spec is None):
                self._line(before_item, before.grid, self._pos(before.density, log_y),
                           color if multi else st.foreground, dash=True, alpha=200)
                kinds[before_item].setdefault("theory, before (η̃ = 0)", dict(
                    pen=mkpen(NEUTRAL if multi else st.foreground, lw,
                              Qt.PenStyle.DashLine)))
                series[before_item].append((before.grid, before.density))
                self._tables[f"theory_before{'_' + lab if lab else ''}"] = (
                    ["lambda", "rho_before(lambda)"],
                    np.column_stack([before.grid, before.density]))
            if spec is not None:
                self._line(after_item, spec.grid, self._pos(spec.density, log_y), color)
                key = ("theory, after" if multi
                       else f"theory, after (η̃ = {point.model.eta_tilde:g})")
                kinds[after_item].setdefault(key, dict(pen=mkpen(NEUTRAL if multi else color,
                                                                 lw)))
                series[after_item].append((spec.grid, spec.density))
                self._tables[f"theory_after{'_' + lab if lab else ''}"] = (
                    ["lambda", "rho(lambda)"], np.column_stack([spec.grid, spec.density]))
                for x in np.asarray(spec.outliers, dtype=float):
                    out_theory.append((ci, lab, float(x)))
                if spec.atom_zero > 1e-9:
                    after_item.addItem(pg.TextItem(f"atom at 0: mass {spec.atom_zero:.3g}",
                                                   color=st.foreground, anchor=(0, 0)))

        for ci, label, point in sim_pts:
            color = self._curve_color(ci)
            lab = curve_label(label, ci)
            curve_names.setdefault(ci, lab)
            for model in ("network", "srf"):
                seeds = point.sims.get(model, ())
                if not seeds:
                    continue
                after = np.concatenate([_bulk_of(s, False) for s in seeds])
                before = np.concatenate([_bulk_of(s, True) for s in seeds])
                tag = "network" if model == "network" else "sRF"
                if after.size:
                    hcolor = color if model == "network" else self._curve_color(ci + 2)
                    hist = self._histogram(after_item, after, hcolor)
                    hkey = f"{tag} sim." + (f" ({len(seeds)} seeds)" if len(seeds) > 1 else "")
                    kinds[after_item].setdefault(hkey, dict(
                        pen=mkpen(NEUTRAL if multi else hcolor, 1.2),
                        fill=mkbrush(NEUTRAL if multi else hcolor, st.histogram_alpha)))
                    if hist is not None:
                        series[after_item].append((hist[0][1:], hist[1]))
                        self._tables[f"histogram_{model}_after{'_' + lab if lab else ''}"] = (
                            ["bin_left", "bin_right", "density"],
                            np.column_stack([hist[0][:-1], hist[0][1:], hist[1]]))
                if before.size and point.model.eta_tilde > 0:
                    from engine.spectra import histogram

                    edges, dens = histogram(before, bins=60)
                    curve = pg.PlotDataItem(np.asarray(edges, dtype=np.float64),
                                            np.asarray(dens, dtype=np.float64),
                                            stepMode="center",
                                            pen=mkpen(st.foreground, 1.0,
                                                      Qt.PenStyle.DashLine, 170))
                    before_item.addItem(curve)
                    kinds[before_item].setdefault("sim., before", dict(
                        pen=mkpen(st.foreground, 1.0, Qt.PenStyle.DashLine, 170)))
                    series[before_item].append((edges[1:], dens))
                    self._tables[f"histogram_{model}_before{'_' + lab if lab else ''}"] = (
                        ["bin_left", "bin_right", "density"],
                        np.column_stack([edges[:-1], edges[1:], dens]))
                outs = pooled(point, "outliers", model)
                for x in outs:
                    out_sim.append((ci, tag, float(x)))

        # --- the outlier panel (log x): theory as vertical lines, simulation as markers
        has_out = bool(out_theory or out_sim)
        self._arrange(overlay, has_out)
        if has_out:
            for ci, _lab, x in out_theory:
                if x > 0:
                    xs_span = [v for _, _, v in out_theory + out_sim if v > 0]
                    as_log = max(xs_span) / min(xs_span) > 4.0
                    line = pg.InfiniteLine(pos=np.log10(x) if as_log else x, angle=90,
                                           pen=mkpen(self._curve_color(ci), st.line_width))
                    self._p_out.addItem(line)
            theory_txt = ", ".join(f"{x:.3g}" for _, _, x in out_theory)
            if theory_txt:
                # the values go in the main legend: the narrow panel has no room for one
                kinds[after_item][f"outliers (theory): {theory_txt}"] = dict(
                    pen=mkpen(NEUTRAL if multi else self._curve_color(0), lw))
            if out_sim:
                xs = np.array([x for _, _, x in out_sim if x > 0], dtype=float)
                ys = np.linspace(0.2, 0.8, xs.size) if xs.size > 1 else np.full(xs.size, 0.5)
                sim_txt = (f"{xs[0]:.3g}" if xs.size == 1
                           else f"{xs.min():.3g} … {xs.max():.3g} ({xs.size})")
                self._points(self._p_out, xs, ys, self._curve_color(1), symbol="d")
                kinds[after_item][f"outliers (sim.): {sim_txt}"] = dict(
                    symbol="d", brush=mkbrush(self._curve_color(1)),
                    symbol_pen=mkpen(self._curve_color(1), 1.0))
            self._p_out.setYRange(0, 1.4, padding=0)
            xs_all = [x for _, _, x in out_theory + out_sim if x > 0]
            if xs_all:
                # log only when the outliers span a wide range (a = ±1 with different
                # sizes); a window around one value reads better on a linear axis
                lo, hi = min(xs_all), max(xs_all)
                out_log = hi / lo > 4.0
                self._p_out.setLogMode(x=out_log, y=False)
                axis = self._p_out.getAxis("bottom")
                if out_log:
                    self._p_out.setXRange(np.log10(lo / 1.5), np.log10(hi * 1.5), padding=0)
                    set_log_ticks(axis, True, minor_labels=False)
                else:
                    pad = max(0.08 * hi, hi - lo)
                    self._p_out.setXRange(lo - pad, hi + pad, padding=0)
                    # the panel is narrow: three ticks, not pyqtgraph's five that collide
                    axis.setTicks([_few_ticks(lo - pad, hi + pad), []])
            self._tables["outliers"] = (
                ["curve_index", "is_theory", "lambda"],
                np.array([[ci, 1.0, x] for ci, _, x in out_theory]
                         + [[ci, 0.0, x] for ci, _, x in out_sim], dtype=float).reshape(-1, 3))

        for item in (self._p_before, self._p_after):
            item.setLogMode(x=log_x, y=log_y)
            set_log_ticks(item.getAxis("bottom"), log_x)
        edges = [float(np.max(p.theory_spectrum.edges)) for _, _, p in theory_pts
                 if p.theory_spectrum is not None and np.size(p.theory_spectrum.edges)]
        edges += [float(np.max(p.theory_spectrum_before.edges)) for _, _, p in theory_pts
                  if p.theory_spectrum_before is not None
                  and np.size(p.theory_spectrum_before.edges)]
        if edges and not log_x:
            # the bulk is the subject: frame it (outliers have their own panel)
            for item in (self._p_before, self._p_after):
                item.setXRange(0.0, 1.08 * max(edges), padding=0)
        if not log_y:
            top = self._typical_top(theory_pts)
            if top is not None:
                for item in (self._p_before, self._p_after):
                    item.setYRange(0.0, top, padding=0.02)
        top = self._typical_top(theory_pts) if not log_y else None
        named = {ci: n for ci, n in curve_names.items() if n}
        for panel in (self._p_after, self._p_before):
            curves = []
            if panel is self._p_after and (len(named) > 1 or (named and len(curve_names) == 1)):
                curves = [(named[ci], self._key_sample(panel, pen=mkpen(
                    self._curve_color(ci), lw * 1.5))) for ci in sorted(named)]
            keys = [(name, self._key_sample(panel, **kw)) for name, kw in kinds[panel].items()]
            self._compact_legend(panel, curves, keys)
            data = [(x, np.minimum(np.asarray(y, dtype=float), top) if top else y)
                    for x, y in series[panel]]
            if panel.isVisible() or panel is self._p_after:
                self._fit_legend(panel, data)
        if overlay:
            self._set_labels(self._p_after, f"{LAMBDA}  (eigenvalue of Φᵀ Φ / n)",
                             f"density  {RHO}")
            self._p_after.getAxis("left").setStyle(showValues=True)
            self._set_title(self._p_after, "before (dashed) / after (solid)")
        else:
            # side by side the panels are narrow: short labels (long ones overlapped),
            # the shared y axis labelled once
            self._set_labels(self._p_before, LAMBDA, f"density  {RHO}")
            self._set_labels(self._p_after, LAMBDA, "")
            self._p_after.getAxis("left").setStyle(showValues=False)
            self._set_title(self._p_before, "before")
            self._set_title(self._p_after, "after")
        self._set_title(self._p_out, "outliers" if has_out else "")

    @staticmethod
    def _typical_top(points: list[tuple[int, str, Any]]) -> float | None:
        """A y range that shows the body of the densities, not an integrable spike.

        Densities can diverge at a hard edge (n = p) or have a narrow peak (tanh); on a
        uniform λ grid their 99th percentile frames the body. The full height is one
        click away (pyqtgraph's auto-range button) or on a log axis (View menu).
        """
        tops = []
        for _, _, p in points:
            for spec in (p.theory_spectrum, p.theory_spectrum_before):
                if spec is None or np.size(spec.grid) < 2:
                    continue
                grid = np.asarray(spec.grid, dtype=float)
                uniform = np.linspace(grid[0], grid[-1], 801)
                dens = np.interp(uniform, grid, np.asarray(spec.density, dtype=float))
                tops.append(float(np.percentile(dens, 99)))
        if not tops or max(tops) <= 0:
            return None
        return 1.25 * max(tops)

    @staticmethod
    def _pos(y: Any, log_y: bool) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        return y

