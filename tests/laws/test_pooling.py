"""App. D pooling (rlscale/laws/pooling.py) against a small hand-computed reference, and the pooled
law of `fit_laws` on stage-2-like runs whose times to threshold are known exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.optimize

from rlscale.laws import FitOptions, fit_data_law, fit_laws, pool_env_times

SIGMAS = (1.0, 2.0, 4.0)
THRESHOLDS = (300.0, 600.0)
# times[env][σ index][J index], env steps.
TIMES = {
    "env-a": [[100.0, 200.0], [50.0, 120.0], [40.0, 80.0]],
    "env-b": [[1000.0, 3000.0], [600.0, 1000.0], [400.0, 900.0]],
}


def test_pooling_matches_the_hand_computed_reference():
    pooled = pool_env_times(np.array([TIMES["env-a"], TIMES["env-b"]]))
    # Medians over all (σ, J): a: (80 + 100) / 2 = 90; b: (900 + 1000) / 2 = 950; median of medians 520.
    np.testing.assert_allclose(pooled.env_medians, [90.0, 950.0])
    assert float(pooled.scale) == 520.0
    expected = 520.0 * (np.array(TIMES["env-a"]) / 90.0 + np.array(TIMES["env-b"]) / 950.0) / 2.0
    np.testing.assert_allclose(pooled.times, expected)
    # σ = 1, J = 300: 520 · (100/90 + 1000/950) / 2 = 562.57...
    assert pooled.times[0, 0] == pytest.approx(520.0 * (100 / 90 + 1000 / 950) / 2)


def test_an_env_that_does_not_reach_j_leaves_that_point_out_and_medians_skip_it():
    times = np.array([TIMES["env-a"], TIMES["env-b"]])
    times[1, 2, 1] = np.inf
    pooled = pool_env_times(times)
    assert pooled.env_medians[1] == 1000.0  # median of the five finite times of env-b: 400, 600, 1000, 1000, 3000
    assert np.isinf(pooled.times[2, 1]) and np.isfinite(pooled.times[2, 0])


def test_leading_axes_are_pooled_independently():
    times = np.array([TIMES["env-a"], TIMES["env-b"]])
    stacked = pool_env_times(np.stack([times, 2 * times]))
    np.testing.assert_allclose(stacked.times[1], 2 * stacked.times[0])
    np.testing.assert_allclose(stacked.scale, [520.0, 1040.0])


def _runs_crossing_at(times: dict, n_seeds: int = 3) -> pd.DataFrame:
    """One config per (env, σ) whose every seed steps from 0 to 1000 in stages, so that its
    normalized return first reaches J at exactly TIMES[env][σ][J]."""
    rows = []
    for env, per_sigma in times.items():
        for sigma, crossings in zip(SIGMAS, per_sigma):
            steps = sorted({10 * step for step in range(1, 401)} | set(crossings))
            for seed in range(n_seeds):
                for step in steps:
                    value = 100.0 + sum(300.0 for crossing in crossings if step >= crossing)
                    rows.append({"suite": "dmc", "env": env, "utd": sigma, "batch_size": 64, "learning_rate": 1e-3,
                                 "seed": seed, "env_step": step, "return": value})
    return pd.DataFrame(rows)


def test_fit_laws_pools_the_envs_as_appendix_d():
    table = _runs_crossing_at(TIMES)
    result = fit_laws(table, FitOptions(thresholds=THRESHOLDS, selection_threshold=600.0, n_bootstrap=4))
    expected = pool_env_times(np.array([TIMES["env-a"], TIMES["env-b"]])).times
    for index, threshold in enumerate(THRESHOLDS):
        law = result.data_law_for(threshold, "all")
        assert [point.utd for point in law.points] == list(SIGMAS)
        np.testing.assert_allclose([point.time for point in law.points], expected[:, index])
        assert law.scale == 520.0 and law.env_scales == {"env-a": 90.0, "env-b": 950.0}
        assert all(point.env == "all" and point.batch_size is None for point in law.points)


def _qscaled_fit(sigmas: np.ndarray, values: np.ndarray) -> np.ndarray:
    """qscaled's fit_powerlaw: c + (σ/b)^(−a) by mean squared error, brute-force grid, then L-BFGS-B from
    the best grid points (20 here, 500 in qscaled); returns (a, b, c)."""

    def loss(params):
        a, b, c = params
        with np.errstate(all="ignore"):
            value = np.mean((c + (sigmas / (b + 1e-12)) ** (-a) - values) ** 2)
        return value if np.isfinite(value) else 1e300

    grid = np.array(np.meshgrid(np.arange(-2, 2, 0.8), np.arange(0, 1, 0.2), np.arange(-2, 2, 0.8), indexing="ij")).reshape(3, -1).T
    starts = grid[np.argsort([loss(point) for point in grid])[:20]]
    fits = [scipy.optimize.minimize(loss, start, method="L-BFGS-B").x for start in starts]
    return min(fits, key=loss)


def test_the_linear_loss_reproduces_qscaled_fit_powerlaw_on_normalized_means():
    sigmas = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    rng = np.random.default_rng(0)
    means = (0.6 + (sigmas / 0.9) ** (-0.75)) * np.exp(rng.normal(0.0, 0.03, size=len(sigmas)))
    a, b, c = _qscaled_fit(sigmas, means)
    ours = fit_data_law(sigmas, means, loss="linear")
    # c + (σ/b)^(−a) is d_min + (β/σ)^α with d_min = c, α = a, β = b.
    assert ours.d_min == pytest.approx(c, abs=1e-3)
    assert ours.alpha == pytest.approx(a, abs=1e-3)
    assert ours.beta == pytest.approx(b, rel=1e-3)


def test_the_default_pooled_law_is_qscaleds_fit_of_the_normalized_means(recovery_sweep):
    """The paper's App. D fit (qscaled `make_data_pareto_fits`): `fit_powerlaw` on the mean normalized times,
    least squares on those times themselves; least squares on log D (the old default) gives another law."""
    options = FitOptions(n_bootstrap=2, thresholds=(800.0,), selection_threshold=800.0)
    for loss, matches in (("linear", True), ("log", False)):
        law = fit_laws(recovery_sweep, dataclasses.replace(options, data_law_loss=loss) if loss == "log" else options).data_law_for(800.0, "all")
        sigmas = np.array([point.utd for point in law.points])
        a, b, c = _qscaled_fit(sigmas, np.array([point.time for point in law.points]) / law.scale)
        # D = scale · (c + (σ/b)^(−a)): d_min = scale · c, α = a, β = b · scale^(1/a).
        ours = (law.d_min / law.scale, law.alpha, law.beta / law.scale ** (1 / law.alpha))
        assert np.allclose(ours, (c, a, b), rtol=1e-3) == matches, (loss, ours, (a, b, c))
