"""`recommend`: σ*, B*, η*, D and C for a budget, from a fit.json structure."""

from __future__ import annotations

import json
import math

import pytest

from rlscale.laws import FitInputError, FitOptions, fit_laws, round_batch_size
from rlscale.laws.recommend import recommend


@pytest.fixture(scope="module")
def fit(request) -> dict:
    from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

    table = synthetic_sweep(
        SyntheticLaws(),
        utds=(1.0, 2.0, 4.0, 8.0),
        batch_sizes=(128, 256, 512),
        learning_rates=(2e-4, 5e-4, 1e-3),
        n_seeds=3,
        n_evals=120,
        seed=2,
    )
    return json.loads(json.dumps(fit_laws(table, FitOptions(n_bootstrap=20)).to_dict()))


def _points(fit: dict) -> list[dict]:
    return sorted(fit["budget_law"]["points"], key=lambda point: point["budget"])


def test_at_a_budget_point_reproduces_that_threshold(fit):
    point = _points(fit)[1]
    result = recommend(fit, point["budget"])
    law = fit["budget_law"]
    assert result.scope == "all" and result.env is None
    assert result.utd == pytest.approx(law["coefficient"] * point["budget"] ** law["exponent"])
    assert result.threshold == pytest.approx(point["threshold"])
    assert result.data == pytest.approx(point["data"])
    assert result.compute == pytest.approx(point["compute"])
    assert not result.extrapolated


def test_hparams_follow_the_laws_and_intervals_contain_the_point(fit):
    budget = math.sqrt(_points(fit)[0]["budget"] * _points(fit)[-1]["budget"])
    result = recommend(fit, budget, env="env-a")
    batch_law, rate_law = fit["batch_size_law"], fit["learning_rate_law"]
    continuous = 10 ** (batch_law["intercept"]["env-a"] + batch_law["slope"] * math.log10(result.utd))
    assert result.batch_size_continuous == pytest.approx(continuous)
    assert result.batch_size == round_batch_size(continuous) and result.batch_size % 16 == 0
    assert result.learning_rate == pytest.approx(10 ** (rate_law["intercept"]["env-a"] + rate_law["slope"] * math.log10(result.utd)))
    for name in ("utd", "learning_rate", "data", "compute"):
        low, high = getattr(result, f"{name}_interval")
        assert low <= getattr(result, name) * (1 + 1e-9) and getattr(result, name) <= high * (1 + 1e-9), name
    low, high = result.batch_size_interval
    assert low <= result.batch_size <= high


def test_beyond_the_fitted_budgets_the_threshold_is_capped_and_flagged(fit):
    largest = _points(fit)[-1]
    result = recommend(fit, 4 * largest["budget"])
    assert result.extrapolated and result.threshold_capped
    assert result.threshold == largest["threshold"] <= 1000.0
    assert result.uncapped_threshold > largest["threshold"]
    law = next(item for item in fit["data_law"] if item["scope"] == "all" and item["threshold"] == largest["threshold"])
    assert result.data == pytest.approx(law["d_min"] + (law["beta"] / result.utd) ** law["alpha"])
    assert result.compute + result.delta * result.data <= 4 * largest["budget"]
    assert any("capped" in note for note in result.notes)
    assert any("σ*" in item for item in result.extrapolated_quantities)


def test_far_beyond_the_fitted_budgets_never_leaves_the_normalized_scale(fit):
    result = recommend(fit, 1e6 * _points(fit)[-1]["budget"])
    assert result.threshold <= max(fit["thresholds"]) and result.uncapped_threshold > 1000.0


def test_below_the_fitted_budgets_is_extrapolated_and_flagged(fit):
    result = recommend(fit, _points(fit)[0]["budget"] / 3)
    assert result.extrapolated and not result.threshold_capped
    assert 0.0 <= result.threshold < _points(fit)[0]["threshold"]


def test_explicit_threshold_reads_the_data_law(fit):
    threshold = fit["thresholds"][-1]
    result = recommend(fit, _points(fit)[2]["budget"], threshold=threshold)
    law = next(item for item in fit["data_law"] if item["scope"] == "all" and item["threshold"] == threshold)
    assert result.threshold == threshold and result.threshold_source == "given"
    assert result.data == pytest.approx(law["d_min"] + (law["beta"] / result.utd) ** law["alpha"])
    assert result.compute == pytest.approx(10 * result.model_size * result.batch_size * result.utd * result.data)


