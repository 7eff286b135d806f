"""MuJoCo Playground DM Control suite: reset/step under jit and vmap, no time-limit done.

The default run builds one cheap env (cartpole-swingup); the sweep over every registered DMC
env is marked slow.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_reset_and_step_under_jit_and_vmap, rollout, uniform_actions
from rlscale.envs import env_names, make_env
from rlscale.envs.dmc_suite import playground_name

DMC_NAMES = [name for name in env_names() if name.startswith("dmc/")]


def test_cartpole_swingup_runs_past_the_time_limit_without_done():
    """One jit(vmap(reset, then scan(step))) compile: runs 10 steps past the episode length."""
    spec, env = make_env("dmc/cartpole-swingup")
    num_envs, num_steps = 2, spec.episode_length + 10
    rewards, dones, final = rollout(env, spec, jax.random.PRNGKey(0), num_steps, num_envs, uniform_actions(spec.action_size))
    assert rewards.shape == dones.shape == (num_envs, num_steps)
    assert rewards.dtype == dones.dtype == final.obs.dtype == jnp.float32
    assert final.obs.shape == (num_envs, spec.observation_size) and np.all(np.isfinite(np.asarray(final.obs)))
    assert float(dones.max()) == 0.0
    assert float(final.info.get("time_out", jnp.zeros(num_envs)).max()) == 0.0
    rewards = np.asarray(rewards)
    assert np.all((rewards >= 0.0) & (rewards <= 1.0))


@pytest.mark.slow
def test_action_repeat_sums_rewards():
    spec, env = make_env("dmc/cartpole-swingup", action_repeat=2)
    assert spec.episode_length == 500
    _, plain_env = make_env("dmc/cartpole-swingup")
    state = env.reset(jax.random.PRNGKey(0))
    action = jnp.array([0.5])
    first = plain_env.step(state, action)
    second = plain_env.step(first, action)
    repeated = env.step(state, action)
    np.testing.assert_allclose(repeated.obs, second.obs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(repeated.reward), float(first.reward + second.reward), rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", DMC_NAMES)
def test_every_dmc_env_matches_its_spec_and_never_terminates(name):
    spec, env = make_env(name)
    assert playground_name(name)
    assert env.observation_size == spec.observation_size and env.action_size == spec.action_size
    check_reset_and_step_under_jit_and_vmap(spec, env)
    _, dones, _ = rollout(env, spec, jax.random.PRNGKey(0), 200, 2, uniform_actions(spec.action_size))
    assert float(dones.max()) == 0.0
