"""Best hyperparameters (bootstrap-averaged argmins) and the shared-slope least squares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import FitInputError, fit_shared_slope, round_batch_size
from rlscale.laws.power_laws import bootstrap_best_values, fit_hparam_law


def test_shared_slope_recovers_exact_laws():
    envs = np.repeat(["a", "b", "c"], 4)
    sigmas = np.tile([1.0, 2.0, 4.0, 8.0], 3)
    intercepts = {"a": 2.5, "b": 2.0, "c": 3.0}
    values = 10 ** (np.array([intercepts[env] for env in envs]) - 0.45 * np.log10(sigmas))
    slopes, fitted = fit_shared_slope(envs, sigmas, values)
    assert slopes[0] == pytest.approx(-0.45)
    np.testing.assert_allclose(fitted[0], [2.5, 2.0, 3.0])


def test_shared_slope_handles_missing_points_per_column():
    envs = np.repeat(["a", "b"], 3)
    sigmas = np.tile([1.0, 2.0, 4.0], 2)
    values = 10 ** (1.0 + 0.3 * np.log10(sigmas))
    columns = np.stack([values, np.where(np.arange(6) == 1, np.nan, values)], axis=1)
    slopes, _ = fit_shared_slope(envs, sigmas, columns)
    np.testing.assert_allclose(slopes, [0.3, 0.3])


def _configs(times_by_batch_and_rate):
    rows, times = [], []
    for (batch, rate), time in times_by_batch_and_rate.items():
        rows.append({"env": "e", "utd": 1.0, "batch_size": batch, "learning_rate": rate})
        times.append(time)
    return pd.DataFrame(rows), np.array(times, dtype=float)


def test_best_values_average_argmins_with_ties_to_smaller():
    configs, times = _configs(
        {(32, 1e-3): 5.0, (64, 1e-3): 5.0, (32, 2e-3): 9.0, (64, 2e-3): 4.0, (32, 4e-3): np.inf, (64, 4e-3): np.inf}
    )
    resamples = np.stack([times, times])
    best = bootstrap_best_values(configs, resamples, "batch_size", "learning_rate")
    # η=1e-3: tie -> 32; η=2e-3: 64; η=4e-3: nothing reaches, votes for the smallest B (qscaled). Mean = 128/3.
    assert best["value"].tolist() == [pytest.approx(128 / 3)]
    np.testing.assert_allclose(best["per_resample"][0], [128 / 3, 128 / 3])


def test_tied_votes_are_counted_and_split_on_request():
    configs, times = _configs(
        {
            (32, 1e-3): 5.0, (64, 1e-3): 5.0, (128, 1e-3): 5.0,
            (32, 2e-3): 9.0, (64, 2e-3): 4.0, (128, 2e-3): 4.0,
            (32, 4e-3): 7.0, (64, 4e-3): 6.0, (128, 4e-3): 8.0,
            (32, 8e-3): np.inf, (64, 8e-3): np.inf, (128, 8e-3): np.inf,
        }
    )
    # Resample 2: the η=4e-3 column ties too; η=8e-3 never reaches, which is no tie under either rule.
    second = times.copy()
    second[[6, 7]] = 6.0
    resamples = np.stack([times, second])
    smallest = bootstrap_best_values(configs, resamples, "batch_size", "learning_rate")
    split = bootstrap_best_values(configs, resamples, "batch_size", "learning_rate", tied_votes="split")
    # Votes per η column (smallest rule): 32 (3-way tie), 64 (tie with 128), 64, 32 (unreached).
    # Split: 224/3, 96, 64 (resample 1) or 48 (resample 2, 32 and 64 tied), 32 (unreached).
    np.testing.assert_allclose(smallest["per_resample"][0], [(32 + 64 + 64 + 32) / 4, (32 + 64 + 32 + 32) / 4])
    np.testing.assert_allclose(split["per_resample"][0], [(224 / 3 + 96 + 64 + 32) / 4, (224 / 3 + 96 + 48 + 32) / 4])
    for best in (smallest, split):
        assert best["reached_votes"].tolist() == [6] and best["tied_votes"].tolist() == [5]


def test_law_needs_two_sigmas():
    with pytest.raises(FitInputError, match="fewer than two distinct σ"):
        fit_hparam_law(pd.DataFrame({"env": ["e"], "utd": [1.0], "value": [64.0], "per_resample": [np.array([64.0])]}), "batch_size")


def test_round_batch_size():
    assert round_batch_size(300.4) == 304
    assert round_batch_size(3.0) == 16
    assert round_batch_size(300.4, multiple=1) == 300


def test_a_flat_law_has_slope_exactly_zero_and_no_beta():
    """The same best value at every σ: α is exactly 0 (not ± rounding, whose sign would decide
    whether β is 0 or ∞), and β, which a flat law does not identify, is NaN in every resample."""
    sigmas = np.array([1.0, 2.0, 4.0, 8.0])
    values = np.full(sigmas.shape, 64.0 * 1.1)
    best = pd.DataFrame(
        {"env": ["a"] * len(sigmas), "utd": sigmas, "value": values, "per_resample": [np.full(5, value) for value in values]}
    )
    law = fit_hparam_law(best, "batch_size")
    assert law.alpha == 0.0 and law.alpha_median == 0.0
    assert np.isnan(law.beta["a"]) and np.isnan(law.beta_median["a"])
    np.testing.assert_allclose(law.intercept["a"], np.log10(64.0 * 1.1))
