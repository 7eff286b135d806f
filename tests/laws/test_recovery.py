"""End to end: synthetic sweeps drawn from known laws are fitted back within stated tolerances.

Tolerances (2 envs, 6 σ, 5×5 (B, η) grid, 6 seeds, 1000 evals; seeded):
* shared exponents α_B, α_η within ±0.06, and the law's value at each σ within 25%
  (the grid is ×2 per step, so the best value is a bootstrap average of discrete argmins);
* data law α_J within ±0.06 and D_min within 25% for every env and J; predicted D_J within 8%, with
  least squares on log D (the synthetic times have multiplicative noise, which log D weighs evenly);
* with the default, the paper's least squares on D: α_J within ±0.08, D_min within 40%, D_J within 9%
  (measured: 0.069, 37%, 8.2% at worst).
A sign flip in any exponent moves it by ≥ 0.6 and fails these.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rlscale.laws import FitOptions, fit_laws
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

THRESHOLDS = (500.0, 600.0, 700.0, 800.0, 900.0)
NORMALIZED = {"env-a": (0.0, 1000.0), "env-b": (0.0, 1000.0)}
"""The synthetic returns are already on 0..1000: identity bounds for suites other than dmc."""


@pytest.fixture(scope="module")
def recovered(recovery_sweep):
    return fit_laws(
        recovery_sweep, FitOptions(thresholds=THRESHOLDS, selection_threshold=800.0, n_bootstrap=40, data_law_loss="log")
    )


def test_hparam_exponents_are_recovered(recovered, true_laws):
    assert recovered.batch_size_law.alpha == pytest.approx(true_laws.batch_alpha, abs=0.06)
    assert recovered.learning_rate_law.alpha == pytest.approx(true_laws.learning_rate_alpha, abs=0.06)
    low, high = recovered.batch_size_law.alpha_ci
    assert low < recovered.batch_size_law.alpha_median < high


def test_hparam_laws_predict_the_true_optimum(recovered, true_laws):
    for env in true_laws.envs:
        for sigma in (1.0, 4.0, 16.0):
            true_batch = (true_laws.batch_beta[env] / sigma) ** true_laws.batch_alpha
            true_rate = (true_laws.learning_rate_beta[env] / sigma) ** true_laws.learning_rate_alpha
            assert recovered.batch_size_law.predict(env, sigma) == pytest.approx(true_batch, rel=0.25)
            assert recovered.learning_rate_law.predict(env, sigma) == pytest.approx(true_rate, rel=0.25)


def _assert_data_laws_recovered(result, true_laws, alpha_tolerance: float, d_min_tolerance: float, prediction_tolerance: float):
    """Every env's D_J(σ) within the tolerances (absolute on α, relative on D_min and D_J at σ = 0.5, 2, 16)."""
    sigmas = np.array([0.5, 2.0, 16.0])
    for env in true_laws.envs:
        for threshold in THRESHOLDS:
            fit = result.data_law_for(threshold, env)
            d_min, beta, alpha = true_laws.data_law(env, threshold)
            assert fit.alpha == pytest.approx(alpha, abs=alpha_tolerance), (env, threshold)
            assert fit.d_min == pytest.approx(d_min, rel=d_min_tolerance), (env, threshold)
            np.testing.assert_allclose(fit.predict(sigmas), d_min + (beta / sigmas) ** alpha, rtol=prediction_tolerance)
            assert fit.alpha_ci[0] <= fit.alpha_ci[1]


def test_data_laws_are_recovered(recovered, true_laws):
    _assert_data_laws_recovered(recovered, true_laws, 0.06, 0.25, 0.08)


def test_data_laws_are_recovered_with_the_papers_loss(recovery_sweep, true_laws):
    result = fit_laws(recovery_sweep, FitOptions(thresholds=THRESHOLDS, selection_threshold=800.0, n_bootstrap=40))
    assert result.data_law_loss == "linear"
    _assert_data_laws_recovered(result, true_laws, 0.08, 0.4, 0.09)
    for threshold in THRESHOLDS:
        assert result.data_law_for(threshold, "all").alpha == pytest.approx(true_laws.tau_alpha, abs=0.08)


def test_pooled_data_law_has_the_shared_exponent(recovered, true_laws):
    for threshold in THRESHOLDS:
        fit = recovered.data_law_for(threshold, "all")
        assert fit.alpha == pytest.approx(true_laws.tau_alpha, abs=0.06)
        assert set(fit.env_scales) == set(true_laws.envs)


