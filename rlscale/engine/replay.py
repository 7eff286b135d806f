"""A fixed-capacity circular replay buffer for one config (the engine vmaps it over configs).

Inserts write `num_envs` rows at the write pointer with `dynamic_update_slice`; nothing is rolled or
concatenated, so an insert costs O(num_envs), not O(capacity).
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp

from rlscale.engine.types import Transition


@flax.struct.dataclass
class ReplayBuffer:
    """data: Transition with leading axis capacity; pointer and size: i32 scalars."""

    data: Transition
    pointer: jax.Array
    size: jax.Array

    @property
    def capacity(self) -> int:
        return self.data.reward.shape[0]


def init_replay(capacity: int, observation_size: int, action_size: int) -> ReplayBuffer:
    """An empty buffer of `capacity` float32 transitions."""
    data = Transition(
        obs=jnp.zeros((capacity, observation_size), jnp.float32),
        action=jnp.zeros((capacity, action_size), jnp.float32),
        reward=jnp.zeros((capacity,), jnp.float32),
        next_obs=jnp.zeros((capacity, observation_size), jnp.float32),
        termination=jnp.zeros((capacity,), jnp.float32),
    )
    return ReplayBuffer(data=data, pointer=jnp.int32(0), size=jnp.int32(0))


def insert(buffer: ReplayBuffer, rows: Transition) -> ReplayBuffer:
    """Write n rows (leading axis n; capacity must be a multiple of n) at the pointer, wrapping."""
    num_rows = rows.reward.shape[0]
    if buffer.capacity % num_rows:
        raise ValueError(
            f"replay capacity {buffer.capacity} must be a multiple of the rows per insert {num_rows}"
        )
    data = jax.tree_util.tree_map(
        lambda column, new: jax.lax.dynamic_update_slice_in_dim(
            column, new.astype(column.dtype), buffer.pointer, axis=0
        ),
        buffer.data,
        rows,
    )
    return ReplayBuffer(
        data=data,
        pointer=(buffer.pointer + num_rows) % buffer.capacity,
        size=jnp.minimum(buffer.size + num_rows, buffer.capacity),
    )


def sample(buffer: ReplayBuffer, rng: jax.Array, max_batch_size: int) -> Transition:
    """`max_batch_size` rows drawn uniformly with replacement from the filled part of the buffer.

    Row i depends only on (rng, i) (threefry is partitionable), so the first B rows of a padded draw
    equal an unpadded draw of B rows: padding a config's batch does not change its samples.
    """
    indices = jax.random.randint(rng, (max_batch_size,), 0, jnp.maximum(buffer.size, 1))
    return jax.tree_util.tree_map(lambda column: column[indices], buffer.data)
