"""BRO's losses, built by `make_losses` over its networks and options: masked means over the config's
own rows of an `UpdateBatch` (see agents/core.py).

Follows naumix/BiggerRegularizedOptimistic (jaxrl/bro/critic.py, actor.py, temperature.py).
Critic outputs are f32[..., 2, Q]: two critics, Q quantiles each (Q = 1 for a scalar critic). A
bound of the twin values is mean + beta * |Q1 - Q2| / 2 per quantile (beta = -pessimism for the
target and the conservative actor, +optimism for the optimistic actor); actors maximise its mean
over quantiles.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from rlscale.agents.bro.networks import ConservativeActor, OptimisticActor, TwinQuantileCritic
from rlscale.agents.bro.options import BROOptions
from rlscale.agents.core import UpdateBatch, make_temperature_loss, sample_tanh_gaussian, squash_to_range

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


def td_loss(q: jax.Array, target: jax.Array, batch: UpdateBatch, quantile: bool) -> jax.Array:
    """Loss of both critics' q f32[B, 2, Q] against target f32[B, Q] (held fixed), masked mean over
    the batch's rows.

    Scalar critic (Q = 1): 0.5 * sum over critics of (q - target)^2. Quantile critic: BRO's
    quantile Huber loss, for each critic the sum over its quantiles i of the mean over target
    quantiles j of |tau_i - 1{u < 0}| * huber(u) / kappa, u = target_j - q_i, summed over critics.
    """
    target = jax.lax.stop_gradient(target)
    if not quantile:
        per_row = SCALAR_TD_WEIGHT * jnp.sum((q[..., 0] - target[:, None, 0]) ** 2, axis=-1)
        return batch.mean(per_row)
    errors = target[:, None, None, :] - q[..., :, None]  # [B, 2, Q_i, Q_j]
    absolute = jnp.abs(errors)
    huber = jnp.where(absolute <= HUBER_KAPPA, 0.5 * errors**2, HUBER_KAPPA * (absolute - 0.5 * HUBER_KAPPA))
    taus = quantile_midpoints(q.shape[-1])[:, None]
    weight = jnp.abs(taus - jax.lax.stop_gradient((errors < 0).astype(jnp.float32)))
    per_row = jnp.sum(jnp.mean(weight * huber / HUBER_KAPPA, axis=-1), axis=(-2, -1))
    return batch.mean(per_row)


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


def bounded_dual(raw: jax.Array, log_min: float, log_max: float) -> jax.Array:
    """exp of raw squashed into [log_min, log_max]: BRO's `Adjustment` parametrisation."""
    return jnp.exp(squash_to_range(raw, log_min, log_max))


def raw_dual(value: float, log_min: float, log_max: float) -> float:
    """The raw parameter whose bounded_dual is `value` (exp(log_min) < value < exp(log_max))."""
    return math.atanh(2.0 * (math.log(value) - log_min) / (log_max - log_min) - 1.0)


class BROLosses(NamedTuple):
    """BRO's losses, each closing over the networks and options (signatures below)."""

    critic: Callable[..., jax.Array]
    """(critic_params, target_critic_params, actor_params, log_alpha, batch, rng) -> f32."""
    conservative_actor: Callable[..., tuple[jax.Array, jax.Array]]
    """(actor_params, critic_params, log_alpha, batch, rng) -> (f32, log pi f32[B_max])."""
    optimistic_actor: Callable[..., tuple[jax.Array, jax.Array]]
    """(optimistic_params, actor_params, critic_params, (optimism, kl_weight), batch, rng) -> (f32,
    KL f32[B_max])."""
    temperature: Callable[..., jax.Array]
    """(log_alpha, log pi f32[B_max], batch) -> f32 (core.make_temperature_loss)."""
    duals: Callable[..., jax.Array]
    """(raw_duals, KL per action dimension f32) -> f32."""


