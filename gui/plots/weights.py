"""Weights after the step: spectrum of ``W1 W1^T`` with its spike, and alignment with θ.

Left: theory bulk density (line) with the simulated eigenvalues (histogram, the
spikes removed and listed in the legend with their predicted positions). Right: the
overlap of the learned spike and of the top singular vectors of ``W1`` with ``theta``
(bars: simulation, seed mean; dashed line: the theory's ``gamma = <v, theta>``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui.plots.base import SIM_NAMES, PlotBase, mkbrush, mkpen


class WeightsPlot(PlotBase):
    """Spectrum of W1 W1ᵀ and overlaps with θ."""

    name = "weights"
    title = "Weights & alignment"

    def _build(self) -> pg.GraphicsView:
        view = pg.GraphicsLayoutWidget()
        self._p_spec = view.addPlot(row=0, col=0)
        self._p_ovl = view.addPlot(row=0, col=1)
        self._p_ovl.setMaximumWidth(330)
        self._set_labels(self._p_spec, "λ  (eigenvalue of W₁ W₁ᵀ)", "density  ρ(λ)")
        self._set_labels(self._p_ovl, "j  (0 = learned spike)", "overlap with θ")
        self._add_legend(self._p_spec)
        self._add_legend(self._p_ovl, offset=(-5, 5))
        self._install_readout(self._p_spec, "λ", "ρ")
        self._install_readout(self._p_ovl, "j", "overlap")
        return view

    def plot_items(self) -> list[pg.PlotItem]:
        return [self._p_spec, self._p_ovl]

    def _redraw(self) -> None:
        if not self._begin_redraw():
            return
        st = self._style
        spikes: list[float] = []
        gamma = None
        if self._theory is not None:
            for ci, _label, point in self._theory.selected_points():
                tw = point.theory_weights
                if tw is not None:
                    self._line(self._p_spec, tw.grid, tw.density, self._curve_color(ci),
                               name=f"theory (η̃ = {point.model.eta_tilde:g})")
                    dens = np.asarray(tw.density, dtype=float)
                    dens = dens[np.isfinite(dens) & (dens > 0)]
                    if dens.size:
                        # the density can diverge at an edge (beta = 1): show the body
                        top = 4.0 * float(np.median(dens))
                        self._p_spec.setYRange(0.0, max(top, 1e-9), padding=0.02)
                    spikes.extend(float(x) for x in np.asarray(tw.spikes, dtype=float))
                    self._tables["theory_density"] = (["lambda", "rho(lambda)"],
                                                      np.column_stack([tw.grid, tw.density]))
                if point.srf_params is not None and gamma is None:
                    gamma = float(point.srf_params.gamma)
                break
        if spikes:
            self._p_spec.addItem(pg.PlotDataItem(
                [], [], pen=mkpen(self._curve_color(0), st.line_width),
                name="theory spikes: " + ", ".join(f"{x:.4g}" for x in spikes)))
        sim_drawn = False
        if self._sim is not None:
            for _ci, _label, point in self._sim.selected_points():
                for j, model in enumerate(("network", "srf")):
                    seeds = point.sims.get(model, ())
                    eigs = [np.asarray(s.weight_eigenvalues, dtype=float) for s in seeds
                            if s.weight_eigenvalues is not None]
                    if eigs:
                        k = len(spikes)
                        bulk = np.concatenate([e[: e.size - k] if k else e for e in eigs])
                        top = [e[-k:] for e in eigs] if k else []
                        self._histogram(self._p_spec, bulk, self._curve_color(j + 1),
                                        name=f"{SIM_NAMES[model]} sim."
                                             + (", spikes: "
                                                + ", ".join(f"{x:.4g}" for x in
                                                            np.concatenate(top)[:4])
                                                if top else ""))
                    top_ovl = [np.asarray(s.top_overlaps, dtype=float) for s in seeds
                               if s.top_overlaps is not None]
                    spike = np.array(
                        [s.spike_overlap for s in seeds if s.spike_overlap is not None],
                        dtype=float)
                    values = []
                    if spike.size:
                        values.append(spike.mean())
                    if top_ovl:
                        m = min(len(t) for t in top_ovl)
                        values.extend(np.mean([t[:m] for t in top_ovl], axis=0))
                    if values:
                        x = np.arange(len(values), dtype=float) + (j - 0.5) * 0.35
                        bars = pg.BarGraphItem(x=x, height=values, width=0.33,
                                               brush=mkbrush(self._curve_color(j + 1), 200),
                                               pen=mkpen(self._curve_color(j + 1), 1.0),
                                               name=f"{SIM_NAMES[model]} sim.")
                        self._p_ovl.addItem(bars)
                        sim_drawn = True
                        self._tables[f"overlaps_{model}"] = (
                            ["index", "overlap"], np.column_stack([np.arange(len(values)),
                                                                   values]))
                break
        if gamma is not None:
            line = pg.InfiniteLine(pos=gamma, angle=0,
                                   pen=mkpen(st.foreground, st.line_width * 0.7,
                                             pg.QtCore.Qt.PenStyle.DashLine))
            self._p_ovl.addItem(line)
            self._p_ovl.addItem(pg.PlotDataItem([], [], pen=line.pen,
                                                name=f"theory γ = {gamma:.3f}"))
        if not sim_drawn:
            hint = pg.TextItem("no simulated weights:\nrun kind 'weights', then Run",
                               color=st.foreground, anchor=(0, 0))
            hint.setPos(0.0, 0.55)
            self._p_ovl.addItem(hint, ignoreBounds=True)
        self._p_ovl.setYRange(0, 1.05, padding=0)
        self._set_title(self._p_spec, "spectrum of W₁ W₁ᵀ")
        self._set_title(self._p_ovl, "alignment with θ")

