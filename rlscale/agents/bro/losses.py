"""BRO losses over a padded batch (rows with mask 0 contribute nothing; see sac/losses.py).

Q statistics of the twin critic: mean Q = (Q1 + Q2) / 2 and spread |Q1 - Q2| / 2. A pessimistic
value is mean - beta * spread (beta = 1 gives min(Q1, Q2)); an optimistic one is mean + beta * spread.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlscale.agents.sac.losses import masked_mean, twin_td_loss
from rlscale.agents.sac.networks import sample_tanh_gaussian
from rlscale.engine.types import Transition


def q_bound(q: jax.Array, beta: jax.Array) -> jax.Array:
    """f32[..., 2] twin values -> f32[...]: mean + beta * |Q1 - Q2| / 2 (beta < 0 is pessimistic)."""
    return jnp.mean(q, axis=-1) + beta * 0.5 * jnp.abs(q[..., 0] - q[..., 1])


def critic_loss(
    critic_params,
    target_critic_params,
    actor_params,
    log_alpha: jax.Array,
    batch: Transition,
    mask: jax.Array,
    batch_size: jax.Array,
    discount: jax.Array,
    pessimism: float,
    rng: jax.Array,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """Twin-critic TD loss, 0.5 * sum over both critics of the masked mean squared TD error.

    target = r + discount * (1 - termination) * (lower_bound Q_target(s', a') - alpha log pi(a'|s')),
    lower_bound = mean - pessimism * spread, a' ~ conservative pi(.|s').
    """
    next_mean, next_log_std = actor_apply(actor_params, batch.next_obs)
    next_action, next_log_prob = sample_tanh_gaussian(next_mean, next_log_std, rng)
    next_q = q_bound(critic_apply(target_critic_params, batch.next_obs, next_action), -pessimism)
    next_value = next_q - jnp.exp(log_alpha) * next_log_prob
    target = batch.reward + discount * (1.0 - batch.termination) * next_value
    return twin_td_loss(critic_params, batch, target, mask, batch_size, critic_apply)


def conservative_actor_loss(
    actor_params,
    critic_params,
    log_alpha: jax.Array,
    batch: Transition,
    mask: jax.Array,
    batch_size: jax.Array,
    pessimism: float,
    rng: jax.Array,
    actor_apply,
    critic_apply,
) -> tuple[jax.Array, jax.Array]:
    """alpha log pi(a|s) - lower_bound Q(s, a), a ~ pi(.|s); also returns f32[B_max] log pi."""
    mean, log_std = actor_apply(actor_params, batch.obs)
    action, log_prob = sample_tanh_gaussian(mean, log_std, rng)
    q = q_bound(critic_apply(critic_params, batch.obs, action), -pessimism)
    per_row = jax.lax.stop_gradient(jnp.exp(log_alpha)) * log_prob - q
    return masked_mean(per_row, mask, batch_size), log_prob


def optimistic_policy(
    conservative_mean: jax.Array, conservative_log_std: jax.Array, shift: jax.Array, std_multiplier: float
) -> tuple[jax.Array, jax.Array]:
    """Pre-tanh Gaussian of the optimistic actor: (mean + shift, log_std + log std_multiplier)."""
    return conservative_mean + shift, conservative_log_std + jnp.log(std_multiplier)


def shift_kl(shift: jax.Array, conservative_log_std: jax.Array) -> jax.Array:
    """f32[...]: KL(N(mean + shift, std) || N(mean, std)) summed over action dims, per action dim.

    Equal to sum(shift^2 / (2 std^2)) / act: how far the optimistic mean moved, in units of the
    conservative policy's standard deviation (the std_multiplier narrowing is deliberate and not
    counted).
    """
    per_dim = 0.5 * (shift / jnp.exp(conservative_log_std)) ** 2
    return jnp.mean(per_dim, axis=-1)


def optimistic_actor_loss(
    optimistic_params,
    actor_params,
    critic_params,
    optimism: jax.Array,
    kl_weight: jax.Array,
    batch: Transition,
    mask: jax.Array,
    batch_size: jax.Array,
    std_multiplier: float,
    rng: jax.Array,
    actor_apply,
    optimistic_apply,
    critic_apply,
) -> tuple[jax.Array, jax.Array]:
    """-upper_bound Q(s, a) + kl_weight * KL, a ~ optimistic pi(.|s); also returns f32[B_max] KL.

    upper_bound = mean + optimism * spread. The conservative actor, optimism and kl_weight are held
    fixed.
    """
    mean, log_std = jax.lax.stop_gradient(actor_apply(actor_params, batch.obs))
    shift = optimistic_apply(optimistic_params, batch.obs)
    optimistic_mean, optimistic_log_std = optimistic_policy(mean, log_std, shift, std_multiplier)
    action, _ = sample_tanh_gaussian(optimistic_mean, optimistic_log_std, rng)
    q = q_bound(critic_apply(critic_params, batch.obs, action), optimism)
    kl = shift_kl(shift, log_std)
    per_row = -q + kl_weight * kl
    return masked_mean(per_row, mask, batch_size), kl


def optimism_loss(log_optimism: jax.Array, kl: jax.Array, target_kl: float) -> jax.Array:
    """Dual step on the optimism: it shrinks while the mean KL (a scalar) exceeds target_kl."""
    return jnp.exp(log_optimism) * jax.lax.stop_gradient(kl - target_kl)


def kl_weight_loss(log_kl_weight: jax.Array, kl: jax.Array, target_kl: float) -> jax.Array:
    """Dual step on the KL weight: it grows while the mean KL (a scalar) exceeds target_kl."""
    return -jnp.exp(log_kl_weight) * jax.lax.stop_gradient(kl - target_kl)
