"""Env wrappers that keep the registry's Env contract (pure, unbatched, jittable)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


class ActionRepeat:
    """Applies each agent action `action_repeat` times to the wrapped env.

    The reward is the sum of the per-step rewards up to and including a termination; once a
    sub-step terminates, later sub-steps are discarded (the returned state is the terminal one),
    so `done` stays a true-termination flag and nothing is stepped past the end of an episode.
    """

    def __init__(self, env: Any, action_repeat: int):
        _require_positive_int(action_repeat)
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


def check_options(name: str, options: dict[str, Any], allowed: dict[str, str]) -> None:
    """Raises ValueError naming the env, the unknown option and the allowed ones (with meanings)."""
    for key in options:
        if key not in allowed:
            listing = "; ".join(f"{option}: {meaning}" for option, meaning in allowed.items())
            raise ValueError(f"unknown option {key!r} for env {name!r}; allowed options: {listing}")


def _require_positive_int(action_repeat: Any) -> None:
    if not isinstance(action_repeat, int) or isinstance(action_repeat, bool) or action_repeat < 1:
        raise ValueError(f"action_repeat must be an int >= 1; got {action_repeat!r}")


def check_action_repeat(action_repeat: Any, horizon: int) -> int:
    """Validates `action_repeat` against a physics-step horizon; returns the agent-step horizon."""
    _require_positive_int(action_repeat)
    if horizon % action_repeat:
        raise ValueError(
            f"action_repeat must divide the episode's {horizon} physics steps; got {action_repeat}"
        )
    return horizon // action_repeat
