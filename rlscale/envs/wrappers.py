"""Env wrappers that keep the registry's Env contract (pure, unbatched, jittable)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from rlscale.envs.options import require_positive_int


class ActionRepeat:
    """Applies each agent action `action_repeat` times to the wrapped env.

    The reward is the sum of the per-step rewards up to and including a termination; once a
    sub-step terminates, later sub-steps are discarded (the returned state is the terminal one),
    so `done` stays a true-termination flag and nothing is stepped past the end of an episode.
    """

    def __init__(self, env: Any, action_repeat: int):
        require_positive_int(action_repeat)
        self.env = env
        self.action_repeat = action_repeat

    def reset(self, rng: jax.Array) -> Any:
        """Resets the wrapped env; same State as the wrapped env."""
        return self.env.reset(rng)

    def step(self, state: Any, action: jax.Array) -> Any:
        """State, f32[action_size] -> State after up to `action_repeat` wrapped steps."""

        def sub_step(_, carry):
            state, total_reward, done = carry
            next_state = self.env.step(state, action)
            kept = jax.tree.map(lambda old, new: jnp.where(done > 0, old, new), state, next_state)
            total_reward = total_reward + (1.0 - done) * next_state.reward
            done = jnp.maximum(done, next_state.done)
            return kept, total_reward, done

        zero = jnp.zeros((), jnp.float32)
        state, reward, done = jax.lax.fori_loop(0, self.action_repeat, sub_step, (state, zero, zero))
        return state.replace(reward=reward.astype(jnp.float32), done=done.astype(jnp.float32))


def with_action_repeat(env: Any, action_repeat: int) -> Any:
    """`env` itself for action_repeat 1, else wrapped in `ActionRepeat`."""
    return env if action_repeat == 1 else ActionRepeat(env, action_repeat)
