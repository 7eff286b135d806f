"""The pure-JAX envs: reset/step under jit and vmap, dynamics, terminations, the registry contract."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import check_reset_and_step_under_jit_and_vmap
from rlscale.envs import EnvSpec, env_names, get_spec, make_env

PURE_JAX_NAMES = ["pendulum", "cartpole-balance", "pointmass"]


@pytest.mark.parametrize("name", PURE_JAX_NAMES)
def test_reset_and_step_under_jit_and_vmap(name):
    spec, env = make_env(name)
    assert isinstance(spec, EnvSpec) and spec.suite == "jax" and spec.name == name
    # The registry's static sizes (a JAX-free table) are the env class's own.
    assert (spec.observation_size, spec.action_size) == (env.observation_size, env.action_size)
    check_reset_and_step_under_jit_and_vmap(spec, env, num_envs=8)


def test_pendulum_matches_gym_pendulum_v1_dynamics():
    _, env = make_env("pendulum")
    state = env.reset(jax.random.PRNGKey(0))
    state = state.replace(pipeline_state=jnp.array([0.5, -0.3], jnp.float32))
    next_state = env.step(state, jnp.array([0.25]))
    theta, theta_dot, torque = 0.5, -0.3, 0.5
    expected_theta_dot = theta_dot + (3 * 10.0 / 2 * np.sin(theta) + 3.0 * torque) * 0.05
    expected_theta = theta + expected_theta_dot * 0.05
    expected_cost = theta**2 + 0.1 * theta_dot**2 + 0.001 * torque**2
    np.testing.assert_allclose(next_state.pipeline_state, [expected_theta, expected_theta_dot], rtol=1e-5)
    np.testing.assert_allclose(next_state.reward, -expected_cost, rtol=1e-5)
    np.testing.assert_allclose(
        next_state.obs, [np.cos(expected_theta), np.sin(expected_theta), expected_theta_dot], rtol=1e-5
    )


def _rollout(env, rng, num_steps, action):
    """Steps one env `num_steps` times with a constant action; returns stacked (reward, done)."""

    def body(state, _):
        state = env.step(state, action)
        return state, (state.reward, state.done)

    _, (rewards, dones) = jax.lax.scan(body, env.reset(rng), None, length=num_steps)
    return rewards, dones


@pytest.mark.parametrize("name", ["pendulum", "pointmass"])
def test_envs_without_termination_never_set_done(name):
    spec, env = make_env(name)
    rngs = jax.random.split(jax.random.PRNGKey(0), 16)
    action = jnp.ones((spec.action_size,))
    _, dones = jax.jit(jax.vmap(lambda r: _rollout(env, r, 3 * spec.episode_length, action)))(rngs)
    assert float(dones.max()) == 0.0


def test_cartpole_terminates_when_pushed_one_way():
    spec, env = make_env("cartpole-balance")
    rewards, dones = jax.jit(lambda r: _rollout(env, r, 100, jnp.ones((1,))))(jax.random.PRNGKey(0))
    first_done = int(np.argmax(np.asarray(dones) > 0))
    assert 0 < first_done < 100 and dones[first_done] == 1.0
    assert np.all(np.asarray(rewards) == 1.0)
    assert spec.episode_length == 500


def test_action_repeat_sums_rewards_and_stops_at_termination():
    spec, env = make_env("cartpole-balance", action_repeat=4)
    assert spec.episode_length == 125 and spec.action_repeat == 4
    _, plain_env = make_env("cartpole-balance")
    rng = jax.random.PRNGKey(0)
    plain_rewards, plain_dones = _rollout(plain_env, rng, 100, jnp.ones((1,)))
    first_done = int(np.argmax(np.asarray(plain_dones) > 0))
    rewards, dones = _rollout(env, rng, 100 // 4, jnp.ones((1,)))
    first_repeated_done = int(np.argmax(np.asarray(dones) > 0))
    assert first_repeated_done == first_done // 4
    assert float(rewards[: first_repeated_done + 1].sum()) == first_done + 1
    assert float(rewards[first_repeated_done]) == first_done % 4 + 1


def test_pendulum_action_repeat_matches_repeated_steps():
    _, env = make_env("pendulum", action_repeat=4)
    _, plain_env = make_env("pendulum")
    state = env.reset(jax.random.PRNGKey(3))
    action = jnp.array([0.7])
    plain = state
    total = 0.0
    for _ in range(4):
        plain = plain_env.step(plain, action)
        total += float(plain.reward)
    repeated = env.step(state, action)
    np.testing.assert_allclose(repeated.obs, plain.obs, rtol=1e-6)
    np.testing.assert_allclose(float(repeated.reward), total, rtol=1e-5)


def test_unknown_names_and_options_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown env name 'nope'.*pendulum"):
        make_env("nope")
    with pytest.raises(ValueError, match="unknown option 'colour'.*action_repeat"):
        get_spec("pendulum", colour="red")
    with pytest.raises(ValueError, match="action_repeat"):
        get_spec("pendulum", action_repeat=0)
    with pytest.raises(ValueError, match="hashable"):
        get_spec("pendulum", action_repeat=[1])


def test_registry_lists_pure_jax_envs_first_and_specs_are_hashable():
    assert env_names()[: len(PURE_JAX_NAMES)] == PURE_JAX_NAMES
    assert hash(get_spec("pendulum")) == hash(get_spec("pendulum"))
    assert get_spec("pendulum") != get_spec("pendulum", action_repeat=2)
