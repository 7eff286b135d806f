"""How UTD and batch size vary inside one compiled group.

Env-clock lockstep: every iteration takes one step in each of a config's `num_envs` envs, for all K
configs together. Config k earns utd_k * num_envs update credits per iteration (once learning has
started) and spends them one per gradient update, so fractional UTDs such as 0.25 are exact on
average. An iteration has `GroupSpec.update_slots` = ceil(max_k utd_k * num_envs) update slots
(`slots_per_iteration`); slot j runs, for all configs at once (config_axis "vmap"), only if at
least one config has more than j credits to spend, on batches padded to the group's largest batch
size and masked; under "map" each config runs only its own updates at its own batch size
(engine/loop.py).
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp


def slots_per_iteration(utds: Sequence[float], num_envs: int) -> int:
    """Update slots per iteration needed by the largest UTD of a group (the planner's
    `GroupSpec.update_slots`)."""
    return max(1, math.ceil(max(utds) * num_envs - 1e-9))


def accrue_updates(credit: jax.Array, utd: jax.Array, num_envs: int) -> tuple[jax.Array, jax.Array]:
    """Add one iteration's credit (scalar f32) and return (remaining credit, i32 updates to run)."""
    credit = credit + utd * num_envs
    num_updates = jnp.floor(credit)
    return credit - num_updates, num_updates.astype(jnp.int32)


def batch_mask(batch_size: jax.Array, max_batch_size: int) -> jax.Array:
    """f32[max_batch_size]: 1 for the first `batch_size` rows of a padded batch, else 0."""
    return (jnp.arange(max_batch_size) < batch_size).astype(jnp.float32)


def planned_wasted_fraction(
    utds: Sequence[float], batch_sizes: Sequence[int], num_envs: int
) -> float:
    """Fraction of computed gradient rows that padding and masking waste, before running.

    Useful rows per iteration are sum_k utd_k * num_envs * B_k. Computed rows are K * max_B per
    executed slot, and at least max_k utd_k * num_envs slots execute per iteration on average (the
    measured fraction after a run, `measured_wasted_fraction`, is exact).
    """
    num_configs = len(utds)
    useful = sum(u * b for u, b in zip(utds, batch_sizes)) * num_envs
    computed = num_configs * max(batch_sizes) * max(utds) * num_envs
    return 1.0 - useful / computed


def measured_wasted_fraction(
    grad_steps: Sequence[int],
    batch_sizes: Sequence[int],
    computed_updates: Sequence[int],
    computed_batch_sizes: Sequence[int],
) -> float:
    """Wasted fraction of the gradient rows actually computed: 1 - sum_k g_k B_k / sum_k c_k b_k,
    with g_k the updates config k applied, c_k those computed for it, each of b_k rows (the padded
    max B under vmap, B_k under map)."""
    computed = sum(c * b for c, b in zip(computed_updates, computed_batch_sizes))
    if computed == 0:
        return 0.0
    useful = sum(g * b for g, b in zip(grad_steps, batch_sizes))
    return 1.0 - useful / computed
