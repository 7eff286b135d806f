"""BRO (Bigger, Regularized, Optimistic; Nauman et al., 2024) as pure functions over a state.

Follows naumix/BiggerRegularizedOptimistic (jaxrl/bro/bro_learner.py, actor.py, critic.py,
temperature.py, networks/policies.py; presets in rlscale/agents/bro/options.py):

- BroNet torsos (residual blocks with layer norm, orthogonal init) for the actors and the critic;
  the critic has two heads of 100 quantiles trained with the quantile Huber loss, pessimism 0;
- AdamW (weight decay 1e-4) at the swept eta for actors and critic; the temperature (Adam 3e-4,
  b1 0.5) and the two duals (Adam 3e-5, b1 0.5) have fixed step sizes of their own, so sweeping
  eta does not change how fast they adapt;
- target entropy -|A|/2, conservative log std in [-10, 2];
- optimistic exploration: a second actor sees (obs, conservative mean) and shifts the
  conservative mean; its std is std_multiplier (0.75) times the conservative std. It maximises
  mean Q + optimism * |Q1 - Q2| / 2 minus kl_weight * KL (KL summed over action dims). The
  optimism and the KL weight (initially 1 and 0.25, each bounded in [e^-10, e^7.5] through a tanh)
  are dual variables holding the KL per action dimension at target_kl (0.05). Evaluation uses the
  conservative actor's mean;
- update order as BRO's: critic first; the conservative actor against the updated critic; the
  optimistic actor against the updated actors and critic; then the temperature (from the
  conservative actor's entropy) and the duals (from the optimistic actor's KL);
- resets of every network, optimizer and adjusted scalar (the replay buffer is kept). Default:
  every 2.5M gradient steps of the config, the schedule the scaling-law paper's DMC analysis
  assumes (prestonfu/qscaled experiments/2_fitted/dmc_explore.ipynb, `filter_out_resets(...,
  reset_freq=2.5e6)`); option reset_schedule = "env_steps" resets at BRO's own env steps (15k,
  50k, 250k, 500k, 750k, 1M, 1.5M, 2M at replay ratio 10). The engine records the env step of
  every reset in the config's eval rows (`reset_env_steps`).

Kept different, and why:
- A reset draws fresh random networks (from the config's key and the reset count), as in the
  reset literature BRO builds on; BRO's code re-initialises from the same seed, i.e. to the very
  first weights.
- The scalar critic (critic_quantiles = 0) remains as an option for cheaper runs; pair it with
  pessimism = 1 (clipped double Q).

Resets and the optimistic actor are decided at group level (see rlscale/agents/core.py): a reset
branch is computed only in update slots where some config of the group is due.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.bro.losses import BROLosses, bounded_dual, make_losses, optimistic_policy, raw_dual
from rlscale.agents.bro.networks import ConservativeActor, OptimisticActor, TwinQuantileCritic
from rlscale.agents.bro.options import BRONET_WIDTH, RESET_ENV_STEPS, RESET_GRADIENT_STEPS, BROOptions
from rlscale.agents.core import (
    RESET_METRIC,
    ActorCriticAgent,
    HyperParams,
    PerConfigRate,
    Transition,
    UpdateBatch,
    UpdateContext,
    gradient_step,
    run_if_due,
    sample_tanh_gaussian,
)
from rlscale.agents.sac.agent import soft_actor_critic_step
from rlscale.agents.spec import BatchSpec, NetworkConfig

RESET_DUE = "reset"
"""Name of BRO's reset in `due` / `UpdateContext`."""


@flax.struct.dataclass
class BROState:
    actor_params: dict
    optimistic_params: dict
    """Empty when optimistic exploration is off."""
    critic_params: dict
    target_critic_params: dict
    log_alpha: jax.Array
    raw_duals: tuple
    """(raw optimism, raw KL weight): see bro.losses.bounded_dual; () without optimistic exploration."""
    actor_opt_state: optax.OptState
    optimistic_opt_state: optax.OptState
    critic_opt_state: optax.OptState
    """AdamW states of the networks, each carrying the config's learning rate."""
    alpha_opt_state: optax.OptState
    dual_opt_state: optax.OptState
    grad_step: jax.Array
    """i32: gradient steps this config has applied (drives the gradient-step resets)."""
    resets_done: jax.Array
    """i32: resets this config has had."""
    reset_rng: jax.Array
    """PRNG key from which the k-th reset's initialisation key is derived."""


