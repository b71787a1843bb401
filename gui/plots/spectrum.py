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

from gui.plots.base import PlotBase, curve_label, mkbrush, mkpen, pooled, set_log_ticks

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
        self._tables: dict[str, tuple[list[str], np.ndarray]] = {}
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
        if not hasattr(self, "_p_after"):
            return
        overlay = bool(self.options.get("overlay", True))
        log_x = bool(self.options.get("log_x", False))
        log_y = bool(self.options.get("log_y", False))
        st = self._style
        for item in (self._p_before, self._p_after, self._p_out):
            item.clear()
        self._tables = {}
        out_theory: list[tuple[int, str, float]] = []
        out_sim: list[tuple[int, str, float]] = []

        theory_pts = self._theory.selected_points() if self._theory else []
        sim_pts = self._sim.selected_points() if self._sim else []
        multi = max(len(theory_pts), len(sim_pts)) > 1
        after_item = self._p_after
        before_item = self._p_after if overlay else self._p_before

        for ci, label, point in theory_pts:
            color = st.color(ci)
            lab = curve_label(label, ci)
            spec = point.theory_spectrum
            before = point.theory_spectrum_before
            if before is not None and (point.model.eta_tilde > 0 or spec is None):
                name = f"theory, before (η̃ = 0){' ' + lab if multi else ''}"
                self._line(before_item, before.grid, self._pos(before.density, log_y),
                           color if multi else st.foreground, name=name, dash=True,
                           alpha=200)
                self._tables[f"theory_before{'_' + lab if lab else ''}"] = (
                    ["lambda", "rho_before(lambda)"],
                    np.column_stack([before.grid, before.density]))
            if spec is not None:
                name = f"theory, after (η̃ = {point.model.eta_tilde:g}){' ' + lab if multi else ''}"
                self._line(after_item, spec.grid, self._pos(spec.density, log_y), color,
                           name=name)
                self._tables[f"theory_after{'_' + lab if lab else ''}"] = (
                    ["lambda", "rho(lambda)"], np.column_stack([spec.grid, spec.density]))
                for x in np.asarray(spec.outliers, dtype=float):
                    out_theory.append((ci, lab, float(x)))
                if spec.atom_zero > 1e-9:
                    after_item.addItem(pg.TextItem(f"atom at 0: mass {spec.atom_zero:.3g}",
                                                   color=st.foreground, anchor=(0, 0)))

        for ci, label, point in sim_pts:
            color = st.color(ci)
            lab = curve_label(label, ci)
            for model in ("network", "srf"):
                seeds = point.sims.get(model, ())
                if not seeds:
                    continue
                after = np.concatenate([_bulk_of(s, False) for s in seeds])
                before = np.concatenate([_bulk_of(s, True) for s in seeds])
                tag = "network" if model == "network" else "sRF"
                suffix = f" {lab}" if multi else ""
                if after.size:
                    hist = self._histogram(after_item, after, color if model == "network"
                                           else st.color(ci + 2),
                                           name=f"{tag}, after ({len(seeds)} seed"
                                                f"{'s' if len(seeds) > 1 else ''}){suffix}")
                    if hist is not None:
                        self._tables[f"histogram_{model}_after{'_' + lab if lab else ''}"] = (
                            ["bin_left", "bin_right", "density"],
                            np.column_stack([hist[0][:-1], hist[0][1:], hist[1]]))
                if before.size and point.model.eta_tilde > 0:
                    from engine.spectra import histogram

                    edges, dens = histogram(before, bins=60)
                    curve = pg.PlotDataItem(np.asarray(edges, dtype=np.float64),
                                            np.asarray(dens, dtype=np.float64),
                                            stepMode="center",
                                            name=f"{tag}, before{suffix}",
                                            pen=mkpen(st.foreground, 1.0,
                                                      Qt.PenStyle.DashLine, 170))
                    before_item.addItem(curve)
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
                                           pen=mkpen(st.color(ci), st.line_width))
                    self._p_out.addItem(line)
            theory_txt = ", ".join(f"{x:.4g}" for _, _, x in out_theory)
            if theory_txt:
                # the values go in the main legend: the narrow panel has no room for one
                after_item.addItem(pg.PlotDataItem([], [], pen=mkpen(st.color(0), 1.0,
                                                                     Qt.PenStyle.DotLine),
                                                   name=f"outliers, theory: {theory_txt}"))
            if out_sim:
                xs = np.array([x for _, _, x in out_sim if x > 0], dtype=float)
                ys = np.linspace(0.2, 0.8, xs.size) if xs.size > 1 else np.full(xs.size, 0.5)
                sim_txt = (f"{xs[0]:.4g}" if xs.size == 1
                           else f"{xs.min():.4g} … {xs.max():.4g} ({xs.size})")
                self._points(self._p_out, xs, ys, st.color(1), symbol="d")
                after_item.addItem(pg.PlotDataItem([], [], pen=None, symbol="d",
                                                   symbolBrush=mkbrush(st.color(1)),
                                                   symbolPen=mkpen(st.color(1), 1.0),
                                                   name=f"outliers, sim.: {sim_txt}"))
            self._p_out.setYRange(0, 1.4, padding=0)
            xs_all = [x for _, _, x in out_theory + out_sim if x > 0]
            if xs_all:
                # log only when the outliers span a wide range (a = ±1 with different
                # sizes); a window around one value reads better on a linear axis
                lo, hi = min(xs_all), max(xs_all)
                out_log = hi / lo > 4.0
                self._p_out.setLogMode(x=out_log, y=False)
                if out_log:
                    self._p_out.setXRange(np.log10(lo / 1.5), np.log10(hi * 1.5), padding=0)
                else:
                    pad = max(0.08 * hi, hi - lo)
                    self._p_out.setXRange(lo - pad, hi + pad, padding=0)
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
        if overlay:
            self._set_title(self._p_after, "before (dashed) / after (solid)")
        else:
            self._set_title(self._p_before, "before the step (η̃ = 0)")
            self._set_title(self._p_after, "after the step")
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

