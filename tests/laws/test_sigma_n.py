"""The joint (σ, N) laws of Fu, Rybkin et al. (2025): the fitters on exact laws, the authors' published
fits reproduced from their published times, recovery of known laws and of the compute-optimal
allocation from a synthetic sweep, and the fit.json round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from authors_sigma_n import DMC_AVERAGED, DMC_AVERAGED_LAW, DOG_HUMANOID_AVERAGED, DOG_HUMANOID_AVERAGED_LAW, SIMBA

from rlscale.laws import read_fit
from rlscale.laws.allocation import SearchBox, allocate, joint_optimum, path_law
from rlscale.laws.fit import FitOptions, fit_laws
from rlscale.laws.plots import SIGMA_N_FIGURES, learning_curves, plot_sigma_n_data_law
from rlscale.laws.recommend_sigma_n import recommend_sigma_n
from rlscale.laws.results import POOLED_SCOPE, JointDataLaw
from rlscale.laws.sigma_n import fit_learning_rate_law_sigma_n
from rlscale.laws.sigma_n_laws import (
    fit_batch_size_law,
    fit_joint_data_law,
    fit_joint_data_laws,
    inverse_power_product,
    joint_data_law,
    refit_joint_data_laws,
)
from rlscale.laws.synthetic import SyntheticLaws, SyntheticSigmaNLaws, synthetic_sigma_n_sweep, synthetic_sweep
from rlscale.laws.table import FitInputError
from rlscale.laws.validation import validate_runs

SIGMAS = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 4)
SIZES = np.tile([1e5, 3e5, 1e6, 3e6], 5)
TRUE_LAWS = SyntheticSigmaNLaws()
TRUE_SIGMA_LAWS = SyntheticLaws()
THRESHOLDS = (300.0, 400.0, 500.0, 600.0, 700.0)


def test_joint_data_law_recovers_an_exact_law():
    truth = dict(c=2e4, a=3.0, alpha=0.7, b=4e5, beta=0.5)
    law = fit_joint_data_law(SIGMAS, SIZES, joint_data_law(SIGMAS, SIZES, **truth))
    for name, value in truth.items():
        assert getattr(law, name) == pytest.approx(value, rel=1e-6), name
    assert law.rms_log_residual < 1e-9


def test_shared_exponents_recover_one_pair_for_every_threshold():
    rows = [(1e4, 2.0, 1e5), (2e4, 4.0, 3e5), (4e4, 8.0, 9e5)]
    times = np.stack([joint_data_law(SIGMAS, SIZES, c, a, 0.8, b, 0.6) for c, a, b in rows])
    laws = fit_joint_data_laws(SIGMAS, SIZES, times, shared=True)
    for law, (c, a, b) in zip(laws, rows):
        assert (law.alpha, law.beta) == pytest.approx((0.8, 0.6), rel=1e-6)
        assert (law.c, law.a, law.b) == pytest.approx((c, a, b), rel=1e-5)


def test_joint_data_law_needs_five_points_with_two_sigma_and_two_sizes():
    assert fit_joint_data_law(SIGMAS[:4], SIZES[:4], np.full(4, 1e4)) is None
    assert fit_joint_data_law(np.array([1.0, 2.0, 1.0, 2.0]), np.array([1e5, 1e5, 1e6, 1e6]), np.full(4, 1e4)) is None


def test_bootstrap_refits_start_from_the_point_fit_and_skip_sparse_resamples():
    times = joint_data_law(SIGMAS, SIZES, 2e4, 3.0, 0.7, 4e5, 0.5)
    law = fit_joint_data_law(SIGMAS, SIZES, times)
    resampled = np.stack([times, times * 1.1, np.where(np.arange(20) < 3, times, np.inf)])
    refits = refit_joint_data_laws(SIGMAS, SIZES, resampled, law)
    assert refits[0] == pytest.approx([2e4, 3.0, 0.7, 4e5, 0.5], rel=1e-6)
    assert refits[1] == pytest.approx([2.2e4, 3.0, 0.7, 4e5, 0.5], rel=1e-5)
    assert np.isnan(refits[2]).all()


def test_batch_size_law_recovers_an_exact_law():
    truth = dict(a=2000.0, alpha=0.5, b=3e5, c=0.8)
    law = fit_batch_size_law(SIGMAS, SIZES, inverse_power_product(SIGMAS, SIZES, **truth))
    for name, value in truth.items():
        assert getattr(law, name) == pytest.approx(value, rel=1e-6), name


@pytest.mark.parametrize(
    ("rows", "published"), [(DMC_AVERAGED, DMC_AVERAGED_LAW), (DOG_HUMANOID_AVERAGED, DOG_HUMANOID_AVERAGED_LAW)], ids=["dmc", "dog_humanoid"]
)
def test_reproduces_the_authors_fitted_law_from_their_published_times(rows, published):
    sigma, size, time, authors_prediction = (np.array(column, dtype=float) for column in zip(*rows))
    law = fit_joint_data_law(sigma, size, time)
    for name, value in published.items():
        assert getattr(law, name) == pytest.approx(value, rel=1e-5), name
    assert law.predict(sigma, size) == pytest.approx(authors_prediction, rel=1e-6)


def test_reproduces_the_authors_simba_fits_per_env():
    table = pd.DataFrame(SIMBA, columns=["env", "utd", "model_size", "time", "authors_prediction"])
    for env, rows in table.groupby("env"):
        law = fit_joint_data_law(rows["utd"].to_numpy(float), rows["model_size"].to_numpy(float), rows["time"].to_numpy(float))
        assert law.predict(rows["utd"], rows["model_size"]) == pytest.approx(rows["authors_prediction"].to_numpy(), rel=1e-6), env


def _true_law(env: str, threshold: float) -> JointDataLaw:
    c, a, alpha, b, beta = TRUE_LAWS.data_law(env, threshold)
    return JointDataLaw(threshold, env, c, a, alpha, b, beta, 0.0, *[math.nan] * 5, *[(math.nan, math.nan)] * 5, points=())


@pytest.fixture(scope="module")
def direct_fit():
    """Runs at the true B*(σ, N), η*(σ, N), one config per (env, σ, N), as the authors' sweeps."""
    table = synthetic_sigma_n_sweep(
        TRUE_LAWS, utds=(1.0, 2.0, 4.0, 8.0, 16.0), batch_sizes=None, learning_rates=None, n_seeds=8, n_evals=600, seed=3
    )
    return fit_laws(table, FitOptions(n_bootstrap=30, thresholds=THRESHOLDS))


