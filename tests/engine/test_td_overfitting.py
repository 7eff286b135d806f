"""TD-overfitting in the engine: each config's validation envs fill a validation buffer that no update
reads, at one step every `validation_interval` iterations that the env-step count leaves out, and the
TD errors on both buffers are one compile per group, null where an agent cannot measure them."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlscale.agents import registry
from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.options import SACOptions
from rlscale.config import RunConfig, SweepConfig
from rlscale.engine.loop import get_trainer
from rlscale.run.rows import GroupRowConstants, evaluation_rows
from rlscale.run.runner import run_sweep
from rlscale.run.store import read_evals
from rlscale_testing import (
    BACKEND_COMPILE_EVENT,
    JAXPR_TRACE_EVENT,
    make_hparams,
    recorded_compile_events,
    small_spec,
)

ITERATIONS = 230  # 100 random-action iterations, then 130 with updates
INTERVAL = 10
DISTINCT_VALUE = 12345.0
"""What the poisoned validation buffer holds in every field: no env produces it."""
HPARAMS = ([1e-3, 3e-4], [64, 32], [1.0, 2.0], [0, 1])
VALIDATION_STEPS = -(-ITERATIONS // INTERVAL)
"""Validation steps in ITERATIONS iterations: at iterations 0, INTERVAL, 2 INTERVAL, ..."""
WARM_UP_ITERATIONS = 1
"""The first chunk's length in the compile-count test: none of the lengths it then runs."""
REASSOCIATION_TOLERANCE = 1e-3
"""Absolute difference allowed between two compiled programs' states after 130 updates."""


def _spec(**overrides):
    return small_spec(**{**dict(num_configs=2, max_batch_size=64, update_slots=2, validation_interval=INTERVAL), **overrides})


def _poisoned(state):
    """`state` with every config's validation buffer full of DISTINCT_VALUE (obs, actions, rewards,
    next obs, terminations), as if validation envs had produced it."""
    buffer = state.validation.replay
    data = jax.tree_util.tree_map(lambda column: jnp.full_like(column, DISTINCT_VALUE), buffer.data)
    full = jnp.full_like(buffer.size, buffer.capacity)
    return state.replace(validation=state.validation.replace(replay=buffer.replace(data=data, size=full)))


@pytest.fixture(scope="module")
def runs():
    trainer = get_trainer(_spec())
    hparams = make_hparams(*HPARAMS)
    plain, _ = trainer.train_chunk(trainer.init(hparams), ITERATIONS)
    poisoned, _ = trainer.train_chunk(_poisoned(trainer.init(hparams)), ITERATIONS)
    return trainer, plain, poisoned


def test_no_update_reads_the_validation_buffer(runs):
    """Filled with values no env produces, the validation buffer changes no bit of any config's
    training, and none of them reach the replay; the validation envs' own rows are overwritten in."""
    _, plain, poisoned = runs
    for left, right in zip(jax.tree_util.tree_leaves(plain.agent), jax.tree_util.tree_leaves(poisoned.agent)):
        assert np.asarray(left).tobytes() == np.asarray(right).tobytes()
    for column in jax.tree_util.tree_leaves(poisoned.replay.data):
        assert not np.any(np.asarray(column) == DISTINCT_VALUE)
    validation_obs = np.asarray(poisoned.validation.replay.data.obs)
    assert not np.any(validation_obs[:, :VALIDATION_STEPS] == DISTINCT_VALUE)  # one row per step (one env)
    assert np.all(validation_obs[:, VALIDATION_STEPS:] == DISTINCT_VALUE)


def test_validation_envs_step_every_interval_and_are_not_env_steps(runs):
    _, plain, _ = runs
    assert np.asarray(plain.iteration).tolist() == [ITERATIONS] * 2  # env steps: ITERATIONS * num_envs
    assert np.asarray(plain.replay.size).tolist() == [ITERATIONS] * 2
    assert np.asarray(plain.validation.replay.size).tolist() == [VALIDATION_STEPS] * 2
    # Their own episodes: no validation observation is a training one.
    validation = np.asarray(plain.validation.replay.data.obs)[:, :VALIDATION_STEPS]
    training = np.asarray(plain.replay.data.obs)[:, :ITERATIONS]
    for config in range(2):
        assert not (validation[config][:, None, :] == training[config][None, :, :]).all(-1).any()


