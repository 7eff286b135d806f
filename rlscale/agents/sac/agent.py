"""Soft Actor-Critic as pure functions over a `flax.struct.dataclass` state.

One `SACAgent` holds only static, hashable structure (sizes and network options). Its functions act
on the state of ONE config; the engine vmaps them over the config axis.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.sac import losses
from rlscale.agents.sac.networks import (
    Actor,
    NetworkConfig,
    TwinCritic,
    count_parameters,
    sample_tanh_gaussian,
)
from rlscale.engine.types import HyperParams, Transition


@flax.struct.dataclass
class SACState:
    actor_params: dict
    critic_params: dict
    target_critic_params: dict
    log_alpha: jax.Array
    actor_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    alpha_opt_state: optax.OptState


def _adam(learning_rate: jax.Array) -> optax.GradientTransformation:
    # inject_hyperparams keeps the step size in the optimizer state: one rate per vmapped config.
    return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)


@dataclasses.dataclass(frozen=True)
class SACAgent:
    """Static description of a SAC agent (its fields are part of the compile key)."""

    observation_size: int
    action_size: int
    network: NetworkConfig = NetworkConfig()
    initial_temperature: float = 1.0
    """alpha at initialisation."""

    @property
    def actor(self) -> Actor:
        return Actor(self.network, self.action_size)

    @property
    def critic(self) -> TwinCritic:
        return TwinCritic(self.network)

    @property
    def target_entropy(self) -> float:
        return -float(self.action_size)

    def init(self, rng: jax.Array, hparams: HyperParams) -> SACState:
        """Fresh networks, target = online critic, Adam states carrying hparams.learning_rate."""
        actor_rng, critic_rng = jax.random.split(rng)
        obs = jnp.zeros((1, self.observation_size))
        action = jnp.zeros((1, self.action_size))
        actor_params = self.actor.init(actor_rng, obs)
        critic_params = self.critic.init(critic_rng, obs, action)
        log_alpha = jnp.log(jnp.asarray(self.initial_temperature, jnp.float32))
        optimizer = _adam(hparams.learning_rate)
        return SACState(
            actor_params=actor_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            log_alpha=log_alpha,
            actor_opt_state=optimizer.init(actor_params),
            critic_opt_state=optimizer.init(critic_params),
            alpha_opt_state=optimizer.init(log_alpha),
        )

    def parameter_count(self) -> int:
        """Trainable parameters of actor and critic (targets excluded)."""
        state = jax.eval_shape(
            self.init, jax.random.PRNGKey(0), _scalar_hparams()
        )
        return count_parameters(state.actor_params) + count_parameters(state.critic_params)

    def act(self, state: SACState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[..., act] in (-1, 1) for observations f32[..., obs]."""
        mean, log_std = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return jnp.tanh(mean)
        action, _ = sample_tanh_gaussian(mean, log_std, rng)
        return action

    def update(
        self,
        state: SACState,
        batch: Transition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
    ) -> tuple[SACState, dict]:
        """One gradient step of critic, actor and temperature on a padded batch.

        All three losses are computed from the pre-update state (as in Brax's SAC); then the target
        critic moves by Polyak averaging with rate hparams.tau.

        Args:
          batch: Transition with leading axis B_max.
          mask: f32[B_max], 1 for the first hparams.batch_size rows.
        Returns:
          the new state and scalar metrics {critic_loss, actor_loss, temperature_loss, temperature}.
        """
        critic_rng, actor_rng = jax.random.split(rng)
        batch_size = hparams.batch_size.astype(jnp.float32)
        optimizer = _adam(hparams.learning_rate)

        critic_value, critic_grads = jax.value_and_grad(losses.critic_loss)(
            state.critic_params,
            state.target_critic_params,
            state.actor_params,
            state.log_alpha,
            batch,
            mask,
            batch_size,
            hparams.discount,
            critic_rng,
            self.actor.apply,
            self.critic.apply,
        )
        (actor_value, log_prob), actor_grads = jax.value_and_grad(
            losses.actor_loss, has_aux=True
        )(
            state.actor_params,
            state.critic_params,
            state.log_alpha,
            batch,
            mask,
            batch_size,
            actor_rng,
            self.actor.apply,
            self.critic.apply,
        )
        alpha_value, alpha_grad = jax.value_and_grad(losses.temperature_loss)(
            state.log_alpha, log_prob, self.target_entropy, mask, batch_size
        )

        critic_updates, critic_opt_state = optimizer.update(
            critic_grads, state.critic_opt_state, state.critic_params
        )
        critic_params = optax.apply_updates(state.critic_params, critic_updates)
        actor_updates, actor_opt_state = optimizer.update(
            actor_grads, state.actor_opt_state, state.actor_params
        )
        alpha_updates, alpha_opt_state = optimizer.update(
            alpha_grad, state.alpha_opt_state, state.log_alpha
        )
        target_critic_params = optax.incremental_update(
            critic_params, state.target_critic_params, hparams.tau
        )
        new_state = SACState(
            actor_params=optax.apply_updates(state.actor_params, actor_updates),
            critic_params=critic_params,
            target_critic_params=target_critic_params,
            log_alpha=optax.apply_updates(state.log_alpha, alpha_updates),
            actor_opt_state=actor_opt_state,
            critic_opt_state=critic_opt_state,
            alpha_opt_state=alpha_opt_state,
        )
        metrics = {
            "critic_loss": critic_value,
            "actor_loss": actor_value,
            "temperature_loss": alpha_value,
            "temperature": jnp.exp(state.log_alpha),
        }
        return new_state, metrics


def _scalar_hparams() -> HyperParams:
    return HyperParams(
        learning_rate=jnp.float32(3e-4),
        batch_size=jnp.int32(256),
        utd=jnp.float32(1.0),
        seed=jnp.int32(0),
        discount=jnp.float32(0.99),
        tau=jnp.float32(0.005),
    )
