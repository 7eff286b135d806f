"""The published DMC sweep: with default options (selection at 800 and the paper's DMC thresholds), shared
exponents and every intercept within ±0.02 of the authors' published qscaled fit (the spread of a faithful
re-implementation is about ±0.006 per bootstrap stream), and the exact time-to-threshold check from the
data's README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlscale.laws import FitOptions, fit_laws
from rlscale.run.tables import load_runs

DMC_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "dmc_sweep" / "dmc_sweep.csv.gz"
PUBLISHED_BATCH_SLOPE = -0.4879301029813466
PUBLISHED_LEARNING_RATE_SLOPE = -0.3202793859868532
PUBLISHED_BATCH_INTERCEPTS = {
    "cartpole-swingup": 2.7224968273808483, "cheetah-run": 2.766735092960003, "dog-stand": 2.100341372853138,
    "finger-spin": 2.7801061330264045, "humanoid-stand": 2.645807138369984, "quadruped-walk": 2.7294883191103128,
    "walker-walk": 2.4695522122029607,
}
PUBLISHED_LEARNING_RATE_INTERCEPTS = {
    "cartpole-swingup": -3.1084468433999897, "cheetah-run": -3.1625157997635185, "dog-stand": -3.274345108741648,
    "finger-spin": -3.0252474129404123, "humanoid-stand": -3.3224271306588764, "quadruped-walk": -3.0481881635212456,
    "walker-walk": -2.989728548476802,
}
TOLERANCE = 0.02
# README "Deterministic check": best single config at σ=2 and its steps to 800.
BASELINE_AT_UTD_2 = {
    "cartpole-swingup": (512, 6e-4, 31_000),
    "cheetah-run": (256, 3e-4, 489_000),
    "dog-stand": (128, 3e-4, 391_000),
    "finger-spin": (512, 1.2e-3, 43_000),
    "humanoid-stand": (512, 1.5e-4, 495_000),
    "quadruped-walk": (128, 6e-4, 79_000),
    "walker-walk": (512, 6e-4, 36_000),
}


@pytest.fixture(scope="module")
def dmc_table():
    if not DMC_CSV.exists():
        pytest.skip(f"the published DMC sweep is not at {DMC_CSV} (it lives in the shared data checkout)")
    return load_runs(DMC_CSV)


@pytest.fixture(scope="module")
def dmc_fit(dmc_table):
    return fit_laws(dmc_table, FitOptions())


def _assert_matches_published(fit) -> None:
    assert fit.batch_size_law.slope == pytest.approx(PUBLISHED_BATCH_SLOPE, abs=TOLERANCE)
    assert fit.learning_rate_law.slope == pytest.approx(PUBLISHED_LEARNING_RATE_SLOPE, abs=TOLERANCE)
    for env, intercept in PUBLISHED_BATCH_INTERCEPTS.items():
        assert fit.batch_size_law.intercept[env] == pytest.approx(intercept, abs=TOLERANCE), env
    for env, intercept in PUBLISHED_LEARNING_RATE_INTERCEPTS.items():
        assert fit.learning_rate_law.intercept[env] == pytest.approx(intercept, abs=TOLERANCE), env


def test_shared_exponents_and_intercepts_match_published(dmc_fit):
    # qscaled selects at the last of 100, …, 800 and fits DMC at 1000 − logspace(log10 800, log10 200, 10).
    assert dmc_fit.selection_threshold == 800.0
    np.testing.assert_allclose(dmc_fit.thresholds, 1000 - np.logspace(np.log10(800), np.log10(200), 10), atol=1e-6)
    _assert_matches_published(dmc_fit)
    assert dmc_fit.batch_size_law.alpha == -dmc_fit.batch_size_law.slope


@pytest.mark.slow
def test_every_bootstrap_stream_matches_and_the_mean_is_closer(dmc_table):
    fits = [fit_laws(dmc_table, FitOptions(selection_threshold=800.0, thresholds=(800.0,), seed=seed)) for seed in range(8)]
    for fit in fits:
        _assert_matches_published(fit)
    mean_batch = sum(fit.batch_size_law.slope for fit in fits) / len(fits)
    mean_rate = sum(fit.learning_rate_law.slope for fit in fits) / len(fits)
    assert mean_batch == pytest.approx(PUBLISHED_BATCH_SLOPE, abs=0.01)
    assert mean_rate == pytest.approx(PUBLISHED_LEARNING_RATE_SLOPE, abs=0.01)


def test_baseline_configs_match_readme(dmc_fit):
    chosen = {
        item.env: (item.batch_size, item.learning_rate, item.time_to_threshold)
        for item in dmc_fit.best_hparams
        if item.utd == 2.0 and item.threshold == 800.0
    }
    for env, (batch, rate, steps) in BASELINE_AT_UTD_2.items():
        assert chosen[env][0] == batch and chosen[env][1] == pytest.approx(rate) and chosen[env][2] == steps, env


def test_censored_configs_match_readme(dmc_fit):
    at_800 = [item for item in dmc_fit.censored if item.threshold == 800.0]
    assert len(at_800) == 11
    assert {(item.env, item.utd, item.batch_size) for item in at_800} >= {("cheetah-run", 8.0, 512), ("dog-stand", 8.0, 256)}
