"""Data types shared by the engine and the agents."""

from __future__ import annotations

import flax.struct
import jax


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
