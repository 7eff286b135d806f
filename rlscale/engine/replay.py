"""A fixed-capacity circular replay buffer for one config (the engine vmaps it over configs).

Inserts write `num_envs` rows at the write pointer with `dynamic_update_slice`; nothing is rolled or
concatenated, so an insert costs O(num_envs), not O(capacity).
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp

from rlscale.agents.core import NStepTransition, Transition


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


def sample_n_step(
    buffer: ReplayBuffer,
    rng: jax.Array,
    max_batch_size: int,
    n_step: int,
    rows_per_step: int,
    discount: jax.Array,
) -> NStepTransition:
    """`max_batch_size` n-step transitions whose first rows are drawn uniformly with replacement.

    Rows are inserted `rows_per_step` (= num_envs) at a time, so row i + rows_per_step holds the
    same env's next step. A start row is drawn among the rows that have n - 1 successors written
    after it (counting from the oldest row, so wrap-around and the write pointer are respected).
    The chain of a start row stops early after a termination, or where the next row's obs is not
    the previous row's next_obs (the env was reset after a time-limit truncation in between). Row
    i depends only on (rng, i), as in `sample`.

    Args:
      discount: f32 scalar gamma.
    """
    span = (n_step - 1) * rows_per_step
    offsets = jax.random.randint(rng, (max_batch_size,), 0, jnp.maximum(buffer.size - span, 1))
    oldest = (buffer.pointer - buffer.size) % buffer.capacity
    steps = jnp.arange(n_step)
    step_offsets = offsets[:, None] + steps[None, :] * rows_per_step
    chain = jax.tree_util.tree_map(
        lambda column: column[(oldest + step_offsets) % buffer.capacity], buffer.data
    )
    continues = (
        jnp.all(chain.next_obs[:, :-1] == chain.obs[:, 1:], axis=-1)
        & (chain.termination[:, :-1] == 0)
        & (step_offsets[:, 1:] < buffer.size)
    )
    included = jnp.concatenate(
        [jnp.ones((max_batch_size, 1), jnp.float32), jnp.cumprod(continues.astype(jnp.float32), axis=1)],
        axis=1,
    )
    num_steps = jnp.sum(included, axis=1)
    last = (num_steps - 1).astype(jnp.int32)
    discounts = discount ** steps.astype(jnp.float32)
    return NStepTransition(
        obs=chain.obs[:, 0],
        action=chain.action[:, 0],
        reward=jnp.sum(included * discounts[None, :] * chain.reward, axis=1),
        next_obs=jnp.take_along_axis(chain.next_obs, last[:, None, None], axis=1)[:, 0],
        termination=jnp.take_along_axis(chain.termination, last[:, None], axis=1)[:, 0],
        discount=discount**num_steps,
    )
