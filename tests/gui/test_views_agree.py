"""The command line writes what the app draws: its view files equal the plots' data."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from conftest import FAST_NUMERICS

import engine.cli as cli
from engine.presets import load_preset
from engine.views import Views


def _rows(table: dict) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in table["rows"]],
                    dtype=float).reshape(len(table["rows"]), len(table["columns"]))


def test_cli_view_files_equal_the_app_figures_data(qtbot, make_window, tmp_path):
    config = load_preset("Large step, a = 1").with_model(d=80).with_run(
        seeds=(0, 1), simulate=("network", "srf"))
    config = replace(config, numerics=FAST_NUMERICS)
    source = tmp_path / "config.json"
    source.write_text(config.to_json())
    out = tmp_path / "out"
    assert cli.main(["run", str(source), "--out", str(out), "--quiet", "--no-cache",
                     "--workers", "1"]) == 0
    files = {name: json.loads((out / f"view_{name}.json").read_text())
             for name in Views.NAMES}

    window = make_window(extras=True)
    with qtbot.waitSignal(window.sig_theory_drawn, timeout=60000):
        assert window.file_actions.open_session(out / "session.json")
    qtbot.waitUntil(lambda: not window.theory_tasks.busy, timeout=60000)
    compared = 0
    for plot in window.plot_list:
        drawn = plot.export_data()
        written = files[plot.name]["tables"]
        assert drawn.keys() == written.keys(), plot.name
        for key, (cols, rows) in drawn.items():
            assert list(cols) == written[key]["columns"], (plot.name, key)
            np.testing.assert_allclose(np.asarray(rows, float), _rows(written[key]),
                                       rtol=1e-12, equal_nan=True, err_msg=f"{plot.name} {key}")
            compared += 1
    assert compared >= 15  # every tab drew theory and simulation tables
    assert any(k.startswith("histogram_srf") for k in files["spectrum"]["tables"])
