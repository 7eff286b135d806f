"""Data types shared by the engine and the agents."""

from __future__ import annotations

from typing import Sequence

import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class Transition:
    """One environment transition, or a batch of them with leading axes.

    obs f32[..., obs], action f32[..., act], reward f32[...], next_obs f32[..., obs] (the true next
    observation, also on a time-limit truncation), termination f32[...] (1.0 only when the episode
    truly ended, so the target does not bootstrap; 0.0 on truncation).
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    termination: jax.Array


@flax.struct.dataclass
class HyperParams:
    """Per-config values that do not change array shapes; each field is f32[K] or i32[K] in a group.

    Inside the vmapped engine each field is a scalar for one config.
    """

    learning_rate: jax.Array
    """Adam step size for actor, critic and temperature."""
    batch_size: jax.Array
    """Rows per gradient update (int); at most the group's padded batch size."""
    utd: jax.Array
    """Gradient updates per environment transition collected (may be fractional)."""
    seed: jax.Array
    """RNG seed of the config (int)."""
    discount: jax.Array
    """Discount factor gamma."""
    tau: jax.Array
    """Polyak averaging rate of the target critic."""

    @classmethod
    def stack(
        cls,
        learning_rate: Sequence[float],
        batch_size: Sequence[int],
        utd: Sequence[float],
        seed: Sequence[int],
        discount: float = 0.99,
        tau: float = 0.005,
    ) -> "HyperParams":
        """Hyperparameters of K configs from equal-length sequences: each field of shape [K]."""
        num_configs = len(learning_rate)
        return cls(
            learning_rate=jnp.asarray(learning_rate, jnp.float32),
            batch_size=jnp.asarray(batch_size, jnp.int32),
            utd=jnp.asarray(utd, jnp.float32),
            seed=jnp.asarray(seed, jnp.int32),
            discount=jnp.full((num_configs,), discount, jnp.float32),
            tau=jnp.full((num_configs,), tau, jnp.float32),
        )