@pytest.mark.parametrize(
    "budget, env, threshold, message",
    [
        (0.0, None, None, "budget must be a positive"),
        (-1e15, None, None, "budget must be a positive"),
        (float("nan"), None, None, "budget must be a positive"),
        (1e16, "env-z", None, "env 'env-z' is not in the fit"),
        (1e16, None, 123.0, "no data law for scope 'all' at threshold 123"),
    ],
)
def test_bad_input(fit, budget, env, threshold, message):
    with pytest.raises(FitInputError, match=message):
        recommend(fit, budget, env=env, threshold=threshold)


def test_fit_without_budget_law(fit):
    with pytest.raises(FitInputError, match="no budget law"):
        recommend({**fit, "budget_law": None, "budget_law_per_env": []}, 1e16)


def test_an_undetermined_budget_exponent_interpolates_sigma_between_the_points(fit):
    narrow = json.loads(json.dumps(fit))
    law = narrow["budget_law"]
    base = min(point["budget"] for point in law["points"])
    for index, point in enumerate(sorted(law["points"], key=lambda item: item["threshold"])):
        point["budget"] = base * (1.0 + 0.01 * index)  # every F* within 5%: no exponent can be read off them
    law["coefficient"], law["exponent"] = 1e90, -6.0
    points = sorted(law["points"], key=lambda item: item["budget"])
    result = recommend(narrow, points[-1]["budget"] * 10)
    assert result.utd == pytest.approx(points[-1]["utd"])
    assert any("not determined" in note for note in result.notes)


def test_sigma_is_clamped_to_the_searched_grid(fit):
    wild = json.loads(json.dumps(fit))
    wild["budget_law"]["coefficient"], wild["budget_law"]["exponent"] = 1e-30, 2.5
    grid = [utd for curve in wild["frontier"] if curve["scope"] == "all" for utd in curve["utd"]]
    result = recommend(wild, _points(wild)[-1]["budget"])
    assert result.utd == pytest.approx(max(grid))
    assert any("clamped" in note for note in result.notes)


def test_at_a_chosen_utd_the_laws_predict_hparams_data_and_cost(fit):
    from rlscale.laws.recommend import recommend_at_utd

    inside = recommend_at_utd(fit, 3.0, env="env-a")
    top = max(law["threshold"] for law in fit["data_law"] if law["scope"] == "env-a")
    law = next(item for item in fit["data_law"] if item["scope"] == "env-a" and item["threshold"] == top)
    assert inside.threshold == top and inside.threshold_source == "the highest threshold with a data law"
    assert inside.data == pytest.approx(law["d_min"] + (law["beta"] / 3.0) ** law["alpha"])
    assert inside.data_interval[0] <= inside.data <= inside.data_interval[1]
    batch_law = fit["batch_size_law"]
    assert inside.batch_size_continuous == pytest.approx(10 ** (batch_law["intercept"]["env-a"] + batch_law["slope"] * math.log10(3.0)))
    assert inside.budget == pytest.approx(inside.compute + fit["delta"] * inside.data)
    assert not inside.extrapolated and inside.utd_interval == (3.0, 3.0)
    outside = recommend_at_utd(fit, 16.0, env="env-a", threshold=fit["thresholds"][0])
    assert outside.extrapolated and "σ outside the swept UTDs" in outside.extrapolated_quantities[0]
    assert outside.threshold == fit["thresholds"][0] and outside.threshold_source == "given"
    with pytest.raises(FitInputError, match="utd must be a positive number"):
        recommend_at_utd(fit, 0.0)


def test_a_budget_law_with_every_sigma_at_the_grids_end_is_not_followed(fit):
    """Every fitted σ* at the largest σ: the law (σ_max·F^0) measures the grid, so recommend says why
    and interpolates between the points instead, which keeps σ* at that end."""
    at_end = json.loads(json.dumps(fit))
    law = at_end["budget_law"]
    top = max(max(curve["utd"]) for curve in at_end["frontier"] if curve["scope"] == "all")
    for point in law["points"]:
        point["utd"], point["at_grid_edge"] = top, True
    law["coefficient"], law["exponent"] = top, 0.0
    result = recommend(at_end, max(point["budget"] for point in law["points"]))
    assert result.utd == pytest.approx(top)
    assert any("not determined (every fitted σ* lies at an end of the σ grid" in note for note in result.notes)
