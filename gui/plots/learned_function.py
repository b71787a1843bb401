"""The trained predictor along θ: the predecessor paper's signature figure.

``E[f_hat(x) | kappa]`` against ``kappa = <theta, x>``: theory lines (one per curve, or
at a few ``eta_tilde`` for a single-curve configuration), simulation points (test
predictions binned by ``kappa``, mean ± standard error), and the target ``sigma_*``.
Without a step the network only fits the linear part of the target; after a large
step it bends towards it. The shaded profile at the bottom is the density of
``kappa`` (standard Gaussian): where the data are, and so where the fit matters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.plots.base import (
    NEUTRAL,
    SIM_NAMES,
    SIM_SYMBOLS,
    PlotBase,
    curve_label,
    mkbrush,
    mkpen,
)

KAPPA_SPAN = 3.2


class LearnedFunctionPlot(PlotBase):
    """Learned function vs κ: theory, simulation and target."""

    name = "learned_function"
    title = "Learned function along θ"

    def _build(self) -> pg.GraphicsView:
        view = pg.PlotWidget()
        item = view.getPlotItem()
        self._set_labels(item, "κ = ⟨θ, x⟩", "E[ f̂(x) | κ ]")
        # bottom right: empty for increasing targets, above the kappa profile
        self._add_legend(item)
        self._install_readout(item, "κ", "f̂")
        return view

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        item = self.plot_widget.getPlotItem()
        st = self._style
        lines: list[tuple[str, np.ndarray, np.ndarray]] = []
        sim_names: list[tuple[int, str]] = []
        sim_kinds: set[str] = set()
        target: tuple[np.ndarray, np.ndarray] | None = None
        series = getattr(self._extras, "learned", ()) if self._extras is not None else ()
        multi_curve = self._theory is not None and len(self._theory.curves) > 1
        if series and not multi_curve:
            for s in series:
                lines.append((f"η̃ = {s.eta_tilde:g}", s.kappa, s.learned_function))
                target = (s.kappa, s.target)
        elif self._theory is not None:
            for ci, label, point in self._theory.selected_points():
                r = point.theory_ridge
                if r is None or r.kappa is None:
                    continue
                lab = curve_label(label, ci) or f"η̃ = {point.model.eta_tilde:g}"
                lines.append((lab, r.kappa, r.learned_function))
                target = (r.kappa, r.target)
        ymin, ymax = np.inf, -np.inf
        if target is not None:
            k = np.asarray(target[0], dtype=np.float64)
            t = np.asarray(target[1], dtype=np.float64)
            sel = np.abs(k) <= KAPPA_SPAN
            ymin, ymax = float(np.min(t[sel])), float(np.max(t[sel]))
        for _, k, f in lines:
            sel = np.abs(np.asarray(k)) <= KAPPA_SPAN
            f = np.asarray(f, dtype=np.float64)[sel]
            if f.size:
                ymin, ymax = min(ymin, float(f.min())), max(ymax, float(f.max()))
        if not np.isfinite(ymin):
            ymin, ymax = -1.0, 1.0
        span = max(ymax - ymin, 1e-6)
        # Gaussian profile of kappa under the curves: a visual cue of where data live.
        kk = np.linspace(-KAPPA_SPAN, KAPPA_SPAN, 161)
        dens = np.exp(-0.5 * kk * kk)
        base = ymin - 0.2 * span
        band = pg.PlotDataItem(kk, base + 0.16 * span * dens, pen=mkpen(st.foreground, 0.5,
                                                                          alpha=60),
                               fillLevel=base, brush=mkbrush(st.foreground, 28))
        item.addItem(band)
        series: list[tuple[object, object]] = [(kk, np.full(kk.size, base))]
        target_pen = mkpen(st.foreground, st.line_width * 1.3, Qt.PenStyle.DashLine)
        if target is not None:
            k = np.asarray(target[0], dtype=np.float64)
            sel = np.abs(k) <= KAPPA_SPAN
            tline = self._line(item, k[sel], np.asarray(target[1])[sel], st.foreground,
                               width=st.line_width * 1.3, dash=True)
            # on top of the fits and markers (dashed: they show through the gaps)
            tline.setZValue(10)
            series.append((k[sel], np.asarray(target[1])[sel]))
        for i, (_name, k, f) in enumerate(lines):
            k = np.asarray(k, dtype=np.float64)
            sel = np.abs(k) <= KAPPA_SPAN
            self._line(item, k[sel], np.asarray(f)[sel], self._curve_color(i),
                       width=st.line_width * 1.2)
            series.append((k[sel], np.asarray(f)[sel]))
            self._tables[f"theory_{i}"] = (["kappa", "learned_function"],
                                           np.column_stack([k, f]))
        if target is not None:
            self._tables["target"] = (["kappa", "sigma_star"],
                                      np.column_stack([target[0], target[1]]))
        if self._sim is not None:
            sim_curves = self._sim.selected_points()
            for ci, label, point in sim_curves:
                color_index = ci if len(sim_curves) > 1 else self._match_color(point, lines)
                for model in ("network", "srf"):
                    seeds = [s for s in point.sims.get(model, ())
                             if s.kappa_bins is not None and s.fhat_mean is not None]
                    if not seeds:
                        continue
                    m = min(len(s.kappa_bins) for s in seeds)
                    kb = np.asarray(seeds[0].kappa_bins[:m], dtype=np.float64)
                    means = np.array([s.fhat_mean[:m] for s in seeds], dtype=np.float64)
                    sems = np.array([s.fhat_sem[:m] if s.fhat_sem is not None
                                     else np.zeros(m) for s in seeds], dtype=np.float64)
                    with warnings.catch_warnings():
                        # a kappa bin empty in every seed stays NaN (drawn as a gap)
                        warnings.simplefilter("ignore", RuntimeWarning)
                        mean = np.nanmean(means, axis=0)
                    # standard error of the seed average
                    err = np.sqrt(np.nansum(sems**2, axis=0)) / len(seeds)
                    sel = np.abs(kb) <= KAPPA_SPAN
                    lab = curve_label(label, ci)
                    self._points(item, kb[sel], mean[sel], self._curve_color(color_index),
                                 symbol=SIM_SYMBOLS[model], err=err[sel],
                                 hollow=model == "srf")
                    series.append((kb[sel], mean[sel]))
                    sim_kinds.add(model)
                    if len(sim_curves) > 1 and not any(ci == j for j, _n in sim_names):
                        sim_names.append((ci, lab or f"η̃ = {point.model.eta_tilde:g}"))
                    self._tables[f"sim_{model}{'_' + lab if lab else ''}"] = (
                        ["kappa", "fhat_mean", "fhat_sem"], np.column_stack([kb, mean, err]))
        item.setXRange(-KAPPA_SPAN, KAPPA_SPAN, padding=0.02)
        self._build_legend(item, lines, sim_names, sim_kinds, target is not None, target_pen)
        self._fit_legend(item, series)
        self._set_title(item, "learned function along θ")

    def _build_legend(self, item: pg.PlotItem, lines: list[tuple[str, np.ndarray, np.ndarray]],
                      sim_names: list[tuple[int, str]], sim_kinds: set[str], has_target: bool,
                      target_pen: object) -> None:
        """One entry per curve (its colour), then a neutral key of the kinds drawn."""
        st = self._style
        lw = st.line_width
        names = [(i, name) for i, (name, _, _) in enumerate(lines) if name]
        if not names:
            names = sim_names
        curves = [(name, self._key_sample(item, pen=mkpen(self._curve_color(i), lw * 1.5)))
                  for i, name in names] if len(names) > 1 else []
        keys = []
        if has_target:
            keys.append(("target σ*", self._key_sample(item, pen=target_pen)))
        if lines:
            keys.append(("theory" if curves else f"theory {lines[0][0]}".rstrip(),
                         self._key_sample(item, pen=mkpen(NEUTRAL if curves
                                                          else self._curve_color(0), lw))))
        kc = NEUTRAL if curves else self._curve_color(0)
        for model in ("network", "srf"):
            if model in sim_kinds:
                keys.append((f"{SIM_NAMES[model]} sim.", self._key_sample(
                    item, symbol=SIM_SYMBOLS[model],
                    brush=mkbrush(st.background if model == "srf" else kc),
                    symbol_pen=mkpen(kc, 1.5))))
        self._compact_legend(item, curves, keys)

    @staticmethod
    def _match_color(point: object, lines: list[tuple[str, np.ndarray, np.ndarray]]) -> int:
        eta = getattr(getattr(point, "model", None), "eta_tilde", None)
        for i, (name, _, _) in enumerate(lines):
            if eta is not None and name == f"η̃ = {eta:g}":
                return i
        return max(len(lines) - 1, 0)