def test_direct_runs_recover_the_joint_laws_and_their_intervals_cover_truth(direct_fit):
    sigma_n = direct_fit.sigma_n
    assert sigma_n.thresholds_sigma_n == THRESHOLDS
    assert sigma_n.model_sizes_sigma_n == (1e5, 3e5, 1e6, 3e6)
    covered, parameters = 0, 0
    for env in TRUE_LAWS.envs:
        for threshold in THRESHOLDS:
            law = sigma_n.data_law_for(threshold, env)
            truth = TRUE_LAWS.data_law(env, threshold)
            intervals = (law.c_ci, law.a_ci, law.alpha_ci, law.b_ci, law.beta_ci)
            covered += sum(low <= value <= high for value, (low, high) in zip(truth, intervals))
            parameters += len(truth)
            for sigma, size in [(1.0, 1e5), (3.0, 5e5), (16.0, 3e6)]:
                assert law.predict(sigma, size) == pytest.approx(TRUE_LAWS.time_to_threshold(env, threshold, sigma, size), rel=0.05)
            assert law.resamples.shape == (30, 5)
    assert covered / parameters >= 0.8
    assert {law.scope for law in sigma_n.data_law_sigma_n} == {"env-a", "env-b", POOLED_SCOPE}


def test_direct_runs_recover_the_hyperparameter_laws(direct_fit):
    for law in direct_fit.sigma_n.batch_size_law_sigma_n.laws:
        truth = (TRUE_LAWS.batch_a[law.env], TRUE_LAWS.batch_alpha, TRUE_LAWS.batch_b[law.env], TRUE_LAWS.batch_c)
        assert (law.a, law.alpha, law.b, law.c) == pytest.approx(truth, rel=0.02)
    rate = direct_fit.sigma_n.learning_rate_law_sigma_n
    assert rate.alpha == pytest.approx(TRUE_LAWS.learning_rate_alpha, rel=1e-6)
    assert rate.n_exponent == pytest.approx(0.0, abs=1e-9) and not rate.n_matters