def make_losses(
    actor: ConservativeActor,
    optimistic_actor: OptimisticActor,
    critic: TwinQuantileCritic,
    options: BROOptions,
    target_entropy: float,
) -> BROLosses:
    """BRO's losses over its networks, with `options`' pessimism, quantiles, std multiplier and dual
    settings, tuning the temperature toward `target_entropy`."""
    quantile = options.critic_quantiles > 0

    def critic_loss(critic_params, target_critic_params, actor_params, log_alpha: jax.Array, batch: UpdateBatch,
                    rng: jax.Array) -> jax.Array:
        """TD loss of the twin critic (see td_loss) against, per quantile,

        target = r + discount * (1 - termination) * (bound_{-pessimism} Q_target(s', a') - alpha log pi(a'|s')),
        a' ~ conservative pi(.|s').
        """
        data = batch.transitions
        next_mean, next_log_std = actor.apply(actor_params, data.next_obs)
        next_action, next_log_prob = sample_tanh_gaussian(next_mean, next_log_std, rng)
        next_q = twin_bound(critic.apply(target_critic_params, data.next_obs, next_action), -options.pessimism)
        next_value = next_q - jnp.exp(log_alpha) * next_log_prob[:, None]
        target = data.reward[:, None] + (batch.discount * (1.0 - data.termination))[:, None] * next_value
        q = critic.apply(critic_params, data.obs, data.action)
        return td_loss(q, target, batch, quantile)

    def conservative_actor_loss(actor_params, critic_params, log_alpha: jax.Array, batch: UpdateBatch,
                                rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """alpha log pi(a|s) - mean over quantiles of bound_{-pessimism} Q(s, a), a ~ pi(.|s); also
        returns f32[B_max] log pi."""
        obs = batch.transitions.obs
        mean, log_std = actor.apply(actor_params, obs)
        action, log_prob = sample_tanh_gaussian(mean, log_std, rng)
        q = jnp.mean(twin_bound(critic.apply(critic_params, obs, action), -options.pessimism), axis=-1)
        return batch.mean(jax.lax.stop_gradient(jnp.exp(log_alpha)) * log_prob - q), log_prob

    def optimistic_actor_loss(optimistic_params, actor_params, critic_params, duals: tuple[jax.Array, jax.Array],
                              batch: UpdateBatch, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """-mean over quantiles of bound_{+optimism} Q(s, a) + kl_weight * KL, a ~ optimistic
        pi(.|s), duals = (optimism, kl_weight); also returns the KL f32[B_max] (summed over action
        dims). The conservative actor and the duals are held fixed."""
        optimism, kl_weight = duals
        obs = batch.transitions.obs
        mean, log_std = jax.lax.stop_gradient(actor.apply(actor_params, obs))
        shift = optimistic_actor.apply(optimistic_params, obs, mean)
        optimistic_mean, optimistic_log_std = optimistic_policy(mean, log_std, shift, options.std_multiplier)
        action, _ = sample_tanh_gaussian(optimistic_mean, optimistic_log_std, rng)
        q = jnp.mean(twin_bound(critic.apply(critic_params, obs, action), optimism), axis=-1)
        kl = shift_kl(shift, log_std)
        return batch.mean(-q + kl_weight * kl), kl

    def dual_loss(raw_duals: tuple[jax.Array, jax.Array], kl_per_action: jax.Array) -> jax.Array:
        """Dual steps on (optimism, KL weight), each bounded_dual of its raw parameter: the optimism
        shrinks and the KL weight grows while the mean KL per action dimension (a scalar, held fixed)
        exceeds target_kl."""
        optimism, kl_weight = (bounded_dual(raw, options.log_dual_min, options.log_dual_max) for raw in raw_duals)
        gap = jax.lax.stop_gradient(kl_per_action - options.target_kl)
        return optimism * gap - kl_weight * gap

    return BROLosses(
        critic_loss, conservative_actor_loss, optimistic_actor_loss, make_temperature_loss(target_entropy), dual_loss
    )
