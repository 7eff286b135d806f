"""The adapter of a raw Brax env to the registry's Env contract (for the 'brax' suite and for
'brax-class:' references)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


class BraxEnv:
    """Adapts a raw Brax env to the registry contract.

    Actions f32[action_size] in [-1, 1] are mapped onto the actuators' ctrl_range (passed
    unchanged by an env without a `sys`, i.e. not a PipelineEnv); reward and done are returned as
    f32 scalars (some Brax envs return a Python float done).
    """

    def __init__(self, env: Any):
        self.env = env
        self.action_size = int(env.action_size)
        if hasattr(env, "sys"):
            low, high = jnp.asarray(env.sys.actuator.ctrl_range, jnp.float32).T
        else:
            low, high = -jnp.ones(self.action_size), jnp.ones(self.action_size)
        self._ctrl_center = (high + low) / 2.0
        self._ctrl_half_range = (high - low) / 2.0

    def reset(self, rng: jax.Array) -> Any:
        """PRNG key -> brax State (obs f32[observation_size])."""
        return self._cast(self.env.reset(rng))

    def step(self, state: Any, action: jax.Array) -> Any:
        """brax State, f32[action_size] in [-1, 1] -> next brax State."""
        ctrl = self._ctrl_center + self._ctrl_half_range * jnp.clip(action, -1.0, 1.0)
        return self._cast(self.env.step(state, ctrl))

    @staticmethod
    def _cast(state: Any) -> Any:
        return state.replace(
            obs=jnp.asarray(state.obs, jnp.float32),
            reward=jnp.asarray(state.reward, jnp.float32),
            done=jnp.asarray(state.done, jnp.float32),
        )
