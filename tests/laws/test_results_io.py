"""One encoder and one typed reader for every result type (rlscale/laws/results.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rlscale.laws import FitInputError, FitOptions, fit_laws, read_fit
from rlscale.laws.results import BudgetPoint, DataLawFit, FrontierCurve, ModelSizeSplit, SizeOptimum, encode


@pytest.fixture(scope="module")
def fitted(request):
    from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

    table = synthetic_sweep(
        SyntheticLaws(), utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(128, 256, 512), learning_rates=(2e-4, 5e-4, 1e-3),
        n_seeds=3, n_evals=120, seed=2,
    )
    return fit_laws(table, FitOptions(n_bootstrap=8, baseline_utd=2.0))


def test_fit_json_round_trips_through_the_typed_reader(fitted):
    written = json.loads(json.dumps(fitted.to_dict()))
    again = read_fit(written)
    assert json.loads(json.dumps(again.to_dict())) == written
    assert again.batch_size_law.predict("env-a", 3.0) == pytest.approx(fitted.batch_size_law.predict("env-a", 3.0))
    law = again.data_law_for(again.thresholds[-1], "all")
    assert law.predict(2.0) == pytest.approx(fitted.data_law_for(fitted.thresholds[-1], "all").predict(2.0))
    assert law.alpha_resamples.shape == (8,)
    assert again.budget_law.predict(1e15) == pytest.approx(fitted.budget_law.predict(1e15))
    assert again.baseline and again.baseline_data_law


def test_keys_of_the_schema_are_kept(fitted):
    written = fitted.to_dict()
    assert written["batch_size_law"]["slope"] == -written["batch_size_law"]["alpha"]
    assert {"utd", "budget", "compute", "data", "held_out", "at_grid_edge"} <= set(written["budget_law"]["points"][0])
    assert {"utd", "batch_size", "data", "compute", "on_frontier"} <= set(written["frontier"][0])
    assert {"d_min", "beta", "alpha", "points", "scale", "env_scales", "alpha_resamples"} <= set(written["data_law"][0])


def test_non_finite_numbers_are_null_and_read_back_as_nan():
    point = BudgetPoint(threshold=1.0, sigma=2.0, budget=math.inf, compute=1.0, data=math.nan, held_out=False, at_grid_edge=True)
    written = point.to_dict()
    assert written["budget"] is None and written["data"] is None and written["utd"] == 2.0
    back = BudgetPoint.from_dict(written)
    assert math.isnan(back.budget) and back.sigma == 2.0


def test_arrays_tuples_and_flattened_records():
    curve = FrontierCurve("all", 500.0, np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, np.inf]), np.array([6.0, 7.0]), np.array([True, False]))
    written = encode(curve)
    assert written["utd"] == [1.0, 2.0] and written["data"] == [5.0, None] and written["on_frontier"] == [True, False]
    back = FrontierCurve.from_dict(written)
    assert back.on_frontier.dtype == bool and np.isnan(back.data[1])  # +inf and NaN are both null in JSON
    best = SizeOptimum(1e5, 2.0, 3e12, 1e12, 200.0, 64.0, False)
    split = ModelSizeSplit(500.0, best, (best,), (2e5,))
    written = split.to_dict()
    assert written["model_size"] == 1e5 and written["per_size"][0]["utd"] == 2.0 and "best" not in written
    assert ModelSizeSplit.from_dict(written) == split


def test_a_fit_json_from_an_older_rlscale_reads_with_defaults(fitted):
    written = fitted.to_dict()
    for key in ("stage", "data_points", "baseline", "baseline_data_law", "resets", "data_law_loss"):
        written.pop(key)
    for law in written["data_law"]:
        for key in ("d_min_resamples", "beta_resamples", "alpha_resamples"):
            law.pop(key)
        for point in law["points"]:
            point.pop("batch_size")
            point.pop("learning_rate")
    old = read_fit(written)
    assert old.stage == "grid" and old.baseline == ()
    law = old.data_law[0]
    assert law.alpha_resamples.size == 0 and all(math.isnan(value) for value in law.predict_interval(2.0, (5.0, 95.0)))


def test_a_missing_required_key_is_named():
    with pytest.raises(FitInputError, match="DataLawFit in the fit lacks the key 'alpha'"):
        DataLawFit.from_dict({"threshold": 1.0, "scope": "all", "d_min": 1.0, "beta": 1.0})