def test_output_structure(recovered):
    result = recovered.to_dict()
    for key in ("thresholds", "censored", "best_hparams", "batch_size_law", "learning_rate_law", "data_law", "budget_law"):
        assert key in result
    assert set(result["batch_size_law"]) >= {"alpha", "beta", "alpha_ci"}
    assert set(result["data_law"][0]) >= {"threshold", "scope", "d_min", "beta", "alpha"}
    assert set(result["budget_law"]) >= {"delta", "model_size", "coefficient", "exponent", "held_out_relative_error"}
    assert set(result["best_hparams"][0]) >= {"env", "utd", "threshold", "batch_size", "learning_rate", "time_to_threshold"}
    assert len(result["budget_law"]["held_out_relative_error"]) == 2
    # penalized corner configs never reach 900 within the horizon: censored and listed.
    assert any(item["threshold"] == 900.0 for item in result["censored"])


def test_fit_is_deterministic_given_the_seed(small_sweep):
    options = FitOptions(n_bootstrap=15, seed=3)
    first = fit_laws(small_sweep, options).to_dict()
    assert fit_laws(small_sweep, options).to_dict() == first
    assert fit_laws(small_sweep, FitOptions(n_bootstrap=15, seed=4)).to_dict() != first


def test_default_thresholds_are_the_papers(small_sweep):
    """qscaled chooses the best (B, η) at the last of 100, …, 800 and fits the DMC laws at
    1000 − logspace(log10 800, log10 200, 10) (experiments/2_fitted/dmc_explore.ipynb); Gym starts at 300."""
    result = fit_laws(small_sweep, FitOptions(n_bootstrap=5))
    assert result.selection_threshold == 800.0
    np.testing.assert_allclose(result.thresholds, 1000 - np.logspace(np.log10(800), np.log10(200), 10), atol=1e-6)
    assert any("selection threshold defaulted to 800" in note for note in result.notes)
    gym = fit_laws(small_sweep.assign(suite="gym"), FitOptions(n_bootstrap=2, normalization=NORMALIZED))
    np.testing.assert_allclose(gym.thresholds, 1000 - np.logspace(np.log10(700), np.log10(200), 10), atol=1e-6)


def test_default_thresholds_of_a_suite_without_paper_values(small_sweep):
    # No paper value: the lowest threshold is a quarter of the selection threshold (DMC's 200 / 800).
    table = small_sweep.assign(suite="jax")
    result = fit_laws(table, FitOptions(n_bootstrap=2, normalization=NORMALIZED, selection_threshold=600.0))
    np.testing.assert_allclose(result.thresholds, 1000 - np.logspace(np.log10(850), np.log10(400), 10), atol=1e-6)
    assert any("J = 150 … 600" in note and "no paper value" in note for note in result.notes)
    chosen = fit_laws(table, FitOptions(n_bootstrap=2, normalization=NORMALIZED, lowest_threshold=500.0, n_default_thresholds=4))
    np.testing.assert_allclose(chosen.thresholds, 1000 - np.logspace(np.log10(500), np.log10(200), 4), atol=1e-6)


def test_laws_are_fitted_per_model_size(small_sweep):
    small = small_sweep.assign(model_size=1000)
    large = small_sweep.assign(model_size=5000, **{"return": small_sweep["return"] * 0.98})
    import pandas as pd

    result = fit_laws(pd.concat([small, large], ignore_index=True), FitOptions(n_bootstrap=5))
    assert set(result.by_model_size) == {"1000", "5000"}
    assert result.model_size == 5000.0
    assert result.by_model_size["1000"].model_size == 1000.0
    assert set(result.to_dict()["by_model_size"]["1000"]) >= {"batch_size_law", "data_law"}


def test_unreached_groups_vote_for_the_smallest_values_as_qscaled(small_sweep):
    table = small_sweep.copy()
    slow = (table["env"] == "env-a") & (table["utd"] == 1.0)
    table.loc[slow, "return"] = table.loc[slow, "return"].clip(upper=600.0)
    options = FitOptions(n_bootstrap=5, thresholds=(500.0, 700.0), selection_threshold=700.0)
    result = fit_laws(table, options)
    points = {(point.env, point.utd): point.value for point in result.batch_size_law.points}
    assert points[("env-a", 1.0)] == 128.0 and result.learning_rate_law.points[0].value == pytest.approx(2e-4)
    assert any("env-a σ=1" in note and "smallest B and η" in note for note in result.notes)
    dropped = fit_laws(table, dataclasses.replace(options, unreached_cells="drop"))
    assert ("env-a", 1.0) not in {(point.env, point.utd) for point in dropped.batch_size_law.points}
    assert any("env-a σ=1" in note and "left out" in note for note in dropped.notes)
    assert dropped.batch_size_law.alpha != result.batch_size_law.alpha


