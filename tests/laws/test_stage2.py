"""The protocol's stages on synthetic runs drawn from known laws (rlscale/laws/synthetic.py):
grid fit → proposal → runs at the fitted hyperparameters → fit with the grid's laws → held-out check.

Tolerances (2 envs; grid 4 σ × 4 B × 4 η × 4 seeds; stage 2 at 6 σ with 4 seeds; seeded):
* stage-2 data laws: α_J within ±0.1 of the truth, D_min within 40%, D_J(σ) within 10% on σ ∈ [0.5, 16];
* the pooled law's exponent within ±0.1 (every env has the same α);
* the baseline (σ = 2's fastest grid config at every σ) is slower than the law's configs away from σ = 2;
* a held-out config at the laws' hyperparameters lands within its predicted interval (±15%).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import FitInputError, FitOptions, fit_laws, round_batch_size
from rlscale.laws.propose import propose_stage2
from rlscale.laws.synthetic import SyntheticLaws, synthetic_runs, synthetic_sweep
from rlscale.laws.validation import validate_runs

LAWS = SyntheticLaws()
THRESHOLDS = (500.0, 600.0, 700.0, 800.0)
STAGE2_UTDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@pytest.fixture(scope="module")
def grid_fit():
    table = synthetic_sweep(
        LAWS, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(128, 256, 512, 1024), learning_rates=(2e-4, 4e-4, 8e-4, 1.6e-3),
        n_seeds=4, n_evals=400, seed=5,
    )
    return fit_laws(table, FitOptions(thresholds=THRESHOLDS, selection_threshold=800.0, n_bootstrap=30))


@pytest.fixture(scope="module")
def proposals(grid_fit):
    return {env: propose_stage2(grid_fit, list(STAGE2_UTDS), env, baseline_utd=2.0) for env in LAWS.envs}


@pytest.fixture(scope="module")
def stage2_fit(grid_fit, proposals):
    configs = pd.DataFrame(
        [(env, config.utd, config.batch_size, config.learning_rate) for env, proposal in proposals.items() for config in proposal.configs],
        columns=["env", "utd", "batch_size", "learning_rate"],
    )
    table = synthetic_runs(LAWS, configs, n_seeds=4, n_evals=2000, seed=6)
    return fit_laws(table, FitOptions(thresholds=THRESHOLDS, n_bootstrap=30, hparam_laws=grid_fit, baseline_utd=2.0))


def test_proposal_is_at_the_laws_hyperparameters(grid_fit, proposals):
    for env, proposal in proposals.items():
        ours = [config for config in proposal.configs if config.role == "law"]
        assert [config.utd for config in ours] == list(STAGE2_UTDS)
        for config in ours:
            assert config.batch_size == round_batch_size(grid_fit.batch_size_law.predict(env, config.utd))
            assert config.batch_size % 16 == 0
            assert config.learning_rate == pytest.approx(grid_fit.learning_rate_law.predict(env, config.utd), rel=1e-3)
            law = grid_fit.data_law_for(800.0, env)
            assert config.env_steps_needed == pytest.approx(1.5 * max(law.predict(config.utd), law.predict_interval(config.utd, (5, 95))[1]))
        baseline = [config for config in proposal.configs if config.role == "baseline"]
        best = next(item for item in grid_fit.best_hparams if item.env == env and item.utd == 2.0 and item.threshold == 800.0)
        assert {(config.batch_size, config.learning_rate) for config in baseline} == {(best.batch_size, best.learning_rate)}
        assert any("outside the grid" in note for note in proposal.notes)


def test_stage2_takes_the_grid_laws_and_recovers_the_data_laws(grid_fit, stage2_fit):
    assert stage2_fit.stage == "hparam_laws" and stage2_fit.data_points == "law"
    assert stage2_fit.batch_size_law.alpha == grid_fit.batch_size_law.alpha
    assert stage2_fit.learning_rate_law.intercept == grid_fit.learning_rate_law.intercept
    sigmas = np.array([0.5, 2.0, 16.0])
    for env in LAWS.envs:
        for threshold in THRESHOLDS:
            law = stage2_fit.data_law_for(threshold, env)
            d_min, beta, alpha = LAWS.data_law(env, threshold)
            assert law.alpha == pytest.approx(alpha, abs=0.1), (env, threshold)
            assert law.d_min == pytest.approx(d_min, rel=0.4), (env, threshold)
            np.testing.assert_allclose(law.predict(sigmas), d_min + (beta / sigmas) ** alpha, rtol=0.1)
            assert {point.batch_size for point in law.points} <= {16 * k for k in range(1, 200)}
    for threshold in THRESHOLDS:
        pooled = stage2_fit.data_law_for(threshold, "all")
        assert pooled.alpha == pytest.approx(LAWS.tau_alpha, abs=0.1)
        assert set(pooled.env_scales) == set(LAWS.envs)
    assert any("stage 2" in note for note in stage2_fit.notes)


def test_the_baseline_is_slower_away_from_its_sigma(stage2_fit):
    for env in LAWS.envs:
        ours, baseline = stage2_fit.data_law_for(800.0, env), stage2_fit.baseline_data_law_for(800.0, env)
        assert stage2_fit.baseline[0].utd == 2.0
        for sigma in (0.5, 16.0):
            assert baseline.predict(sigma) > ours.predict(sigma)


def test_compute_uses_the_arithmetic_mean_batch_size_over_envs(stage2_fit):
    curve = next(item for item in stage2_fit.frontier if item.scope == "all")
    law = stage2_fit.batch_size_law
    expected = np.mean([10 ** (law.intercept[env] + law.slope * np.log10(curve.sigma)) for env in LAWS.envs], axis=0)
    np.testing.assert_allclose(curve.batch_size, expected)
    np.testing.assert_allclose(curve.compute, 10 * stage2_fit.model_size * expected * curve.sigma * curve.data)
    budget = stage2_fit.budget_law
    assert [point.held_out for point in budget.points] == [False] * (len(THRESHOLDS) - 2) + [True, True]


def test_a_held_out_config_at_the_laws_hyperparameters_is_predicted(grid_fit, stage2_fit):
    sigma = 3.0
    env = "env-a"
    config = pd.DataFrame(
        [(env, sigma, round_batch_size(grid_fit.batch_size_law.predict(env, sigma)), float(grid_fit.learning_rate_law.predict(env, sigma)))],
        columns=["env", "utd", "batch_size", "learning_rate"],
    )
    runs = synthetic_runs(LAWS, config, n_seeds=6, n_evals=600, seed=7)
    validation = validate_runs(stage2_fit, runs, 800.0)
    [record] = validation.configs
    assert record.scope == env and record.seeds == 6
    assert record.measured == pytest.approx(record.predicted, rel=0.15)
    assert record.measured_interval[0] <= record.measured <= record.measured_interval[1]
    assert record.intervals_overlap
    with pytest.raises(FitInputError, match="no data law at J=650"):
        validate_runs(stage2_fit, runs, 650.0)


def test_stage2_runs_of_an_env_without_laws_are_refused(grid_fit):
    runs = synthetic_runs(
        SyntheticLaws(tau_d_min={"env-c": 1e4}, tau_beta={"env-c": 30.0}, tau_scale={"env-c": 1e4},
                      batch_beta={"env-c": 1e5}, learning_rate_beta={"env-c": 1e-10}),
        pd.DataFrame([("env-c", utd, 256, 5e-4) for utd in (1.0, 2.0, 4.0)], columns=["env", "utd", "batch_size", "learning_rate"]),
        n_seeds=2, n_evals=100,
    )
    with pytest.raises(FitInputError, match="env-c of the runs have no B"):
        fit_laws(runs, FitOptions(hparam_laws=grid_fit))


def test_grid_data_points_come_from_the_config_nearest_the_laws(grid_fit):
    table = synthetic_sweep(
        LAWS, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(128, 256, 512, 1024), learning_rates=(2e-4, 4e-4, 8e-4, 1.6e-3),
        n_seeds=4, n_evals=400, seed=5,
    )
    minimum = fit_laws(table, FitOptions(thresholds=THRESHOLDS, selection_threshold=800.0, n_bootstrap=30, data_points="minimum"))
    batch_steps, rate_steps = math.log(2.0), math.log(2.0)
    for env in LAWS.envs:
        law_points = grid_fit.data_law_for(800.0, env).points
        minimum_points = minimum.data_law_for(800.0, env).points
        for point, fastest in zip(law_points, minimum_points):
            best_batch = grid_fit.batch_size_law.predict(env, point.utd)
            best_rate = grid_fit.learning_rate_law.predict(env, point.utd)
            nearest = min(
                ((b, r) for b in (128, 256, 512, 1024) for r in (2e-4, 4e-4, 8e-4, 1.6e-3)),
                key=lambda item: (math.log(item[0] / best_batch) / batch_steps) ** 2 + (math.log(item[1] / best_rate) / rate_steps) ** 2,
            )
            assert (point.batch_size, point.learning_rate) == pytest.approx(nearest)
            assert point.time >= fastest.time
    assert any("nearest the fitted B*(σ), η*(σ)" in note for note in grid_fit.notes)
    assert any("fastest config of the grid" in note for note in minimum.notes)