def test_training_draws_the_same_without_validation(runs):
    """The validation envs have a key of their own: turning validation off changes no training draw.
    The random-action iterations store the same transitions bit for bit; after them the two
    compiled programs differ by float reassociation only (measured: 3e-4 at most in an observation,
    2e-4 in a parameter; a different draw moves them by tenths)."""
    _, plain, _ = runs
    spec = _spec(validation_interval=0)
    trainer = get_trainer(spec)
    alone, _ = trainer.train_chunk(trainer.init(make_hparams(*HPARAMS)), ITERATIONS)
    assert alone.validation is None
    random_rows = -(-spec.learning_starts // spec.num_envs) * spec.num_envs  # whole iterations of random actions
    alone_obs, plain_obs = np.asarray(alone.replay.data.obs), np.asarray(plain.replay.data.obs)
    np.testing.assert_array_equal(alone_obs[:, :random_rows], plain_obs[:, :random_rows])
    np.testing.assert_allclose(alone_obs, plain_obs, rtol=0, atol=REASSOCIATION_TOLERANCE)
    for left, right in zip(jax.tree_util.tree_leaves(alone.agent), jax.tree_util.tree_leaves(plain.agent)):
        np.testing.assert_allclose(np.asarray(left), np.asarray(right), rtol=0, atol=REASSOCIATION_TOLERANCE)
    errors = trainer.td_errors(alone, 0)
    assert np.all(np.isfinite(np.asarray(errors.train))) and np.all(np.isnan(np.asarray(errors.validation)))


def test_td_errors_finite_repeatable_and_one_compile_per_group():
    """td_errors and train_chunk are the group's one program each (the `runs` fixture's, by the
    trainer cache): after a first call, nothing is traced or compiled again across chunk lengths,
    evaluations and two sets of hyperparameter values; the same evaluation index draws the same
    batches."""
    trainer = get_trainer(_spec())
    warm, _ = trainer.train_chunk(trainer.init(make_hparams(*HPARAMS)), WARM_UP_ITERATIONS)
    jax.block_until_ready(trainer.td_errors(warm, 0))
    with recorded_compile_events(JAXPR_TRACE_EVENT, BACKEND_COMPILE_EVENT) as traced_or_compiled:
        for values in (HPARAMS, ([3e-4, 2e-3], [32, 64], [2.0, 0.5], [5, 6])):
            state = trainer.init(make_hparams(*values))
            for iterations in (120, 7, 30):
                state, _ = trainer.train_chunk(state, iterations)
                for eval_index in (0, 3):
                    errors = trainer.td_errors(state, eval_index)
                    measured = np.stack([np.asarray(errors.train), np.asarray(errors.validation)])
                    assert np.all(np.isfinite(measured)) and np.all(measured > 0)
            again = trainer.td_errors(state, 3)
            assert np.asarray(again.train).tobytes() == np.asarray(errors.train).tobytes()
            assert np.asarray(again.validation).tobytes() == np.asarray(errors.validation).tobytes()
    assert traced_or_compiled == []


class SACWithoutTDError(SACAgent):
    """SAC as a plug-in that does not implement the optional `td_error`."""

    td_error = None


@pytest.fixture
def agent_without_td_error():
    with registry.PLUGINS.restored():
        registry.register("sac-no-td", SACWithoutTDError, SACOptions)
        yield "sac-no-td"


def test_an_agent_without_td_error_trains_and_its_rows_carry_null(agent_without_td_error, tmp_path):
    trainer = get_trainer(dataclasses.replace(_spec(), algo=agent_without_td_error))
    assert trainer.td_errors is None and not trainer.validates
    assert trainer.init(make_hparams(*HPARAMS)).validation is None
    config = SweepConfig(
        algo=agent_without_td_error, batch_size=[16], learning_rate=[1e-3], env_steps=300, eval_interval=150,
        eval_episodes=1, learning_starts=100, buffer_capacity=300, hidden_width=8, checkpoint_every_seconds=0.0,
    )
    run_sweep(config, tmp_path / "run")
    rows = read_evals(tmp_path / "run")
    assert len(rows) == 2 and rows["return"].notna().all()
    assert rows["td_error_train"].isna().all() and rows["td_error_validation"].isna().all()


def test_rows_write_unmeasured_and_non_finite_td_errors_as_null():
    runs = [RunConfig(0, 1.0, 32, 1e-3, 0), RunConfig(1, 2.0, 64, 3e-4, 1)]
    group = GroupRowConstants(
        group=0, runs=tuple(runs), suite="jax", env="pendulum", algo="sac", model_size=1234, model_size_total=2345,
        agent_options="{}", return_bounds=(-1226.7, -150.0),
    )
    common = dict(
        env_step=500, grad_steps=[400, 800], returns=[-900.5, -800.0], wall_time_s=1.0,
        diverged_at_env_step=[None, None], reset_env_steps=[[], []],
    )
    measured = evaluation_rows(group, **common, td_errors=(np.array([1.5, np.inf]), np.array([np.nan, 2.5])))
    assert [(row["td_error_train"], row["td_error_validation"]) for row in measured] == [(1.5, None), (None, 2.5)]
    unmeasured = evaluation_rows(group, **common)
    assert all(row["td_error_train"] is None and row["td_error_validation"] is None for row in unmeasured)
