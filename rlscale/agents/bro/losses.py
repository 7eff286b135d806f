"""BRO losses over a padded batch (masked means over the config's own rows, see agents/core.py).

Follows naumix/BiggerRegularizedOptimistic (jaxrl/bro/critic.py, actor.py, temperature.py).
Critic outputs are f32[..., 2, Q]: two critics, Q quantiles each (Q = 1 for a scalar critic). A
bound of the twin values is mean + beta * |Q1 - Q2| / 2 per quantile (beta = -pessimism for the
target and the conservative actor, +optimism for the optimistic actor); actors maximise its mean
over quantiles.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from rlscale.agents.core import Transition, masked_mean, sample_tanh_gaussian, squash_to_range

HUBER_KAPPA = 1.0
"""Threshold of the quantile Huber loss (BRO: kappa 1)."""
SCALAR_TD_WEIGHT = 0.5
"""A scalar critic's loss per row: 0.5 * sum over both critics of the squared TD error."""


def twin_bound(q: jax.Array, beta) -> jax.Array:
    """f32[..., 2, Q] twin values -> f32[..., Q]: mean + beta * |Q1 - Q2| / 2."""
    return jnp.mean(q, axis=-2) + beta * 0.5 * jnp.abs(q[..., 0, :] - q[..., 1, :])


def quantile_midpoints(num_quantiles: int) -> jax.Array:
    """f32[Q]: the quantile levels (i + 0.5) / Q each critic output estimates."""
    return (jnp.arange(num_quantiles, dtype=jnp.float32) + 0.5) / num_quantiles


def td_loss(q: jax.Array, target: jax.Array, mask: jax.Array, batch_size: jax.Array, quantile: bool) -> jax.Array:
    """Loss of both critics' q f32[B, 2, Q] against target f32[B, Q] (held fixed), masked mean over rows.

    Scalar critic (Q = 1): 0.5 * sum over critics of (q - target)^2. Quantile critic: BRO's
    quantile Huber loss, for each critic the sum over its quantiles i of the mean over target
    quantiles j of |tau_i - 1{u < 0}| * huber(u) / kappa, u = target_j - q_i, summed over critics.
    """
    target = jax.lax.stop_gradient(target)
    if not quantile:
        per_row = SCALAR_TD_WEIGHT * jnp.sum((q[..., 0] - target[:, None, 0]) ** 2, axis=-1)
        return masked_mean(per_row, mask, batch_size)
    errors = target[:, None, None, :] - q[..., :, None]  # [B, 2, Q_i, Q_j]
    absolute = jnp.abs(errors)
    huber = jnp.where(absolute <= HUBER_KAPPA, 0.5 * errors**2, HUBER_KAPPA * (absolute - 0.5 * HUBER_KAPPA))
    taus = quantile_midpoints(q.shape[-1])[:, None]
    weight = jnp.abs(taus - jax.lax.stop_gradient((errors < 0).astype(jnp.float32)))
    per_row = jnp.sum(jnp.mean(weight * huber / HUBER_KAPPA, axis=-1), axis=(-2, -1))
    return masked_mean(per_row, mask, batch_size)


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
    quantile: bool,
    rng: jax.Array,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """TD loss of the twin critic (see td_loss) against, per quantile,

    target = r + discount * (1 - termination) * (bound_{-pessimism} Q_target(s', a') - alpha log pi(a'|s')),
    a' ~ conservative pi(.|s').
    """
    next_mean, next_log_std = actor_apply(actor_params, batch.next_obs)
    next_action, next_log_prob = sample_tanh_gaussian(next_mean, next_log_std, rng)
    next_q = twin_bound(critic_apply(target_critic_params, batch.next_obs, next_action), -pessimism)
    next_value = next_q - jnp.exp(log_alpha) * next_log_prob[:, None]
    target = batch.reward[:, None] + (discount * (1.0 - batch.termination))[:, None] * next_value
    q = critic_apply(critic_params, batch.obs, batch.action)
    return td_loss(q, target, mask, batch_size, quantile)


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
    """alpha log pi(a|s) - mean over quantiles of bound_{-pessimism} Q(s, a), a ~ pi(.|s); also
    returns f32[B_max] log pi."""
    mean, log_std = actor_apply(actor_params, batch.obs)
    action, log_prob = sample_tanh_gaussian(mean, log_std, rng)
    q = jnp.mean(twin_bound(critic_apply(critic_params, batch.obs, action), -pessimism), axis=-1)
    per_row = jax.lax.stop_gradient(jnp.exp(log_alpha)) * log_prob - q
    return masked_mean(per_row, mask, batch_size), log_prob


def optimistic_policy(
    conservative_mean: jax.Array, conservative_log_std: jax.Array, shift: jax.Array, std_multiplier: float
) -> tuple[jax.Array, jax.Array]:
    """Pre-tanh Gaussian of the optimistic actor: (mean + shift, log_std + log std_multiplier)."""
    return conservative_mean + shift, conservative_log_std + jnp.log(std_multiplier)


def shift_kl(shift: jax.Array, conservative_log_std: jax.Array) -> jax.Array:
    """f32[...]: KL(N(mean + shift, std) || N(mean, std)) = sum over action dims of shift^2 / (2 std^2).

    As BRO's, the KL compares the shifted mean at the conservative std (the std_multiplier
    narrowing is deliberate and not counted).
    """
    return jnp.sum(0.5 * (shift / jnp.exp(conservative_log_std)) ** 2, axis=-1)


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
    """-mean over quantiles of bound_{+optimism} Q(s, a) + kl_weight * KL, a ~ optimistic pi(.|s);
    also returns the KL f32[B_max] (summed over action dims). The conservative actor, optimism and
    kl_weight are held fixed."""
    mean, log_std = jax.lax.stop_gradient(actor_apply(actor_params, batch.obs))
    shift = optimistic_apply(optimistic_params, batch.obs, mean)
    optimistic_mean, optimistic_log_std = optimistic_policy(mean, log_std, shift, std_multiplier)
    action, _ = sample_tanh_gaussian(optimistic_mean, optimistic_log_std, rng)
    q = jnp.mean(twin_bound(critic_apply(critic_params, batch.obs, action), optimism), axis=-1)
    kl = shift_kl(shift, log_std)
    return masked_mean(-q + kl_weight * kl, mask, batch_size), kl


def bounded_dual(raw: jax.Array, log_min: float, log_max: float) -> jax.Array:
    """exp of raw squashed into [log_min, log_max]: BRO's `Adjustment` parametrisation."""
    return jnp.exp(squash_to_range(raw, log_min, log_max))


def raw_dual(value: float, log_min: float, log_max: float) -> float:
    """The raw parameter whose bounded_dual is `value` (exp(log_min) < value < exp(log_max))."""
    return math.atanh(2.0 * (math.log(value) - log_min) / (log_max - log_min) - 1.0)


def dual_loss(
    raw_duals: tuple[jax.Array, jax.Array], kl_per_action: jax.Array, target_kl: float, log_min: float, log_max: float
) -> jax.Array:
    """Dual steps on (optimism, KL weight), each bounded_dual of its raw parameter: the optimism
    shrinks and the KL weight grows while the mean KL per action dimension (a scalar, held fixed)
    exceeds target_kl."""
    optimism, kl_weight = (bounded_dual(raw, log_min, log_max) for raw in raw_duals)
    gap = jax.lax.stop_gradient(kl_per_action - target_kl)
    return optimism * gap - kl_weight * gap