def test_direct_runs_recover_the_compute_optimal_allocation(direct_fit):
    for env in TRUE_LAWS.envs:
        allocation = direct_fit.sigma_n.allocation_for(env)
        assert allocation.delta == 1e11
        box = SearchBox(allocation.utd_range, allocation.model_size_range)
        true_optima = []
        for point in allocation.points:
            truth = joint_optimum(_true_law(env, point.threshold), lambda s, n, env=env: TRUE_LAWS.best_batch_size(env, s, n), 1e11, box)
            true_optima.append(truth)
            assert not truth.at_grid_edge and not point.at_grid_edge
            assert point.budget == pytest.approx(truth.budget, rel=0.05)
            assert point.model_size == pytest.approx(truth.model_size, rel=0.25)
            assert point.utd == pytest.approx(truth.sigma, rel=0.35)
        budgets = np.log([optimum.budget for optimum in true_optima])
        for path, values in (
            (allocation.model_size_path, [optimum.model_size for optimum in true_optima]),
            (allocation.utd_path, [optimum.sigma for optimum in true_optima]),
        ):
            true_exponent = np.polyfit(budgets, np.log(values), 1)[0]
            assert path.exponent_ci[0] <= true_exponent <= path.exponent_ci[1], (env, path.quantity)
            assert not path.at_search_edge and "not determined" not in path.describe("X*")
        assert [point.held_out for point in sorted(allocation.points, key=lambda p: p.budget)] == [False, False, False, True, True]
        assert allocation.base_model_size == sorted(allocation.points, key=lambda p: p.budget)[0].model_size
        assert allocation.utd_only_data_overhead > 0 and allocation.model_size_only_data_overhead > 0


def test_allocation_notes_name_the_axis_whose_optimum_is_at_the_search_boxs_end(direct_fit):
    """The fitted env-a laws in a box whose σ range [1, 1.1] is below every σ*: each σ* is the
    box's top (a bound) and the note names σ* and every threshold; N* stays inside, unnamed."""
    sigma_n = direct_fit.sigma_n
    allocation = sigma_n.allocation_for("env-a")
    laws = [sigma_n.data_law_for(threshold, "env-a") for threshold in THRESHOLDS]
    box = SearchBox((1.0, 1.1), allocation.model_size_range)
    narrow, notes = allocate(
        "env-a",
        laws,
        lambda sigma, size: sigma_n.batch_size_law_sigma_n.predict("env-a", sigma, size),
        allocation.delta,
        box,
        allocation.trained_utds,
        allocation.trained_model_sizes,
        direct_fit.interval,
    )
    assert all(point.at_grid_edge and point.utd == pytest.approx(1.1) for point in narrow.points)
    assert not any(box.at_model_size_edge(point.model_size) for point in narrow.points)
    [edge_note] = [note for note in notes if "of the search box" in note]
    assert edge_note.startswith("(σ, N) allocation 'env-a': σ* lies at the top of the search box [1, 1.1] at J = ")
    assert edge_note.endswith("at J = 300, 400, 500, 600, 700 (a bound there, not an optimum)") and "N*" not in edge_note


def test_sigma_n_fit_json_round_trip(direct_fit):
    encoded = json.loads(json.dumps(direct_fit.to_dict()))
    for key in ("data_law_sigma_n", "batch_size_law_sigma_n", "learning_rate_law_sigma_n", "allocation_sigma_n", "thresholds_sigma_n"):
        assert key in encoded
    law = encoded["data_law_sigma_n"][0]
    assert {"threshold", "scope", "c", "a", "alpha", "b", "beta", "rms_log_residual", "alpha_ci", "beta_ci", "points"} <= set(law)
    decoded = read_fit(encoded)
    assert decoded.to_dict() == encoded
    original, restored = direct_fit.sigma_n.data_law_sigma_n[3], decoded.sigma_n.data_law_sigma_n[3]
    assert restored.predict_interval(3.0, 5e5, (5, 95)) == pytest.approx(original.predict_interval(3.0, 5e5, (5, 95)))
    assert decoded.sigma_n.allocation_for(POOLED_SCOPE).utd_path.predict(1e16) == pytest.approx(
        direct_fit.sigma_n.allocation_for(POOLED_SCOPE).utd_path.predict(1e16)
    )


