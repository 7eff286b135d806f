"""Brax suite: reset/step under jit and vmap, action scaling, termination vs time limit.

The default run builds one cheap-to-compile env (inverted_pendulum, which terminates); halfcheetah
past its time limit and the sweep over every registered Brax env are marked slow (MJX compiles are
slow on CPU).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_reset_and_step_under_jit_and_vmap, rollout, uniform_actions
from rlscale.envs import env_names, get_spec, make_env
from rlscale.envs.brax_suite import terminates

BRAX_NAMES = [name for name in env_names() if name.startswith("brax/")]


def test_inverted_pendulum_steps_under_jit_and_vmap_and_terminates(first_done_index):
    """One jit(vmap(reset, then scan(step))) compile: full thrust topples the pole within 50 steps."""
    spec, env = make_env("brax/inverted_pendulum")
    num_envs, num_steps = 2, 50
    rewards, dones, final = rollout(env, spec, jax.random.PRNGKey(0), num_steps, num_envs, lambda key: jnp.ones((1,)))
    assert rewards.shape == dones.shape == (num_envs, num_steps)
    assert rewards.dtype == dones.dtype == final.obs.dtype == jnp.float32
    assert final.obs.shape == (num_envs, spec.observation_size) and isinstance(final.info, dict)
    assert np.all(np.isfinite(np.asarray(rewards))) and np.all(np.isfinite(np.asarray(final.obs)))
    for env_dones in np.asarray(dones):
        assert 0 <= first_done_index(env_dones) < num_steps


def test_actions_in_unit_box_map_onto_ctrl_range():
    _, env = make_env("brax/inverted_pendulum")
    np.testing.assert_allclose(env._ctrl_center, [0.0])
    np.testing.assert_allclose(env._ctrl_half_range, [3.0])


@pytest.mark.slow
def test_halfcheetah_never_sets_done_past_the_time_limit():
    """One jit(vmap(scan(step))) compile: runs 10 steps past the episode length."""
    spec, env = make_env("brax/halfcheetah")
    rewards, dones, final = rollout(
        env, spec, jax.random.PRNGKey(0), spec.episode_length + 10, 1, uniform_actions(spec.action_size)
    )
    assert rewards.shape == dones.shape == (1, spec.episode_length + 10)
    assert final.obs.shape == (1, spec.observation_size)
    assert float(dones.max()) == 0.0
    assert np.all(np.isfinite(np.asarray(rewards)))
    assert "truncation" not in final.info and "steps" not in final.info


@pytest.mark.slow
@pytest.mark.parametrize("name", BRAX_NAMES)
def test_every_brax_env_matches_its_spec_and_terminates_as_declared(name, first_done_index):
    spec, env = make_env(name)
    assert env.env.observation_size == spec.observation_size
    assert env.env.action_size == spec.action_size
    check_reset_and_step_under_jit_and_vmap(spec, env)
    _, dones, _ = rollout(env, spec, jax.random.PRNGKey(0), 300, 4, uniform_actions(spec.action_size))
    fired = any(first_done_index(env_dones) >= 0 for env_dones in np.asarray(dones))
    if not terminates(name):
        assert not fired
    elif name == "brax/ant":
        assert env.env._terminate_when_unhealthy  # a random ant seldom leaves its healthy z range
    else:
        assert fired


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["generalized", "positional", "spring"])
def test_other_backends_build_and_step(backend):
    spec, env = make_env("brax/halfcheetah", backend=backend)
    assert spec == get_spec("brax/halfcheetah")
    check_reset_and_step_under_jit_and_vmap(spec, env)
