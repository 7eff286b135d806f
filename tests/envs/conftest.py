"""Shared helpers for the env tests: jitted, vmapped reset/step and constant-action rollouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def check_reset_and_step_under_jit_and_vmap(spec, env, num_envs=4):
    """Resets and steps `num_envs` copies under jit(vmap(.)); checks shapes, dtypes, finiteness."""
    rngs = jax.random.split(jax.random.PRNGKey(0), num_envs)
    state = jax.jit(jax.vmap(env.reset))(rngs)
    actions = jax.random.uniform(jax.random.PRNGKey(1), (num_envs, spec.action_size), minval=-1, maxval=1)
    next_state = jax.jit(jax.vmap(env.step))(state, actions)
    for s in (state, next_state):
        assert s.obs.shape == (num_envs, spec.observation_size) and s.obs.dtype == jnp.float32
        assert s.reward.shape == (num_envs,) and s.reward.dtype == jnp.float32
        assert s.done.shape == (num_envs,) and s.done.dtype == jnp.float32
        assert isinstance(s.info, dict)
        assert np.all(np.isfinite(np.asarray(s.obs))) and np.all(np.isfinite(np.asarray(s.reward)))
    return next_state


def rollout(env, spec, rng, num_steps, num_envs, action_fn):
    """Runs `num_envs` envs for `num_steps` steps, no resets; action_fn(key) -> f32[action_size].

    Returns (rewards f32[num_envs, num_steps], dones f32[num_envs, num_steps], final states).
    """

    def one_env(rng):
        reset_rng, rng = jax.random.split(rng)

        def body(state, key):
            state = env.step(state, action_fn(key))
            return state, (state.reward, state.done)

        final, (rewards, dones) = jax.lax.scan(body, env.reset(reset_rng), jax.random.split(rng, num_steps))
        return rewards, dones, final

    return jax.jit(jax.vmap(one_env))(jax.random.split(rng, num_envs))


def uniform_actions(action_size):
    """key -> f32[action_size] ~ U[-1, 1]."""
    return lambda key: jax.random.uniform(key, (action_size,), minval=-1.0, maxval=1.0)


@pytest.fixture
def first_done_index():
    """dones f32[num_steps] -> index of the first 1.0, or -1 when there is none."""

    def index(dones):
        dones = np.asarray(dones)
        return int(np.argmax(dones > 0)) if dones.max() > 0 else -1

    return index