def test_a_single_size_fit_has_no_sigma_n_keys_filled(small_sweep):
    result = fit_laws(small_sweep, FitOptions(n_bootstrap=5))
    encoded = result.to_dict()
    assert encoded["data_law_sigma_n"] == [] and encoded["allocation_sigma_n"] == []
    assert read_fit(encoded).sigma_n.batch_size_law_sigma_n is None


def _best_rates(n_exponent: float, noise: float, seed: int) -> pd.DataFrame:
    """Best learning rates per (env, σ, N) from η* = 1e-3·σ^-0.3·(N/1e6)^γ with lognormal noise,
    each with 40 resampled values, as `bootstrap_best_values` returns them."""
    rng = np.random.default_rng(seed)
    rows = []
    for env, scale in (("env-a", 1.0), ("env-b", 0.5)):
        for sigma in (1.0, 2.0, 4.0, 8.0):
            for size in (1e5, 3e5, 1e6, 3e6):
                truth = scale * 1e-3 * sigma**-0.3 * (size / 1e6) ** n_exponent
                resampled = truth * np.exp(rng.normal(0.0, noise, 40))
                rows.append({"env": env, "utd": sigma, "model_size": size, "value": float(resampled.mean()), "per_resample": resampled})
    return pd.DataFrame(rows)


def test_learning_rate_law_reports_whether_model_size_matters():
    flat, _ = fit_learning_rate_law_sigma_n(_best_rates(0.0, 0.05, seed=0), (5.0, 95.0))
    assert not flat.n_matters
    assert flat.sigma_only_alpha == pytest.approx(0.3, abs=0.03)
    assert float(flat.predict("env-a", 2.0, 3e6)) == pytest.approx(1e-3 * 2.0**-0.3, rel=0.05)
    steep, notes = fit_learning_rate_law_sigma_n(_best_rates(0.3, 0.05, seed=1), (5.0, 95.0))
    assert steep.n_matters
    assert steep.n_exponent_ci[0] <= 0.3 <= steep.n_exponent_ci[1]
    assert steep.held_out_rms_log_error < steep.sigma_only_held_out_rms_log_error
    assert float(steep.predict("env-b", 4.0, 3e5)) == pytest.approx(0.5e-3 * 4.0**-0.3 * 0.3**0.3, rel=0.05)
    assert "matters" in notes[0]


def test_recommend_at_an_allocation_point_follows_the_paths(direct_fit):
    allocation = direct_fit.sigma_n.allocation_for(POOLED_SCOPE)
    point = sorted(allocation.points, key=lambda item: item.budget)[1]
    recommendation = recommend_sigma_n(direct_fit, point.budget)
    assert recommendation.scope == POOLED_SCOPE and recommendation.env is None
    assert recommendation.model_size == pytest.approx(float(allocation.model_size_path.predict(point.budget)))
    assert recommendation.utd == pytest.approx(float(allocation.utd_path.predict(point.budget)))
    assert recommendation.threshold == pytest.approx(point.threshold)
    assert recommendation.data == pytest.approx(point.data)
    for name in ("model_size", "utd", "batch_size_continuous", "learning_rate", "data"):
        low, high = getattr(recommendation, name.replace("_continuous", "") + "_interval")
        assert low <= getattr(recommendation, name) <= high, name
    laws = direct_fit.sigma_n.batch_size_law_sigma_n
    expected_batch = float(laws.predict(POOLED_SCOPE, recommendation.utd, recommendation.model_size))
    assert recommendation.batch_size_continuous == pytest.approx(expected_batch)
    assert not recommendation.extrapolated


def test_recommend_beyond_the_trained_sizes_names_what_is_extrapolated(direct_fit):
    allocation = direct_fit.sigma_n.allocation_for("env-a")
    path = allocation.model_size_path
    budget = (4 * max(allocation.trained_model_sizes) / path.coefficient) ** (1 / path.exponent)
    recommendation = recommend_sigma_n(direct_fit, budget, env="env-a")
    assert recommendation.model_size == pytest.approx(4 * max(allocation.trained_model_sizes), rel=1e-9)
    assert recommendation.threshold_capped and recommendation.threshold == max(THRESHOLDS)
    named = "; ".join(recommendation.extrapolated_quantities)
    assert "N* (above the largest trained model size" in named and "beyond the fitted budgets" in named
    law = direct_fit.sigma_n.data_law_for(max(THRESHOLDS), "env-a")
    assert recommendation.data == pytest.approx(float(law.predict(recommendation.utd, recommendation.model_size)))
    with pytest.raises(FitInputError, match="env 'env-c' is not in the fit"):
        recommend_sigma_n(direct_fit, budget, env="env-c")
    single_size = synthetic_sweep(
        TRUE_SIGMA_LAWS, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(256,), learning_rates=(5e-4,), n_seeds=2, n_evals=60
    )
    with pytest.raises(FitInputError, match="no .σ, N. allocation"):
        recommend_sigma_n(fit_laws(single_size, FitOptions(n_bootstrap=2)), 1e15)


