"""BRO (Bigger, Regularized, Optimistic; Nauman et al., 2024) as pure functions over a state.

SAC with four switchable components, each a static field of `BROAgent`:

- `bronet`: BroNet torsos (residual blocks with layer norm) for actors and critic;
- `weight_decay`: AdamW decoupled weight decay on every network;
- `reset_interval`: every `reset_interval` gradient steps of a config, all networks, optimizers and
  adjusted scalars are re-initialised. The counter lives in the agent state, so configs of a group
  reset independently, on their own gradient clocks;
- `optimistic_exploration`: a second, optimistic actor explores. Its pre-tanh Gaussian is the
  conservative actor's, mean-shifted by a learned shift and with std scaled by `std_multiplier`; it
  maximises the upper bound mean Q + optimism * |Q1 - Q2| / 2 minus kl_weight * KL(shift). The
  optimism and the KL weight are adjusted by dual steps that hold the KL at `target_kl`.
  The critic target and the conservative actor use the lower bound mean Q - pessimism * spread
  (`pessimism` = 1 is clipped double Q). Evaluation uses the conservative actor's mean.

The critic is a scalar twin critic (BRO's quantile head is not reproduced).
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.bro import losses
from rlscale.agents.bro.networks import ConservativeActor, OptimisticActor, TwinCritic
from rlscale.agents.sac.agent import _scalar_hparams
from rlscale.agents.sac.losses import masked_mean, temperature_loss
from rlscale.agents.sac.networks import NetworkConfig, count_parameters, sample_tanh_gaussian
from rlscale.engine.types import HyperParams, Transition


@flax.struct.dataclass
class BROState:
    actor_params: dict
    optimistic_params: dict
    """Empty when optimistic exploration is off."""
    critic_params: dict
    target_critic_params: dict
    log_alpha: jax.Array
    log_optimism: jax.Array
    log_kl_weight: jax.Array
    actor_opt_state: optax.OptState
    optimistic_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    scalar_opt_state: optax.OptState
    """One Adam state for the three adjusted scalars (log_alpha, log_optimism, log_kl_weight)."""
    grad_step: jax.Array
    """i32: gradient steps this config has applied (drives the resets)."""
    reset_rng: jax.Array
    """PRNG key from which the k-th reset's initialisation key is derived."""


