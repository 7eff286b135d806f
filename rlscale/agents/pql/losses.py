"""PQL losses over a padded batch of n-step transitions (masked means, see agents/core.py).

Follows Improbable-AI/pql (pql/algo/pql_v_learner.py, pql_p_learner.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlscale.agents.core import NStepTransition, masked_mean, twin_td_loss

PQL_TD_WEIGHT = 1.0
"""PQL's critic loss is mse(Q1, y) + mse(Q2, y) (weight 1 per critic, not 1/2): the scale matters
under its gradient-norm clip."""


def smoothed_target_action(action: jax.Array, rng: jax.Array, noise_std: float, noise_clip: float) -> jax.Array:
    """Target-policy smoothing: action f32[..., act] + clip(N(0, noise_std^2), +-noise_clip),
    clipped to [-1, 1] (PQL's get_tgt_policy_actions)."""
    noise = jnp.clip(noise_std * jax.random.normal(rng, action.shape, action.dtype), -noise_clip, noise_clip)
    return jnp.clip(action + noise, -1.0, 1.0)


def critic_loss(
    critic_params,
    target_critic_params,
    actor_params,
    batch: NStepTransition,
    mask: jax.Array,
    batch_size: jax.Array,
    rng: jax.Array,
    noise_std: float,
    noise_clip: float,
    actor_apply,
    critic_apply,
) -> jax.Array:
    """Clipped double-Q n-step TD loss: sum over both critics of the masked mean squared error.

    target = R_n + discount_n * (1 - termination) * min_i Q_target_i(s_n, a'), a' the (online)
    deterministic actor's action at s_n with target-policy smoothing; R_n, s_n and discount_n =
    gamma^k from the n-step batch (k < n where an episode end cut the chain; PQL itself always
    uses gamma^n).
    """
    next_action = smoothed_target_action(actor_apply(actor_params, batch.next_obs), rng, noise_std, noise_clip)
    next_q = jnp.min(critic_apply(target_critic_params, batch.next_obs, next_action), axis=-1)
    target = batch.reward + batch.discount * (1.0 - batch.termination) * next_q
    return twin_td_loss(critic_params, batch, target, mask, batch_size, critic_apply, PQL_TD_WEIGHT)


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