def test_sigma_n_figures_have_plain_log_tick_labels(direct_fit):
    for name, make_figure in SIGMA_N_FIGURES.items():
        figure = make_figure(direct_fit)
        figure.canvas.draw()
        labels = [label.get_text() for axis in figure.axes for label in (*axis.get_xticklabels(), *axis.get_yticklabels())]
        assert labels and not any("times" in label or "^" in label for label in labels), name
    contour_axis = plot_sigma_n_data_law(direct_fit).axes[0]
    assert contour_axis.get_xlabel() == "UTD ratio σ" and contour_axis.get_ylabel() == "critic parameters N"


@pytest.fixture(scope="module")
def grid_table():
    """One env, 3 σ × 3 N × 3 B × 2 η × 3 seeds: a (σ, N, B, η) grid."""
    one_env = {name: {"env-a": getattr(TRUE_LAWS, name)["env-a"]} for name in ("c", "a", "b", "batch_a", "batch_b", "learning_rate_beta")}
    return synthetic_sigma_n_sweep(
        SyntheticSigmaNLaws(**one_env),
        utds=(1.0, 4.0, 16.0),
        model_sizes=(1e5, 6e5, 3e6),
        batch_sizes=(128, 384, 1152),
        learning_rates=(4e-4, 8e-4),
        n_seeds=3,
        n_evals=150,
        seed=5,
    )


def test_grid_points_stand_for_the_configs_nearest_the_hyperparameter_laws(grid_table):
    result = fit_laws(grid_table, FitOptions(n_bootstrap=8, thresholds=(400.0, 600.0)))
    sigma_n = result.sigma_n
    assert sigma_n.data_points_sigma_n == "law"
    laws = sigma_n.batch_size_law_sigma_n
    for point in sigma_n.data_law_for(600.0, "env-a").points:
        best = float(laws.predict("env-a", point.utd, point.model_size))
        assert point.batch_size == min((128, 384, 1152), key=lambda batch: abs(math.log(batch / best)))
    fastest = fit_laws(grid_table, FitOptions(n_bootstrap=8, thresholds=(400.0, 600.0), data_points="minimum")).sigma_n
    for law_point, fastest_point in zip(sigma_n.data_law_for(600.0, "env-a").points, fastest.data_law_for(600.0, "env-a").points):
        assert fastest_point.value <= law_point.value
    shared = fit_laws(grid_table, FitOptions(n_bootstrap=8, thresholds=(400.0, 600.0), sigma_n_shared_exponents=True)).sigma_n
    first, second = shared.data_law_for(400.0, "env-a"), shared.data_law_for(600.0, "env-a")
    assert first.shared_exponents and (first.alpha, first.beta) == (second.alpha, second.beta)
    assert first.resamples[:, 2] == pytest.approx(second.resamples[:, 2], nan_ok=True)


def test_too_few_sigma_n_points_leave_a_note_and_keep_the_per_size_fits(grid_table):
    table = grid_table[grid_table["utd"].isin([1.0, 16.0]) & grid_table["model_size"].isin([1e5, 3e6])]
    result = fit_laws(table, FitOptions(n_bootstrap=4, thresholds=(400.0,)))
    assert set(result.by_model_size) == {"100000", "3000000"}
    assert result.sigma_n.data_law_sigma_n == () and result.sigma_n.allocation_sigma_n == ()
    assert any("D_J(σ, N) not fitted for env 'env-a'" in note for note in result.notes)