@dataclasses.dataclass(frozen=True)
class BROAgent:
    """Static description of a BRO agent (its fields are part of the compile key)."""

    observation_size: int
    action_size: int
    network: NetworkConfig = NetworkConfig(hidden_width=512, hidden_depth=2)
    """Critic: width and number of BroNet residual blocks (the model-size axis)."""
    actor_network: NetworkConfig = NetworkConfig(hidden_width=256, hidden_depth=1)
    """Conservative and optimistic actors."""
    bronet: bool = True
    """BroNet torsos; False uses SAC's plain MLP (hidden_depth layers, layer_norm as configured)."""
    weight_decay: float = 1e-4
    """AdamW weight decay on actor and critic parameters; 0 is plain Adam."""
    reset_interval: int = 250_000
    """Gradient steps between full parameter resets; 0 disables resets."""
    optimistic_exploration: bool = True
    """Explore with the optimistic actor; False explores with the conservative actor."""
    pessimism: float = 1.0
    """beta_lb of the critic target and conservative actor: mean Q - pessimism * spread."""
    std_multiplier: float = 0.75
    """Optimistic std = std_multiplier * conservative std."""
    target_kl: float = 0.05
    """KL per action dimension the optimism and KL-weight adjustments aim for."""
    initial_optimism: float = 1.0
    initial_kl_weight: float = 1.0
    initial_temperature: float = 1.0

    def __post_init__(self):
        errors = self.network.validate() + self.actor_network.validate()
        if self.weight_decay < 0:
            errors.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.reset_interval < 0:
            errors.append(f"reset_interval must be >= 0 (0 disables resets), got {self.reset_interval}")
        if not 0 < self.std_multiplier:
            errors.append(f"std_multiplier must be > 0, got {self.std_multiplier}")
        for name in ("target_kl", "initial_optimism", "initial_kl_weight", "initial_temperature"):
            if getattr(self, name) <= 0:
                errors.append(f"{name} must be > 0, got {getattr(self, name)}")
        if errors:
            raise ValueError("invalid BRO options: " + "; ".join(errors))

    @property
    def actor(self) -> ConservativeActor:
        return ConservativeActor(self.actor_network, self.action_size, self.bronet)

    @property
    def optimistic_actor(self) -> OptimisticActor:
        return OptimisticActor(self.actor_network, self.action_size, self.bronet)

    @property
    def critic(self) -> TwinCritic:
        return TwinCritic(self.network, self.bronet)

    @property
    def target_entropy(self) -> float:
        return -float(self.action_size)

    def _network_optimizer(self, learning_rate: jax.Array) -> optax.GradientTransformation:
        return optax.inject_hyperparams(optax.adamw)(
            learning_rate=learning_rate, weight_decay=self.weight_decay
        )

    @staticmethod
    def _scalar_optimizer(learning_rate: jax.Array) -> optax.GradientTransformation:
        return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)

    def init(self, rng: jax.Array, hparams: HyperParams) -> BROState:
        """Fresh networks, target = online critic, optimizers carrying hparams.learning_rate."""
        actor_rng, optimistic_rng, critic_rng, reset_rng = jax.random.split(rng, 4)
        return self._fresh_state(actor_rng, optimistic_rng, critic_rng, hparams, jnp.int32(0), reset_rng)

    def _fresh_state(self, actor_rng, optimistic_rng, critic_rng, hparams, grad_step, reset_rng):
        obs = jnp.zeros((1, self.observation_size))
        action = jnp.zeros((1, self.action_size))
        actor_params = self.actor.init(actor_rng, obs)
        optimistic_params = (
            self.optimistic_actor.init(optimistic_rng, obs) if self.optimistic_exploration else {}
        )
        critic_params = self.critic.init(critic_rng, obs, action)
        scalars = self._log_scalars()
        network_optimizer = self._network_optimizer(hparams.learning_rate)
        return BROState(
            actor_params=actor_params,
            optimistic_params=optimistic_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            log_alpha=scalars[0],
            log_optimism=scalars[1],
            log_kl_weight=scalars[2],
            actor_opt_state=network_optimizer.init(actor_params),
            optimistic_opt_state=network_optimizer.init(optimistic_params),
            critic_opt_state=network_optimizer.init(critic_params),
            scalar_opt_state=self._scalar_optimizer(hparams.learning_rate).init(scalars),
            grad_step=grad_step,
            reset_rng=reset_rng,
        )

    def _log_scalars(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        values = (self.initial_temperature, self.initial_optimism, self.initial_kl_weight)
        return tuple(jnp.log(jnp.asarray(v, jnp.float32)) for v in values)

    def parameter_count(self) -> int:
        """Trainable parameters of the actor(s) and critic (targets excluded)."""
        state = jax.eval_shape(self.init, jax.random.PRNGKey(0), _scalar_hparams())
        return sum(
            count_parameters(p)
            for p in (state.actor_params, state.optimistic_params, state.critic_params)
        )

    def act(self, state: BROState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[..., act] in (-1, 1): conservative mean if deterministic, else a sample of the
        optimistic policy (or of the conservative one when optimistic exploration is off)."""
        mean, log_std = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return jnp.tanh(mean)
        if self.optimistic_exploration:
            shift = self.optimistic_actor.apply(state.optimistic_params, obs)
            mean, log_std = losses.optimistic_policy(mean, log_std, shift, self.std_multiplier)
        action, _ = sample_tanh_gaussian(mean, log_std, rng)
        return action

    def update(
        self,
        state: BROState,
        batch: Transition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
    ) -> tuple[BROState, dict]:
        """One gradient step of every network and adjusted scalar, then Polyak target and reset.

        All losses use the pre-update state. Args as SACAgent.update: batch has leading axis B_max,
        mask f32[B_max]. Returns the new state and scalar metrics.
        """
        critic_rng, actor_rng, optimistic_rng = jax.random.split(rng, 3)
        batch_size = hparams.batch_size.astype(jnp.float32)
        network_optimizer = self._network_optimizer(hparams.learning_rate)

        critic_value, critic_grads = jax.value_and_grad(losses.critic_loss)(
            state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha,
            batch, mask, batch_size, hparams.discount, self.pessimism, critic_rng,
            self.actor.apply, self.critic.apply,
        )
        (actor_value, log_prob), actor_grads = jax.value_and_grad(
            losses.conservative_actor_loss, has_aux=True
        )(
            state.actor_params, state.critic_params, state.log_alpha, batch, mask, batch_size,
            self.pessimism, actor_rng, self.actor.apply, self.critic.apply,
        )
        metrics = {"critic_loss": critic_value, "actor_loss": actor_value}

        optimistic_params, optimistic_opt_state = state.optimistic_params, state.optimistic_opt_state
        if self.optimistic_exploration:
            (optimistic_value, kl), optimistic_grads = jax.value_and_grad(
                losses.optimistic_actor_loss, has_aux=True
            )(
                state.optimistic_params, state.actor_params, state.critic_params,
                jnp.exp(state.log_optimism), jnp.exp(state.log_kl_weight), batch, mask, batch_size,
                self.std_multiplier, optimistic_rng,
                self.actor.apply, self.optimistic_actor.apply, self.critic.apply,
            )
            mean_kl = masked_mean(kl, mask, batch_size)
            updates, optimistic_opt_state = network_optimizer.update(
                optimistic_grads, state.optimistic_opt_state, state.optimistic_params
            )
            optimistic_params = optax.apply_updates(state.optimistic_params, updates)
            metrics.update(
                optimistic_actor_loss=optimistic_value,
                kl=mean_kl,
                optimism=jnp.exp(state.log_optimism),
                kl_weight=jnp.exp(state.log_kl_weight),
            )

        def scalar_loss(log_scalars):
            log_alpha, log_optimism, log_kl_weight = log_scalars
            loss = temperature_loss(log_alpha, log_prob, self.target_entropy, mask, batch_size)
            if self.optimistic_exploration:
                loss = loss + losses.optimism_loss(log_optimism, mean_kl, self.target_kl)
                loss = loss + losses.kl_weight_loss(log_kl_weight, mean_kl, self.target_kl)
            return loss

        log_scalars = (state.log_alpha, state.log_optimism, state.log_kl_weight)
        scalar_value, scalar_grads = jax.value_and_grad(scalar_loss)(log_scalars)
        scalar_updates, scalar_opt_state = self._scalar_optimizer(hparams.learning_rate).update(
            scalar_grads, state.scalar_opt_state, log_scalars
        )
        log_alpha, log_optimism, log_kl_weight = optax.apply_updates(log_scalars, scalar_updates)

        critic_updates, critic_opt_state = network_optimizer.update(
            critic_grads, state.critic_opt_state, state.critic_params
        )
        critic_params = optax.apply_updates(state.critic_params, critic_updates)
        actor_updates, actor_opt_state = network_optimizer.update(
            actor_grads, state.actor_opt_state, state.actor_params
        )
        new_state = BROState(
            actor_params=optax.apply_updates(state.actor_params, actor_updates),
            optimistic_params=optimistic_params,
            critic_params=critic_params,
            target_critic_params=optax.incremental_update(
                critic_params, state.target_critic_params, hparams.tau
            ),
            log_alpha=log_alpha,
            log_optimism=log_optimism,
            log_kl_weight=log_kl_weight,
            actor_opt_state=actor_opt_state,
            optimistic_opt_state=optimistic_opt_state,
            critic_opt_state=critic_opt_state,
            scalar_opt_state=scalar_opt_state,
            grad_step=state.grad_step + 1,
            reset_rng=state.reset_rng,
        )
        metrics.update(scalar_loss=scalar_value, temperature=jnp.exp(state.log_alpha))
        if self.reset_interval > 0:
            new_state = self._reset_if_due(new_state, hparams)
        return new_state, metrics

    def _reset_if_due(self, state: BROState, hparams: HyperParams) -> BROState:
        """Re-initialise everything but the step counter when grad_step hits a reset multiple."""

        def reset():
            rngs = jax.random.split(jax.random.fold_in(state.reset_rng, state.grad_step), 3)
            return self._fresh_state(*rngs, hparams, state.grad_step, state.reset_rng)

        due = state.grad_step % self.reset_interval == 0
        return jax.lax.cond(due, reset, lambda: state)