@dataclasses.dataclass(frozen=True)
class BROAgent(ActorCriticAgent):
    """Static description of a BRO agent (its fields are part of the compile key)."""

    network: NetworkConfig = NetworkConfig(hidden_width=BRONET_WIDTH, hidden_depth=2)
    """Critic: width and number of BroNet residual blocks (the model-size axis; BRO: 512, 2)."""
    options: BROOptions = BROOptions()

    batch_spec: ClassVar[BatchSpec] = BatchSpec()
    TRAINED_PARAMETERS: ClassVar[tuple[str, ...]] = ("actor_params", "optimistic_params", "critic_params")

    @property
    def actor_network(self) -> NetworkConfig:
        return NetworkConfig(self.options.actor_hidden_width, self.options.actor_hidden_depth)

    @property
    def actor(self) -> ConservativeActor:
        o = self.options
        return ConservativeActor(self.actor_network, self.action_size, o.bronet, o.log_std_min, o.log_std_max)

    @property
    def optimistic_actor(self) -> OptimisticActor:
        return OptimisticActor(self.actor_network, self.action_size, self.options.bronet)

    @property
    def critic(self) -> TwinQuantileCritic:
        return TwinQuantileCritic(self.network, self.options.bronet, max(self.options.critic_quantiles, 1))

    @property
    def target_entropy(self) -> float:
        return self.options.target_entropy_per_action * self.action_size

    @property
    def losses(self) -> BROLosses:
        return make_losses(self.actor, self.optimistic_actor, self.critic, self.options, self.target_entropy)

    @property
    def network_optimizer(self) -> PerConfigRate:
        weight_decay = self.options.weight_decay
        return PerConfigRate(lambda learning_rate: optax.adamw(learning_rate, weight_decay=weight_decay))

    @property
    def alpha_optimizer(self) -> optax.GradientTransformation:
        return optax.adam(self.options.temperature_learning_rate, b1=self.options.temperature_b1)

    @property
    def dual_optimizer(self) -> optax.GradientTransformation:
        return optax.adam(self.options.dual_learning_rate, b1=self.options.dual_b1)

    def init(self, rng: jax.Array, hparams: HyperParams) -> BROState:
        """Fresh networks, target = online critic, AdamW states carrying hparams.learning_rate."""
        init_rng, reset_rng = jax.random.split(rng)
        return self._fresh_state(init_rng, hparams.learning_rate, jnp.int32(0), jnp.int32(0), reset_rng)

    def _fresh_state(self, rng, learning_rate, grad_step, resets_done, reset_rng) -> BROState:
        actor_rng, optimistic_rng, critic_rng = jax.random.split(rng, 3)
        obs = jnp.zeros((1, self.observation_size))
        action = jnp.zeros((1, self.action_size))
        actor_params = self.actor.init(actor_rng, obs)
        critic_params = self.critic.init(critic_rng, obs, action)
        o = self.options
        if o.optimistic_exploration:
            optimistic_params = self.optimistic_actor.init(optimistic_rng, obs, action)
            raw_duals = tuple(
                jnp.float32(raw_dual(value, o.log_dual_min, o.log_dual_max))
                for value in (o.initial_optimism, o.initial_kl_weight)
            )
        else:
            optimistic_params, raw_duals = {}, ()
        log_alpha = jnp.log(jnp.asarray(o.initial_temperature, jnp.float32))
        optimizer = self.network_optimizer
        return BROState(
            actor_params=actor_params,
            optimistic_params=optimistic_params,
            critic_params=critic_params,
            target_critic_params=critic_params,
            log_alpha=log_alpha,
            raw_duals=raw_duals,
            actor_opt_state=optimizer.init(actor_params, learning_rate),
            optimistic_opt_state=optimizer.init(optimistic_params, learning_rate),
            critic_opt_state=optimizer.init(critic_params, learning_rate),
            alpha_opt_state=self.alpha_optimizer.init(log_alpha),
            dual_opt_state=self.dual_optimizer.init(raw_duals),
            grad_step=grad_step,
            resets_done=resets_done,
            reset_rng=reset_rng,
        )

    def _optimistic_policy(self, state: BROState, obs: jax.Array, mean: jax.Array, log_std: jax.Array):
        shift = self.optimistic_actor.apply(state.optimistic_params, obs, mean)
        return optimistic_policy(mean, log_std, shift, self.options.std_multiplier)

    def act(self, state: BROState, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[..., act] in (-1, 1): conservative mean if deterministic, else a sample of the
        optimistic policy (or of the conservative one when optimistic exploration is off)."""
        mean, log_std = self.actor.apply(state.actor_params, obs)
        if deterministic:
            return jnp.tanh(mean)
        if self.options.optimistic_exploration:
            mean, log_std = self._optimistic_policy(state, obs, mean, log_std)
        action, _ = sample_tanh_gaussian(mean, log_std, rng)
        return action

    def td_error(
        self, state: BROState, batch: Transition, mask: jax.Array, hparams: HyperParams, rng: jax.Array
    ) -> jax.Array:
        """f32: the critic loss `update` minimises (`losses.critic`: the quantile Huber loss, or the
        squared TD error of a scalar critic), at the current critic, target, conservative actor and
        temperature, with no gradient step; rng draws the next actions. As the follow-up paper's
        validation loss for its distributional BRO (prestonfu/model_scaling, compute_quantile_loss)."""
        return self.losses.critic(
            state.critic_params, state.target_critic_params, state.actor_params, state.log_alpha,
            UpdateBatch.of(batch, mask, hparams), rng,
        )

    def due(self, state: BROState, hparams: HyperParams, env_step: jax.Array) -> dict:
        """{"reset": whether this config resets before its next update}; {} without resets.

        gradient_steps: once grad_step reaches (resets_done + 1) * reset_interval. env_steps: once
        env_step reaches the next entry of reset_at_env_steps.
        """
        o = self.options
        if o.reset_schedule == RESET_GRADIENT_STEPS:
            return {RESET_DUE: state.grad_step >= (state.resets_done + 1) * o.reset_interval}
        if o.reset_schedule == RESET_ENV_STEPS:
            schedule = jnp.asarray(o.reset_at_env_steps, jnp.int32)
            next_reset = schedule[jnp.minimum(state.resets_done, len(o.reset_at_env_steps) - 1)]
            return {RESET_DUE: (state.resets_done < len(o.reset_at_env_steps)) & (env_step >= next_reset)}
        return {}

    def _reset(self, state: BROState) -> BROState:
        """Everything re-initialised from a key of its own; the counters and the learning rate
        (read from the critic's optimizer state) carry over."""
        resets_done = state.resets_done + 1
        rng = jax.random.fold_in(state.reset_rng, resets_done)
        learning_rate = state.critic_opt_state.hyperparams["learning_rate"]
        return self._fresh_state(rng, learning_rate, state.grad_step, resets_done, state.reset_rng)

    def update(
        self,
        state: BROState,
        batch: Transition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
        context: UpdateContext,
    ) -> tuple[BROState, dict]:
        """A reset when due, then one gradient step of every network and adjusted scalar in BRO's
        order (critic, conservative actor against the updated critic and temperature, as SAC's
        `soft_actor_critic_step`; then `_optimistic_step`), then the Polyak target.

        Args as in the Agent protocol: batch has leading axis B_max, mask f32[B_max]. Returns the
        new state and scalar metrics.
        """
        state, metrics = self._reset_if_due(state, context)
        batch = UpdateBatch.of(batch, mask, hparams)
        critic_rng, actor_rng, optimistic_rng = jax.random.split(rng, 3)
        stepped, conservative_metrics = soft_actor_critic_step(
            self, state, batch, (critic_rng, actor_rng), self.losses.conservative_actor, actor_sees_updated_critic=True
        )
        metrics.update(conservative_metrics)
        if self.options.optimistic_exploration:
            stepped, optimistic_metrics = self._optimistic_step(stepped, batch, optimistic_rng)
            metrics.update(optimistic_metrics)
        new_state = stepped.replace(
            target_critic_params=optax.incremental_update(
                stepped.critic_params, state.target_critic_params, hparams.tau
            ),
            grad_step=state.grad_step + 1,
        )
        return new_state, metrics

    def _reset_if_due(self, state: BROState, context: UpdateContext) -> tuple[BROState, dict]:
        """The state re-initialised where this config's reset is due (`run_if_due`), and the metrics
        {RESET_METRIC: 1.0 where it reset} ({} without resets)."""
        if RESET_DUE not in context.due:
            return state, {}
        state = run_if_due(context, RESET_DUE, lambda: self._reset(state), state)
        return state, {RESET_METRIC: context.due[RESET_DUE].astype(jnp.float32)}

    def _optimistic_step(self, state: BROState, batch: UpdateBatch, rng: jax.Array) -> tuple[BROState, dict]:
        """One gradient step of the optimistic actor against the (updated) actor and critic of
        `state` at its duals, then of the duals from its KL; returns the state with them updated and
        the metrics {optimistic_actor_loss, dual_loss, kl (per action dimension), optimism,
        kl_weight}."""
        o, losses = self.options, self.losses
        duals = tuple(bounded_dual(raw, o.log_dual_min, o.log_dual_max) for raw in state.raw_duals)
        (optimistic_value, kl), optimistic_params, optimistic_opt_state = gradient_step(
            losses.optimistic_actor, self.network_optimizer, state.optimistic_params, state.optimistic_opt_state,
            state.actor_params, state.critic_params, duals, batch, rng, has_aux=True,
        )
        kl_per_action = batch.mean(kl) / self.action_size
        dual_value, new_raw_duals, dual_opt_state = gradient_step(
            losses.duals, self.dual_optimizer, state.raw_duals, state.dual_opt_state, kl_per_action,
        )
        metrics = dict(
            optimistic_actor_loss=optimistic_value, dual_loss=dual_value, kl=kl_per_action,
            optimism=duals[0], kl_weight=duals[1],
        )
        stepped = state.replace(
            optimistic_params=optimistic_params, optimistic_opt_state=optimistic_opt_state,
            raw_duals=new_raw_duals, dual_opt_state=dual_opt_state,
        )
        return stepped, metrics