def test_every_fitted_parameter_has_a_bootstrap_interval(recovered):
    result = recovered.to_dict()
    for key in ("batch_size_law", "learning_rate_law"):
        assert result[key]["alpha_ci"][0] <= result[key]["alpha_median"] <= result[key]["alpha_ci"][1]
        assert set(result[key]["beta_median"]) == set(result[key]["beta"])
    for law in result["data_law"]:
        assert law["alpha_ci"][0] <= law["alpha_median"] <= law["alpha_ci"][1]
        assert law["d_min_ci"][0] <= law["d_min_median"] <= law["d_min_ci"][1]
    budget = result["budget_law"]
    assert budget["exponent_ci"][0] <= budget["exponent_median"] <= budget["exponent_ci"][1]
    assert budget["coefficient_ci"][0] > 0


def _coarse_grid_sweep():
    """Every 80th of the horizon logged: about half the votes at the selection threshold are ties."""
    laws = SyntheticLaws(
        batch_alpha=1.0, batch_beta={"env-a": 512.0}, learning_rate_beta={"env-a": 8e-4 ** (1 / 0.3)},
        tau_d_min={"env-a": 20_000.0}, tau_beta={"env-a": 40.0}, tau_scale={"env-a": 10_000.0},
    )
    table = synthetic_sweep(
        laws, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(32, 64, 128, 256, 512, 1024),
        learning_rates=(1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3), n_seeds=4, n_evals=80, seed=3,
    )
    return laws, table


def test_interpolated_crossings_leave_no_ties_and_recover_the_learning_rate_law_on_a_coarse_evaluation_grid():
    """Crossings interpolated between evaluations: the coarse grid's ties are gone (a tie then needs
    two configs whose fitted curves cross J at the same point), the η*(σ) exponent is recovered
    under qscaled's vote rule, and the fit names the deviation."""
    laws, table = _coarse_grid_sweep()
    interpolated = fit_laws(table, FitOptions(n_bootstrap=20, crossing="interpolated"))
    logged = fit_laws(table, FitOptions(n_bootstrap=20))
    assert interpolated.crossing == "interpolated" and logged.crossing == "logged"
    assert sum(ties.tied_votes for ties in interpolated.vote_ties) < 0.02 * sum(ties.reached_votes for ties in interpolated.vote_ties)
    assert abs(interpolated.learning_rate_law.alpha - laws.learning_rate_alpha) < 0.1
    assert any("crossing='interpolated'" in note for note in interpolated.notes)
    assert not any("crossing='interpolated'" in note for note in logged.notes)
    assert FitOptions.of_fit(interpolated).crossing == "interpolated"


def test_split_tied_votes_recover_the_learning_rate_law_on_a_coarse_evaluation_grid():
    """On the coarse grid qscaled's rule (to the smaller
    value) pulls η* down most where crossings are fastest (high σ), steepening η*(σ); splitting the
    tied votes recovers the true exponent. The fit reports the ties either way."""
    laws, table = _coarse_grid_sweep()
    smallest = fit_laws(table, FitOptions(n_bootstrap=20))
    split = fit_laws(table, FitOptions(n_bootstrap=20, tied_votes="split"))
    tied = sum(ties.tied_votes for ties in smallest.vote_ties) / sum(ties.reached_votes for ties in smallest.vote_ties)
    assert tied > 0.4
    assert any(note.startswith("tied votes: ") and "(to the smallest tied value) at J=" in note for note in smallest.notes)
    assert any(note.startswith("tied votes: ") and "(shared among the tied values) at J=" in note for note in split.notes)
    assert split.tied_votes == "split" and split.vote_ties == smallest.vote_ties
    assert abs(split.learning_rate_law.alpha - laws.learning_rate_alpha) < 0.1
    assert smallest.learning_rate_law.alpha - laws.learning_rate_alpha > 0.2
