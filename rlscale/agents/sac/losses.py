"""SAC losses over a padded batch: masked means over the config's own rows (see agents/core.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlscale.agents.core import Transition, masked_mean, sample_tanh_gaussian, twin_td_loss


def critic_loss(
    critic_params,
    target_critic_params,
    actor_params,
    log_alpha: jax.Array,
    batch: Transition,
    mask: jax.Array,
    batch_size: jax.Array,
    discount: jax.Array,
    rng: jax.Array,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """Twin-critic TD loss: 0.5 * sum over both critics of the masked mean squared TD error.

    target = r + discount * (1 - termination) * (min_i Q_target_i(s', a') - alpha * log pi(a'|s')),
    with a' ~ pi(.|s'). Batch fields have leading axis B_max; mask is f32[B_max].
    """
    next_mean, next_log_std = actor_apply(actor_params, batch.next_obs)
    next_action, next_log_prob = sample_tanh_gaussian(next_mean, next_log_std, rng)
    next_q = jnp.min(critic_apply(target_critic_params, batch.next_obs, next_action), axis=-1)
    next_value = next_q - jnp.exp(log_alpha) * next_log_prob
    target = batch.reward + discount * (1.0 - batch.termination) * next_value
    return twin_td_loss(critic_params, batch, target, mask, batch_size, critic_apply)


def actor_loss(
    actor_params,
    critic_params,
    log_alpha: jax.Array,
    batch: Transition,
    mask: jax.Array,
    batch_size: jax.Array,
    rng: jax.Array,
    actor_apply,
    critic_apply,
) -> tuple[jax.Array, jax.Array]:
    """Policy loss alpha * log pi(a|s) - min_i Q_i(s, a), a ~ pi(.|s); also returns f32[B_max] log pi."""
    mean, log_std = actor_apply(actor_params, batch.obs)
    action, log_prob = sample_tanh_gaussian(mean, log_std, rng)
    q = jnp.min(critic_apply(critic_params, batch.obs, action), axis=-1)
    per_row = jax.lax.stop_gradient(jnp.exp(log_alpha)) * log_prob - q
    return masked_mean(per_row, mask, batch_size), log_prob
