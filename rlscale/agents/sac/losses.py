"""SAC's losses, built by `make_losses` over its networks (Brax's training/agents/sac/losses.py
`make_losses`): masked means over the config's own rows of an `UpdateBatch` (see agents/core.py)."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from rlscale.agents.core import UpdateBatch, make_temperature_loss, sample_tanh_gaussian, twin_td_loss
from rlscale.agents.networks import TwinScalarCritic
from rlscale.agents.sac.networks import Actor


class SACLosses(NamedTuple):
    """SAC's three losses, each closing over the networks (signatures below)."""

    critic: Callable[..., jax.Array]
    """(critic_params, target_critic_params, actor_params, log_alpha, batch, rng) -> f32."""
    actor: Callable[..., tuple[jax.Array, jax.Array]]
    """(actor_params, critic_params, log_alpha, batch, rng) -> (f32, log pi f32[B_max])."""
    temperature: Callable[..., jax.Array]
    """(log_alpha, log pi f32[B_max], batch) -> f32 (core.make_temperature_loss)."""


def make_losses(actor: Actor, critic: TwinScalarCritic, target_entropy: float) -> SACLosses:
    """SAC's losses over `actor` (tanh-Gaussian) and `critic` (twin, f32[..., 2]), tuning the
    temperature toward `target_entropy`."""

    def critic_loss(critic_params, target_critic_params, actor_params, log_alpha: jax.Array, batch: UpdateBatch,
                    rng: jax.Array) -> jax.Array:
        """Twin-critic TD loss: 0.5 * sum over both critics of the masked mean squared TD error.

        target = r + discount * (1 - termination) * (min_i Q_target_i(s', a') - alpha * log pi(a'|s')),
        with a' ~ pi(.|s').
        """
        data = batch.transitions
        next_mean, next_log_std = actor.apply(actor_params, data.next_obs)
        next_action, next_log_prob = sample_tanh_gaussian(next_mean, next_log_std, rng)
        next_q = jnp.min(critic.apply(target_critic_params, data.next_obs, next_action), axis=-1)
        next_value = next_q - jnp.exp(log_alpha) * next_log_prob
        target = data.reward + batch.discount * (1.0 - data.termination) * next_value
        return twin_td_loss(critic.apply(critic_params, data.obs, data.action), target, batch)

    def actor_loss(actor_params, critic_params, log_alpha: jax.Array, batch: UpdateBatch,
                   rng: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Policy loss alpha * log pi(a|s) - min_i Q_i(s, a), a ~ pi(.|s); also returns f32[B_max] log pi."""
        obs = batch.transitions.obs
        mean, log_std = actor.apply(actor_params, obs)
        action, log_prob = sample_tanh_gaussian(mean, log_std, rng)
        q = jnp.min(critic.apply(critic_params, obs, action), axis=-1)
        return batch.mean(jax.lax.stop_gradient(jnp.exp(log_alpha)) * log_prob - q), log_prob

    return SACLosses(critic_loss, actor_loss, make_temperature_loss(target_entropy))
