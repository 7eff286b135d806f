"""PQL's losses, built by `make_losses` over its networks: masked means over the config's own rows of
an `UpdateBatch` of n-step transitions (see agents/core.py).

Follows Improbable-AI/pql (pql/algo/pql_v_learner.py, pql_p_learner.py).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from rlscale.agents.core import UpdateBatch, twin_td_loss
from rlscale.agents.networks import TwinScalarCritic
from rlscale.agents.pql.networks import DeterministicActor

PQL_TD_WEIGHT = 1.0
"""PQL's critic loss is mse(Q1, y) + mse(Q2, y) (weight 1 per critic, not 1/2): the scale matters
under its gradient-norm clip."""


class PQLLosses(NamedTuple):
    """PQL's two losses, each closing over the networks (signatures below)."""

    critic: Callable[..., jax.Array]
    """(critic_params, target_critic_params, actor_params, batch, rng) -> f32."""
    actor: Callable[..., jax.Array]
    """(actor_params, critic_params, batch) -> f32."""


def smoothed_target_action(action: jax.Array, rng: jax.Array, noise_std: float, noise_clip: float) -> jax.Array:
    """Target-policy smoothing: action f32[..., act] + clip(N(0, noise_std^2), +-noise_clip),
    clipped to [-1, 1] (PQL's get_tgt_policy_actions)."""
    noise = jnp.clip(noise_std * jax.random.normal(rng, action.shape, action.dtype), -noise_clip, noise_clip)
    return jnp.clip(action + noise, -1.0, 1.0)


def make_losses(
    actor: DeterministicActor, critic: TwinScalarCritic, target_noise_std: float, target_noise_clip: float
) -> PQLLosses:
    """PQL's losses over `actor` (deterministic tanh) and `critic` (twin, f32[..., 2]), the target
    action smoothed with noise of std `target_noise_std` clipped to +-`target_noise_clip`."""

    def critic_loss(critic_params, target_critic_params, actor_params, batch: UpdateBatch, rng: jax.Array) -> jax.Array:
        """Clipped double-Q n-step TD loss: sum over both critics of the masked mean squared error.

        target = R_n + discount_n * (1 - termination) * min_i Q_target_i(s_n, a'), a' the (online)
        deterministic actor's action at s_n with target-policy smoothing; R_n, s_n and discount_n =
        gamma^k from the n-step batch (k < n where an episode end cut the chain; PQL itself always
        uses gamma^n).
        """
        data = batch.transitions
        next_action = smoothed_target_action(
            actor.apply(actor_params, data.next_obs), rng, target_noise_std, target_noise_clip
        )
        next_q = jnp.min(critic.apply(target_critic_params, data.next_obs, next_action), axis=-1)
        target = data.reward + data.discount * (1.0 - data.termination) * next_q
        return twin_td_loss(critic.apply(critic_params, data.obs, data.action), target, batch, PQL_TD_WEIGHT)

    def actor_loss(actor_params, critic_params, batch: UpdateBatch) -> jax.Array:
        """Deterministic policy gradient loss: -min_i Q_i(s, pi(s)), masked mean."""
        obs = batch.transitions.obs
        q = jnp.min(critic.apply(critic_params, obs, actor.apply(actor_params, obs)), axis=-1)
        return batch.mean(-q)

    return PQLLosses(critic_loss, actor_loss)
