"""Time to threshold: isotonic seed mean, first logged step, censoring, divergence, bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import build_config_curves, times_to_threshold, validate_table
from rlscale.laws.crossings import first_crossing_steps, monotone_rows
from rlscale.laws.horizon import crossing_dependence, cut_curve_crossings


def _table(curves_by_seed: dict[int, list[float]], steps: list[int], **extra) -> pd.DataFrame:
    rows = []
    for seed, values in curves_by_seed.items():
        for step, value in zip(steps, values):
            rows.append({"suite": "dmc", "env": "e", "utd": 1.0, "batch_size": 64, "learning_rate": 1e-3,
                         "seed": seed, "env_step": step, "return": value, **extra})
    other_sigma = [dict(row, utd=2.0) for row in rows]
    return validate_table(pd.DataFrame(rows + other_sigma))


def test_isotonic_mean_and_first_logged_step():
    # Seed mean: 100, 500, 300, 700, 900 -> isotonic: 100, 400, 400, 700, 900.
    table = _table({0: [0, 600, 200, 600, 800], 1: [200, 400, 400, 800, 1000]}, [10, 20, 30, 40, 50])
    curves = build_config_curves(table)
    times = times_to_threshold(curves, np.array([100.0, 400.0, 401.0, 900.0, 950.0]), 4, np.random.default_rng(0))
    np.testing.assert_array_equal(times.point[0], [10.0, 20.0, 40.0, 50.0, np.inf])
    assert times.bootstrap.shape == (4, 2, 5)


def test_monotone_rows_only_touch_decreasing_rows():
    rows = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0]])
    np.testing.assert_allclose(monotone_rows(rows), [[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])


def test_first_crossing_steps_is_inclusive():
    steps = np.array([5, 6, 7])
    crossings = first_crossing_steps(np.array([[799.0, 800.0, 900.0]]), steps, np.array([800.0, 901.0]))
    np.testing.assert_array_equal(crossings, [[6.0, np.inf]])


def test_interpolated_crossings_against_a_hand_computed_reference():
    """Linear between the logged step before the crossing and the first at or above J; the first
    logged step where the curve starts at or above J; +inf where it never reaches J. A raw (not
    monotone) curve crosses where it first reaches J."""
    steps = np.array([1000, 2000, 3000, 4000])
    thresholds = np.array([0.0, 200.0, 800.0, 900.0, 1001.0])
    monotone = np.array([[0.0, 400.0, 800.0, 1000.0]])
    np.testing.assert_allclose(
        first_crossing_steps(monotone, steps, thresholds, "interpolated"), [[1000.0, 1500.0, 3000.0, 3500.0, np.inf]]
    )
    np.testing.assert_array_equal(first_crossing_steps(monotone, steps, thresholds), [[1000.0, 2000.0, 3000.0, 4000.0, np.inf]])
    raw = np.array([[100.0, 900.0, 500.0, 1000.0]])
    np.testing.assert_allclose(first_crossing_steps(raw, steps, np.array([800.0]), "interpolated"), [[1875.0]])
    np.testing.assert_array_equal(first_crossing_steps(raw, steps, np.array([800.0])), [[2000.0]])


def test_interpolated_times_lie_within_the_evaluation_interval_before_the_logged_ones():
    values = {0: [100, 300, 700, 900, 800], 1: [200, 500, 600, 1000, 950], 2: [0, 250, 900, 850, 1000]}
    curves = build_config_curves(_table(values, [1000, 2000, 3000, 4000, 5000]))
    thresholds = np.array([150.0, 400.0, 750.0, 900.0])
    logged = times_to_threshold(curves, thresholds, 30, np.random.default_rng(4))
    interpolated = times_to_threshold(curves, thresholds, 30, np.random.default_rng(4), "interpolated")
    for name in ("point", "bootstrap"):
        exact, between = getattr(logged, name), getattr(interpolated, name)
        np.testing.assert_array_equal(np.isfinite(exact), np.isfinite(between))
        reached = np.isfinite(exact)
        assert np.all(between[reached] <= exact[reached]) and np.all(between[reached] >= exact[reached] - 1000.0)


@pytest.mark.parametrize("rule", ["logged", "interpolated"])
def test_the_horizon_check_compares_with_the_curve_cut_at_its_first_crossing(rule):
    """Mean 0, 600, 400, 1000 (J = 800): the whole curve's isotonic fit pools 600 and 400 into 500 and
    crosses at 30 by either rule; the curve cut at 30 is fitted the same way, so the check finds that
    later data did not move the crossing, by either rule (raw interpolation would give 26.67)."""
    curves = build_config_curves(_table({0: [0, 600, 400, 1000], 1: [0, 600, 400, 1000]}, [0, 10, 20, 30]))
    times = times_to_threshold(curves, np.array([800.0]), 2, np.random.default_rng(0), rule)
    np.testing.assert_allclose(cut_curve_crossings(curves, 800.0, rule), times.point[:, 0])
    dependence = crossing_dependence(curves, times.point[:, 0], 800.0, rule)
    assert dependence.n_reached == 2 and dependence.n_moved == 0 and dependence.ratio_median == 1.0
    # A dip after the first crossing pools with it and moves the whole curve's crossing later.
    curves = build_config_curves(_table({0: [0, 900, 500, 1000], 1: [0, 900, 500, 1000]}, [10, 20, 30, 40]))
    times = times_to_threshold(curves, np.array([800.0]), 2, np.random.default_rng(0), rule)
    dependence = crossing_dependence(curves, times.point[:, 0], 800.0, rule)
    assert dependence.n_moved == 2 and dependence.ratio_median > 1.0


def test_running_max_replaces_each_seeds_returns_by_the_best_so_far():
    table = _table({0: [0, 600, 400, 1000], 1: [200, 100, 300, 250]}, [10, 20, 30, 40])
    curves = build_config_curves(table, running_max=True)
    np.testing.assert_array_equal(curves.returns[0], [[0, 600, 600, 1000], [200, 200, 300, 300]])
    np.testing.assert_array_equal(build_config_curves(table).returns[0], [[0, 600, 400, 1000], [200, 100, 300, 250]])


def test_an_unknown_crossing_rule_is_refused():
    with pytest.raises(ValueError, match="crossing rule must be one of logged, interpolated, got 'midpoint'"):
        first_crossing_steps(np.zeros((1, 2)), np.array([1, 2]), np.array([0.5]), "midpoint")


def test_divergence_censors_later_steps():
    values = {0: [100, 300, 900, 900], 1: [100, 300, 900, 900]}
    table = _table(values, [1, 2, 3, 4], diverged_at_env_step=3)
    curves = build_config_curves(table)
    assert curves.configs["last_env_step"].tolist() == [2, 2]
    times = times_to_threshold(curves, np.array([200.0, 800.0]), 3, np.random.default_rng(0))
    np.testing.assert_array_equal(times.point[0], [2.0, np.inf])


def test_seeds_at_different_steps_use_common_steps():
    table = _table({0: [0, 500, 1000], 1: [0, 500, 1000]}, [1, 2, 3])
    table = table[~((table["seed"] == 1) & (table["env_step"] == 3))]
    curves = build_config_curves(table)
    assert curves.steps[0].tolist() == [1, 2]


def test_bootstrap_is_deterministic_and_resamples_seeds(small_sweep):
    curves = build_config_curves(validate_table(small_sweep))
    thresholds = np.array([500.0, 800.0])
    first = times_to_threshold(curves, thresholds, 20, np.random.default_rng(7))
    second = times_to_threshold(curves, thresholds, 20, np.random.default_rng(7))
    np.testing.assert_array_equal(first.bootstrap, second.bootstrap)
    finite = np.isfinite(first.bootstrap)
    assert np.unique(first.bootstrap[finite]).size > np.unique(first.point[np.isfinite(first.point)]).size
    other = times_to_threshold(curves, thresholds, 20, np.random.default_rng(8))
    assert not np.array_equal(first.bootstrap, other.bootstrap)


@pytest.mark.parametrize("n_seeds", [2, 5])
def test_resampled_mean_matches_explicit_resampling(n_seeds):
    rng = np.random.default_rng(3)
    steps = list(range(1, 41))
    values = {seed: list(np.cumsum(rng.uniform(0, 50, size=40))) for seed in range(n_seeds)}
    curves = build_config_curves(_table(values, steps))
    thresholds = np.array([300.0, 600.0])
    times = times_to_threshold(curves, thresholds, 6, np.random.default_rng(11))
    draws_rng = np.random.default_rng(11)
    for config in range(2):
        draws = draws_rng.integers(0, n_seeds, size=(6, n_seeds))
        for resample in range(6):
            mean = curves.returns[config][draws[resample]].mean(axis=0)
            expected = first_crossing_steps(monotone_rows(mean[None]), curves.steps[config], thresholds)[0]
            np.testing.assert_array_equal(times.bootstrap[resample, config], expected)
