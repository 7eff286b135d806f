"""The grid stage exactly as the authors' qscaled computes it (`core/grid_search/bootstrapping.py`,
`core/grid_search/linear_fit.py`, `core/preprocessing.py`), each rule on a small hand-made table.

qscaled, per (env, σ, other hyperparameter value) and bootstrap resample, takes `np.argmin` over the
chosen hyperparameter's times with a time never reached as +inf; the best value per (env, σ) is the
arithmetic mean of those argmins over all other values and resamples; B*(σ) and η*(σ) are an OLS of
log10(best value) on log10 σ with one shared slope and one intercept per env (dummy variables).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import build_config_curves, fit_shared_slope, times_to_threshold, validate_table
from rlscale.laws.power_laws import bootstrap_best_values

INF = np.inf


def _grid(times: dict[tuple[int, float], list[float]], env: str = "e", utd: float = 1.0):
    """configs (C rows) and bootstrap times (R, C) from {(B, η): [time in resample 0, 1, ...]}."""
    configs = pd.DataFrame([{"env": env, "utd": utd, "batch_size": b, "learning_rate": lr} for b, lr in times])
    return configs, np.array(list(times.values()), dtype=float).T


def test_a_resample_where_no_batch_size_reaches_votes_for_the_smallest():
    # η=2e-3 in resample 0: nothing reaches -> argmin over [inf, inf] = index 0 -> B=32 (not skipped).
    configs, times = _grid({(32, 1e-3): [5.0, 5.0], (64, 1e-3): [4.0, 4.0], (32, 2e-3): [INF, 9.0], (64, 2e-3): [INF, 3.0]})
    best = bootstrap_best_values(configs, times, "batch_size", "learning_rate")
    np.testing.assert_allclose(best["per_resample"][0], [(64 + 32) / 2, (64 + 64) / 2])
    assert best["value"][0] == pytest.approx((64 + 32 + 64 + 64) / 4)


def test_ties_go_to_the_smaller_value():
    configs, times = _grid({(32, 1e-3): [7.0], (64, 1e-3): [7.0], (128, 1e-3): [7.0]})
    assert bootstrap_best_values(configs, times, "batch_size", "learning_rate")["value"][0] == 32.0
    configs, times = _grid({(64, 1e-3): [7.0], (64, 2e-3): [7.0]})
    assert bootstrap_best_values(configs, times, "learning_rate", "batch_size")["value"][0] == 1e-3


def test_a_missing_config_is_never_chosen():
    # No (32, 2e-3) run: at η=2e-3 qscaled's argmin only sees B ∈ {64, 128}, so "nothing reaches" votes 64.
    configs, times = _grid({(32, 1e-3): [1.0], (64, 1e-3): [2.0], (64, 2e-3): [INF], (128, 2e-3): [INF]})
    best = bootstrap_best_values(configs, times, "batch_size", "learning_rate")
    assert best["value"][0] == pytest.approx((32 + 64) / 2)


def test_votes_are_averaged_arithmetically_over_values_and_resamples():
    configs, times = _grid({(32, 1e-3): [1.0, 1.0], (128, 1e-3): [2.0, 2.0], (32, 2e-3): [2.0, 3.0], (128, 2e-3): [1.0, 1.0]})
    best = bootstrap_best_values(configs, times, "batch_size", "learning_rate")
    assert best["value"][0] == pytest.approx(80.0)  # (32 + 128) / 2, not the geometric 64
    np.testing.assert_allclose(best["per_resample"][0], [80.0, 80.0])


def test_a_group_no_config_ever_reaches_votes_for_the_smallest_unless_dropped():
    # qscaled keeps such an (env, σ): its argmin over all-inf times picks index 0 in every resample.
    configs, times = _grid({(32, 1e-3): [INF, INF], (64, 1e-3): [INF, INF], (64, 2e-3): [INF, INF]})
    best = bootstrap_best_values(configs, times, "batch_size", "learning_rate")
    assert best["value"].tolist() == [32.0 * 0.5 + 64.0 * 0.5]  # η=1e-3 votes 32, η=2e-3 (only B=64 present) 64
    np.testing.assert_allclose(best["per_resample"][0], [48.0, 48.0])
    assert bootstrap_best_values(configs, times, "batch_size", "learning_rate", unreached="drop").empty


def test_shared_slope_equals_the_dummy_variable_regression():
    rng = np.random.default_rng(0)
    envs = np.repeat(["a", "b", "c"], 4)
    sigmas = np.tile([1.0, 2.0, 4.0, 8.0], 3)
    values = 10 ** (rng.normal(2.5, 0.3, size=12) - 0.4 * np.log10(sigmas))
    slope, intercepts = fit_shared_slope(envs, sigmas, values)
    # qscaled: LinearRegression on [log10 σ, dummies of envs 2..E] with an intercept (env 1's).
    design = np.column_stack([np.ones(12), np.log10(sigmas), envs == "b", envs == "c"]).astype(float)
    coefficients = np.linalg.lstsq(design, np.log10(values), rcond=None)[0]
    assert slope[0] == pytest.approx(coefficients[1])
    np.testing.assert_allclose(intercepts[0], [coefficients[0], coefficients[0] + coefficients[2], coefficients[0] + coefficients[3]])


def test_time_to_threshold_is_the_first_logged_step_of_the_isotonic_seed_mean_at_or_above_j():
    # Seed mean 100, 500, 300, 800 -> isotonic 100, 400, 400, 800: reaches 400 at the second step (>=, not >).
    rows = [
        {"suite": "dmc", "env": "e", "utd": utd, "batch_size": 32, "learning_rate": 1e-3, "seed": seed, "env_step": step, "return": value}
        for utd in (1.0, 2.0)
        for seed, curve in enumerate([[0, 600, 200, 800], [200, 400, 400, 800]])
        for step, value in zip([5000, 6000, 7000, 8000], curve)
    ]
    curves = build_config_curves(validate_table(pd.DataFrame(rows)))
    times = times_to_threshold(curves, np.array([400.0, 400.1]), 1, np.random.default_rng(0))
    np.testing.assert_array_equal(times.point[0], [6000.0, 8000.0])
