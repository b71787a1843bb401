"""run.grid: two parameters varied together, validated by the rule tables; Config.points()."""

from __future__ import annotations

import json
import pickle

import pytest

from engine.config import Config, Grid, GridAxis
from engine.config_rules import GRID, GRID_AXIS, GRID_MAX, RUN, SECTIONS, SWEEP
from engine.errors import ConfigError


def _doc(x=("alpha", [0.5, 1.0, 2.0]), y=("eta_tilde", [0.0, 3.0]), **run):
    grid = {"x": {"param": x[0], "values": list(x[1])},
            "y": {"param": y[0], "values": list(y[1])}}
    return {"model": {"d": 100}, "run": {"kind": "errors", "grid": grid, **run}}


def _error(doc) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(doc)
    return info.value


def test_grid_is_declared_in_the_rule_tables():
    assert RUN["grid"].section == "run.grid" and RUN["grid"].default is None
    assert GRID in SECTIONS and GRID_AXIS in SECTIONS
    assert GRID_AXIS.rules == SWEEP.rules  # an axis is written like a sweep
    assert "GRID_MAX" in RUN["grid"].limits


def test_points_are_the_cells_row_by_row():
    cfg = Config.from_dict(_doc())
    points = cfg.points()
    assert len(points) == 6
    for p in points:
        iy, ix = divmod(p.index, 3)
        assert p.value == ((0.5, 1.0, 2.0)[ix], (0.0, 3.0)[iy])
        assert (p.model.alpha, p.model.eta_tilde) == p.value
        assert p.model.d == 100 and p.curve == 0
    assert cfg.sweep_values() == tuple(p.value for p in points)
    assert cfg.run.grid.shape == (2, 3) and cfg.run.grid.size == 6


def test_points_with_curves_set_the_grid_values_last():
    cfg = Config.from_dict(_doc(curves=[{"label": "a", "set": {"lam": 1.0}},
                                        {"label": "b", "set": {"alpha": 9.0, "lam": 2.0}}]))
    points = cfg.points()
    assert [(p.curve, p.index) for p in points] == [(c, i) for c in (0, 1) for i in range(6)]
    assert all(p.model.alpha == p.value[0] for p in points)  # the grid wins over a curve
    assert {p.model.lam for p in points if p.curve == 1} == {2.0}


def test_points_are_built_once_and_not_pickled():
    cfg = Config.from_dict(_doc())
    assert cfg.points() is cfg.points()
    again = pickle.loads(pickle.dumps(cfg))
    assert "_points" not in again.__dict__ and again == cfg
    assert again.points() == cfg.points()


def test_round_trip_through_json():
    cfg = Config.from_dict(_doc(x=("alpha0", [None, 4.0]), y=("d", [50, 100])))
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    assert cfg.to_dict()["run"]["grid"] == {"x": {"param": "alpha0", "values": [None, 4.0]},
                                            "y": {"param": "d", "values": [50, 100]}}
    assert Config().to_dict()["run"]["grid"] is None


@pytest.mark.parametrize(("doc", "key", "words"), [
    (_doc(y=("alpha", [1.0])), "run.grid.y", "another parameter than run.grid.x"),
    (_doc(sweep={"param": "lam", "values": [1.0]}), "run.grid", "run.sweep"),
    (_doc(x=("alpha", [0.5, -1])), "run.grid.x.values[1]", "must be > 0"),
    (_doc(y=("beta", [1.0, 200])), "run.grid.y.values[1]", "must be <= 100"),
    (_doc(x=("kappa", [1.0])), "run.grid.x.param", "one of alpha"),
    # n = round(alpha*d) >= 1 at d = 100
    (_doc(x=("alpha", [1.0, 0.001])), "run.grid.x.values[1]", "n = round(alpha*d) >= 1"),
    # tied parameters: p = round(beta*d) only fails at the cell (d = 10, beta = 0.04)
    (_doc(x=("d", [100, 10]), y=("beta", [1.0, 0.04])), "run.grid.y.values[1]",
     "p = round(beta*d) >= 1"),
])
def test_errors_name_the_grid_key(doc, key, words):
    exc = _error(doc)
    assert exc.key == key, exc.message
    assert words in exc.message


def test_missing_and_unknown_keys():
    exc = _error({"run": {"grid": {"x": {"param": "alpha", "values": [1.0]}}}})
    assert exc.key == "run.grid.y" and "missing" in exc.message
    doc = _doc()
    doc["run"]["grid"]["x"]["step"] = 1
    exc = _error(doc)
    assert exc.key == "run.grid.x.step" and "not a known key" in exc.message


def test_grid_max_bounds_cells_times_curves():
    n = 200
    ok = _doc(x=("alpha", [1 + i for i in range(n)]), y=("lam", [1 + i for i in range(n)]))
    assert Config.from_dict(ok).run.grid.size == GRID_MAX
    two = dict(ok, run={**ok["run"], "curves": [{"label": "a"}, {"label": "b"}]})
    exc = _error(two)
    assert exc.key == "run.grid" and "GRID_MAX" in exc.message and "80000" in exc.message


def test_dataclasses_validate_on_construction():
    with pytest.raises(ConfigError):
        Grid(GridAxis("alpha", (1.0,)), GridAxis("alpha", (2.0,)))
    with pytest.raises(ConfigError) as info:
        GridAxis("beta", (0.0,))
    assert "run.grid" in info.value.key