def test_a_grid_of_one_batch_size_fits_a_flat_batch_size_law(grid_table):
    """B*(σ, N) is the same at every (σ, N) when the grid has one B: b underflows to 0 (the law's
    N term vanishes) and the bootstrap refits start from there instead of failing."""
    one_batch = grid_table[grid_table["batch_size"] == 384]
    laws = fit_laws(one_batch, FitOptions(n_bootstrap=4, thresholds=(400.0,))).sigma_n.batch_size_law_sigma_n
    [law] = laws.laws
    assert laws.predict("env-a", np.array([1.0, 16.0]), np.array([1e5, 3e6])) == pytest.approx([384.0, 384.0], rel=1e-6)
    assert np.isfinite(law.resamples).all()


def test_a_held_out_model_bigger_than_any_trained_is_checked_against_the_joint_law(direct_fit):
    """`validate_runs` predicts a fit with joint laws by D_J(σ, N) at the runs' σ and model_size,
    N beyond the trained sizes included, with the resampled joint laws' interval."""
    sigma_n = direct_fit.sigma_n
    size, sigma, threshold = 4 * max(sigma_n.model_sizes_sigma_n), 3.0, max(THRESHOLDS)
    table = synthetic_sigma_n_sweep(
        TRUE_LAWS, utds=(sigma,), model_sizes=(size,), batch_sizes=None, learning_rates=None, n_seeds=6, n_evals=600, seed=11
    )
    runs = table[table["env"] == "env-a"]
    validation = validate_runs(direct_fit, runs, threshold)
    [record] = validation.configs
    law = sigma_n.data_law_for(threshold, "env-a")
    assert record.data_law == "D_J(σ, N)" and record.model_size == size and record.scope == "env-a"
    assert record.predicted == pytest.approx(float(law.predict(sigma, size)), rel=1e-12)
    assert record.predicted_interval == pytest.approx(law.predict_interval(sigma, size, direct_fit.interval), rel=1e-12)
    assert record.predicted_interval[0] < record.predicted < record.predicted_interval[1]
    truth = float(TRUE_LAWS.time_to_threshold("env-a", threshold, sigma, size))
    assert record.measured == pytest.approx(truth, rel=0.1) and record.measured == pytest.approx(record.predicted, rel=0.15)
    assert any("above the largest trained model size" in note and "extrapolated in N" in note for note in validation.notes)
    assert not any("are not the fit's" in note for note in validation.notes)
    sigma_only = validate_runs(direct_fit, runs.drop(columns="model_size"), threshold)
    assert sigma_only.configs[0].data_law == "D_J(σ)" and sigma_only.configs[0].model_size is None
    assert any("carry no model_size" in note for note in sigma_only.notes)
    with pytest.raises(FitInputError, match=r"no joint \(σ, N\) data law at J=650"):
        validate_runs(direct_fit, runs, 650.0)


def test_learning_curves_of_several_model_sizes_get_one_row_of_panels_per_size(grid_table):
    figure = learning_curves(grid_table)
    axes = figure.axes
    assert len(axes) == 3 * 3
    assert [axis.get_title() for axis in axes[:3]] == ["N=100k, σ=1", "N=100k, σ=4", "N=100k, σ=16"]
    assert all(len(axis.get_lines()) == 6 for axis in axes)


def test_a_path_whose_optima_all_sit_at_an_end_of_the_search_box_is_not_determined():
    """σ* = 8, the box's top, at every budget (more σ always costs less): the fitted σ*(F) = 8·F^0
    measures the box, so the path says it is not determined; N*, inside the box, is a law."""
    box = SearchBox((1.0, 8.0), (1e4, 1e7))
    budgets = np.tile(np.geomspace(1e12, 1e16, 5), (4, 1))
    fitted = np.array([True, True, True, False, False])
    utd_path = path_law("utd", budgets, np.full_like(budgets, 8.0), fitted, (5.0, 95.0), box.at_sigma_edge)
    assert utd_path.at_search_edge and utd_path.exponent == pytest.approx(0.0, abs=1e-12)
    assert utd_path.describe("σ*").startswith("σ*(F) not determined (every fitted σ* at an end of the search box")
    size_path = path_law("model_size", budgets, 1e5 * (budgets / 1e12) ** 0.2, fitted, (5.0, 95.0), box.at_model_size_edge)
    assert not size_path.at_search_edge and size_path.exponent == pytest.approx(0.2)
    assert size_path.describe("N*").startswith("N*(F) = ")
