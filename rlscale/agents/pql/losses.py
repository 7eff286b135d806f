"""PQL losses over a padded batch of n-step transitions (rows with mask 0 contribute nothing)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlscale.agents.sac.losses import masked_mean, twin_td_loss
from rlscale.engine.replay import NStepTransition


def critic_loss(
    critic_params,
    target_critic_params,
    actor_params,
    batch: NStepTransition,
    mask: jax.Array,
    batch_size: jax.Array,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """Clipped double-Q n-step TD loss, 0.5 * sum over both critics of the masked mean squared error.

    target = R_n + discount_n * (1 - termination) * min_i Q_target_i(s_n, pi(s_n)), with R_n, s_n and
    discount_n = gamma^k from the n-step batch and pi the (online) deterministic actor.
    """
    next_action = actor_apply(actor_params, batch.next_obs)
    next_q = jnp.min(critic_apply(target_critic_params, batch.next_obs, next_action), axis=-1)
    target = batch.reward + batch.discount * (1.0 - batch.termination) * next_q
    return twin_td_loss(critic_params, batch, target, mask, batch_size, critic_apply)


def actor_loss(
    actor_params,
    critic_params,
    batch: NStepTransition,
    mask: jax.Array,
    batch_size: jax.Array,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """Deterministic policy gradient loss: -min_i Q_i(s, pi(s)), masked mean."""
    action = actor_apply(actor_params, batch.obs)
    q = jnp.min(critic_apply(critic_params, batch.obs, action), axis=-1)
    return masked_mean(-q, mask, batch_size)
