"""The agent core: what every value-based agent shares, and the `Agent` protocol the engine drives.

Model: Brax's training/agents/sac (google/brax: `make_losses(networks, ...)` returning losses that
close over the networks and static options, one `gradient_update_fn`) for the pieces, Optax's
`inject_hyperparams` for per-config step sizes. Each agent's `losses.make_losses` builds its losses
from its networks and options; a loss takes the parameters it differentiates, the other parameters
it reads, an `UpdateBatch` and (where it draws noise) a key; `gradient_step` is the one helper that
turns a loss into an optimizer step, and an agent's `td_error` is its critic loss without the step.

Shapes: an agent's functions act on ONE config; the engine vmaps (or `lax.map`s) them over the
group's K configs, so inside an agent every `HyperParams` field is a scalar and every batch has
leading axis B_max (the group's padded batch size).

The mask rule: `update` receives `mask` f32[B_max], 1 for the config's first `hparams.batch_size`
(B_k) rows and 0 for padding. Every loss is `sum(mask * per_row) / B_k` (`masked_mean`, or
`UpdateBatch.mean`), never a mean over B_max, so padding changes neither the gradient nor the
effective learning rate; padding rows may hold anything (even huge values) and must not change the
update.

Per-config hyperparameters (`HyperParams`, arrays with a leading K axis in a group): learning rate,
batch size, UTD, seed, discount, tau. Everything else (network sizes, agent options) is static and
part of the compile key. The learning rate has one source: `init` stores it in each optimizer
state (`PerConfigRate`), and `update` reads it from there; `hparams.learning_rate` is not read by
`update`. Step sizes that must not follow the swept eta (SAC's temperature, BRO's duals) are fixed
agent options with plain Optax optimizers.

Skipped work: under vmap a `lax.cond` whose predicate differs per config runs both branches. An
agent with optional work (PQL's delayed actor update, BRO's resets) names it in `due`; the engine
evaluates `due` for every config outside the vmap and passes, for each name, whether ANY config
updated together with it (the group's, or a map lane's) has it due (`UpdateContext.group_due`, an
unbatched scalar) next to the config's own flag
(`UpdateContext.due`). `run_if_due` then branches on the group flag, a real `cond` even under vmap,
and selects per config inside the branch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Mapping, Protocol, Sequence

import flax.struct
import jax
import jax.numpy as jnp
import optax

from rlscale.agents.spec import BatchSpec, NetworkConfig

RESET_METRIC = "reset"
"""Metric an agent that re-initialises itself sets to 1.0 on the update that did it (0.0 otherwise);
the engine records that update's env step in the config's `reset_env_steps`."""


@flax.struct.dataclass
class Transition:
    """One environment transition, or a batch of them with leading axes.

    obs f32[..., obs], action f32[..., act], reward f32[...], next_obs f32[..., obs] (the true next
    observation, also on a time-limit truncation), termination f32[...] (1.0 only when the episode
    truly ended, so the target does not bootstrap; 0.0 on truncation).
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    termination: jax.Array


@flax.struct.dataclass
class NStepTransition:
    """A batch of n-step transitions, each field with leading axis B.

    obs f32[B, obs] and action f32[B, act] of the first step; reward f32[B]: the discounted reward
    sum over the k <= n steps taken; next_obs f32[B, obs]: the observation after the k-th step;
    termination f32[B]: whether the k-th step ended the episode; discount f32[B]: gamma^k, the
    factor of the bootstrapped value (k < n where the chain was cut by an episode end).
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    termination: jax.Array
    discount: jax.Array


@flax.struct.dataclass
class HyperParams:
    """Per-config values that do not change array shapes; each field is f32[K] or i32[K] in a group.

    Inside the vmapped engine (and so inside every agent function) each field is a scalar.
    """

    learning_rate: jax.Array
    """Step size of the actor and critic optimizers (read once, by `init`; see PerConfigRate)."""
    batch_size: jax.Array
    """Rows per gradient update (int); at most the group's padded batch size."""
    utd: jax.Array
    """Gradient updates per environment transition collected (may be fractional)."""
    seed: jax.Array
    """RNG seed of the config (int)."""
    discount: jax.Array
    """Discount factor gamma."""
    tau: jax.Array
    """Polyak averaging rate of the target critic."""

    @classmethod
    def stack(
        cls,
        learning_rate: Sequence[float],
        batch_size: Sequence[int],
        utd: Sequence[float],
        seed: Sequence[int],
        discount: float = 0.99,
        tau: float = 0.005,
    ) -> "HyperParams":
        """Hyperparameters of K configs from equal-length sequences: each field of shape [K]."""
        num_configs = len(learning_rate)
        return cls(
            learning_rate=jnp.asarray(learning_rate, jnp.float32),
            batch_size=jnp.asarray(batch_size, jnp.int32),
            utd=jnp.asarray(utd, jnp.float32),
            seed=jnp.asarray(seed, jnp.int32),
            discount=jnp.full((num_configs,), discount, jnp.float32),
            tau=jnp.full((num_configs,), tau, jnp.float32),
        )

    @classmethod
    def single(
        cls, learning_rate: float = 3e-4, batch_size: int = 256, discount: float = 0.99, tau: float = 0.005
    ) -> "HyperParams":
        """Scalar hyperparameters of one config (for shape evaluation and direct agent calls)."""
        return cls(
            learning_rate=jnp.float32(learning_rate),
            batch_size=jnp.int32(batch_size),
            utd=jnp.float32(1.0),
            seed=jnp.int32(0),
            discount=jnp.float32(discount),
            tau=jnp.float32(tau),
        )


@flax.struct.dataclass
class UpdateBatch:
    """What a loss reads besides parameters: the padded batch of one update, its mask and the
    config's own batch size and discount (scalars: a loss acts on ONE config)."""

    transitions: Transition | NStepTransition
    """Fields with leading axis B_max (the group's padded batch size)."""
    mask: jax.Array
    """f32[B_max]: 1 for the config's first `batch_size` rows, 0 for padding."""
    batch_size: jax.Array
    """f32: B_k, the config's own rows (the denominator of every masked mean)."""
    discount: jax.Array
    """f32: the config's γ (an n-step batch also carries its rows' γ^k in `transitions.discount`)."""

    @classmethod
    def of(cls, transitions: Transition | NStepTransition, mask: jax.Array, hparams: "HyperParams") -> "UpdateBatch":
        """The batch `update` (or `td_error`) received, with the config's B_k and γ from `hparams`."""
        return cls(transitions, mask, hparams.batch_size.astype(jnp.float32), hparams.discount)

    def mean(self, per_row: jax.Array) -> jax.Array:
        """The masked mean of f32[B_max] per-row values over the config's own rows (`masked_mean`)."""
        return masked_mean(per_row, self.mask, self.batch_size)


@flax.struct.dataclass
class UpdateContext:
    """What the engine tells one config's `update` besides its batch.

    env_step: i32 scalar, transitions this config has collected so far (including this
    iteration's). due: this config's flags from `Agent.due` (bool scalars, batched over configs).
    group_due: the same names, True where any config updated together with this one (the group's
    configs that update in this slot under vmap, the lane's under map) has the work due (bool
    scalars, NOT batched: the same for every config updated together).
    """

    env_step: jax.Array
    due: Mapping[str, jax.Array]
    group_due: Mapping[str, jax.Array]


def single_config_context(agent: "Agent", state: Any, hparams: HyperParams, env_step: int = 0) -> UpdateContext:
    """The context of a config updated on its own (tests, benchmarks of one update)."""
    due = agent.due(state, hparams, jnp.int32(env_step))
    return UpdateContext(env_step=jnp.int32(env_step), due=due, group_due=due)


class Agent(Protocol):
    """What the engine needs from an agent. Every method acts on ONE config's state (see the module
    docstring for shapes, the mask rule and per-config hyperparameters). Implementations are frozen
    dataclasses of static structure (sizes and options: part of the compile key); their state is a
    `flax.struct.dataclass` pytree of arrays.
    """

    batch_spec: BatchSpec
    """Which batch `update` learns from: Transition or NStepTransition (with its n_step)."""

    def init(self, rng: jax.Array, hparams: HyperParams) -> Any:
        """A fresh state; optimizer states carry hparams.learning_rate (PerConfigRate)."""

    def act(self, state: Any, obs: jax.Array, rng: jax.Array, deterministic: bool) -> jax.Array:
        """Actions f32[num_envs, act] in [-1, 1] for observations f32[num_envs, obs]: exploration
        when deterministic is False, the evaluation policy when True."""

    def due(self, state: Any, hparams: HyperParams, env_step: jax.Array) -> dict[str, jax.Array]:
        """Bool scalars, one per optional piece of work the NEXT update would do (e.g. {"actor":
        ...}); {} for an agent without optional work. Must be cheap: it runs for every config
        before every update slot."""

    def update(
        self,
        state: Any,
        batch: Transition | NStepTransition,
        mask: jax.Array,
        hparams: HyperParams,
        rng: jax.Array,
        context: UpdateContext,
    ) -> tuple[Any, dict[str, jax.Array]]:
        """One gradient update on a padded batch (leading axis B_max) with mask f32[B_max].

        Returns the new state and scalar metrics (all must be finite, or the engine discards the
        update and marks the config diverged); RESET_METRIC = 1.0 when the update re-initialised
        the agent.
        """

    def parameter_count(self) -> int:
        """Trainable parameters of the whole agent, actor(s) and critics (targets excluded): what the
        planner's FLOP and memory estimates count (rows: `model_size_total`)."""

    def critic_parameter_count(self) -> int:
        """Optional. Trainable parameters of the critics (targets excluded): the model size N of the
        paper's compute law C = 10·N·B·σ·D (1.5e5 for its Gym SAC, 4.92e6 for its DMC BRO; rows:
        `model_size`). An agent without it has `parameter_count()` as its model size, and the
        manifest says so."""


class MeasuresTDError(Protocol):
    """The optional `Agent` method behind the rows' `td_error_train` / `td_error_validation`
    (TD-overfitting, as the follow-up paper measures it: Fu, Rybkin et al. 2025). An agent without
    it trains as before; its rows carry null there (`measures_td_error`)."""

    def td_error(
        self, state: Any, batch: Transition | NStepTransition, mask: jax.Array, hparams: HyperParams, rng: jax.Array
    ) -> jax.Array:
        """f32 scalar: the critic loss `update` would minimise on this padded batch (leading axis
        B_max, mask f32[B_max] as in `update`), from the current critic, target and policy, with no
        gradient step; `rng` draws whatever noise the loss's target draws. The engine evaluates it
        on the same batch size from the replay and from a validation buffer never trained on."""


def measures_td_error(agent) -> bool:
    """Whether `agent` implements the optional `MeasuresTDError.td_error`."""
    return callable(getattr(agent, "td_error", None))


def sample_tanh_gaussian(mean: jax.Array, log_std: jax.Array, rng: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Reparameterised tanh-Gaussian sample and its log-probability.

    Args:
      mean, log_std: f32[..., act], the pre-tanh Gaussian.
      rng: PRNG key.
    Returns:
      action f32[..., act] in (-1, 1) and log_prob f32[...].
    """
    noise = jax.random.normal(rng, mean.shape, mean.dtype)
    pre_tanh = mean + jnp.exp(log_std) * noise
    gaussian_log_prob = -0.5 * noise**2 - log_std - 0.5 * jnp.log(2.0 * jnp.pi)
    # log(1 - tanh(x)^2) written stably as 2 (log 2 - x - softplus(-2x)).
    log_det_jacobian = 2.0 * (jnp.log(2.0) - pre_tanh - jax.nn.softplus(-2.0 * pre_tanh))
    log_prob = jnp.sum(gaussian_log_prob - log_det_jacobian, axis=-1)
    return jnp.tanh(pre_tanh), log_prob


def squash_to_range(raw: jax.Array, low: float, high: float) -> jax.Array:
    """Maps an unbounded value into [low, high] through a tanh: low + (high - low)(tanh(raw) + 1)/2."""
    return low + 0.5 * (high - low) * (jnp.tanh(raw) + 1.0)


def masked_mean(values: jax.Array, mask: jax.Array, batch_size: jax.Array) -> jax.Array:
    """sum(mask * values) / batch_size over f32[B_max] values: the mean over the config's own rows."""
    return jnp.sum(jnp.where(mask > 0, values, 0.0)) / batch_size


def twin_td_loss(q: jax.Array, target: jax.Array, batch: UpdateBatch, weight: float = 0.5) -> jax.Array:
    """weight * sum over both critics of the masked mean squared error of q f32[B_max, 2] (the twin
    critic's values of the batch's actions) to target f32[B_max] (held fixed).

    weight 0.5 is SAC's 1/2 squared error per critic; PQL uses 1 (the sum of two MSE losses),
    which matters under its gradient-norm clip.
    """
    per_row = weight * jnp.sum((q - jax.lax.stop_gradient(target)[:, None]) ** 2, axis=-1)
    return batch.mean(per_row)


def make_temperature_loss(target_entropy: float) -> Callable[[jax.Array, jax.Array, UpdateBatch], jax.Array]:
    """Automatic entropy tuning toward `target_entropy` (SAC and BRO both tune alpha = exp(log_alpha)
    this way): the loss (log_alpha, log pi f32[B_max] held fixed, batch) -> masked mean of
    alpha * (-log pi - target_entropy)."""

    def temperature_loss(log_alpha: jax.Array, log_prob: jax.Array, batch: UpdateBatch) -> jax.Array:
        return batch.mean(jnp.exp(log_alpha) * jax.lax.stop_gradient(-log_prob - target_entropy))

    return temperature_loss


@dataclasses.dataclass(frozen=True)
class PerConfigRate:
    """An Optax optimizer whose step size is the config's swept learning rate, held in its state.

    `make(learning_rate=...)` builds the transformation (e.g. `optax.adamw` with its other settings
    bound). `init` stores the rate with `optax.inject_hyperparams`; `update` takes it from that
    state. The state is the only source of the rate, so each vmapped config steps with its own.
    """

    make: Callable[..., optax.GradientTransformation]

    def init(self, params, learning_rate: jax.Array) -> optax.OptState:
        return optax.inject_hyperparams(self.make)(learning_rate=learning_rate).init(params)

    def update(self, grads, state: optax.OptState, params):
        rate = state.hyperparams["learning_rate"]
        return optax.inject_hyperparams(self.make)(learning_rate=rate).update(grads, state, params)


def gradient_step(loss_fn, optimizer, params, opt_state, *args, has_aux: bool = False):
    """One optimizer step on `loss_fn(params, *args)`: value_and_grad -> update -> apply_updates (the
    one helper every agent's update goes through, Brax's `gradient_update_fn`).

    `optimizer` is anything with Optax's `update(grads, state, params)` (an Optax
    GradientTransformation or a PerConfigRate). Returns (loss value, or (loss, aux) with has_aux;
    new params; new optimizer state).
    """
    value, grads = jax.value_and_grad(loss_fn, has_aux=has_aux)(params, *args)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return value, optax.apply_updates(params, updates), opt_state


def parameter_count(*trees) -> int:
    """Number of scalar parameters in the given pytrees."""
    return int(sum(optax.tree_utils.tree_size(tree) for tree in trees))


class CountsParameters:
    """`parameter_count` and `critic_parameter_count` of the `Agent` protocol, counted on the shapes
    of a fresh state (`state_shapes`: nothing is computed or compiled). A subclass names the state
    fields holding trained parameters (targets excluded) in TRAINED_PARAMETERS, and the critics'
    among them in CRITIC_PARAMETERS."""

    TRAINED_PARAMETERS: ClassVar[tuple[str, ...]] = ("actor_params", "critic_params")
    CRITIC_PARAMETERS: ClassVar[tuple[str, ...]] = ("critic_params",)

    def parameter_count(self) -> int:
        """Trainable parameters of the whole agent, actor(s) and critics (targets excluded)."""
        return self._count(self.TRAINED_PARAMETERS)

    def critic_parameter_count(self) -> int:
        """Trainable parameters of the critics (targets excluded): the model size N of the paper's
        compute law C = 10·N·B·σ·D."""
        return self._count(self.CRITIC_PARAMETERS)

    def _count(self, fields: tuple[str, ...]) -> int:
        state = state_shapes(self)
        return parameter_count(*(getattr(state, field) for field in fields))


@dataclasses.dataclass(frozen=True)
class ActorCriticAgent(CountsParameters):
    """What an actor-critic agent is built from besides its options: the env's sizes and the
    critic's network (fields of the compile key). A subclass adds its `options` field and its `actor`
    and `critic` (Flax modules)."""

    observation_size: int
    action_size: int
    network: NetworkConfig = NetworkConfig()
    """The critic's width and depth: the model-size axis."""

    def init_actor_and_critic(self, rng: jax.Array) -> tuple[Any, Any]:
        """Fresh parameters of `actor` and `critic`, each from its own half of `rng`."""
        actor_rng, critic_rng = jax.random.split(rng)
        obs = jnp.zeros((1, self.observation_size))
        action = jnp.zeros((1, self.action_size))
        return self.actor.init(actor_rng, obs), self.critic.init(critic_rng, obs, action)


def state_shapes(agent: "Agent") -> Any:
    """The shapes and dtypes of a fresh state of `agent`, for counting its parameters: its `init`
    traced with `jax.eval_shape` on abstract arguments, so nothing is computed or compiled (a dry
    run plans a sweep without compiling)."""
    rng = jax.eval_shape(lambda: jax.random.PRNGKey(0))
    return jax.eval_shape(agent.init, rng, jax.eval_shape(HyperParams.single))


def critic_parameter_count(agent: "Agent") -> int:
    """The model size N of the paper's compute law for `agent`: its `critic_parameter_count()`, or
    for a plug-in agent without that method its `parameter_count()` (the whole agent)."""
    count = getattr(agent, "critic_parameter_count", None)
    return int(count()) if count is not None else int(agent.parameter_count())


def where_tree(condition: jax.Array, on_true, on_false):
    """Select between two pytrees with a condition broadcast against each leaf's leading axes."""

    def select(a, b):
        c = condition.reshape(condition.shape + (1,) * (jnp.ndim(a) - condition.ndim))
        return jnp.where(c, a, b)

    return jax.tree_util.tree_map(select, on_true, on_false)


def run_if_due(context: UpdateContext, name: str, compute: Callable[[], Any], current):
    """`compute()` where this config has work `name` due, else `current` (pytrees of equal structure).

    The branch is a `lax.cond` on the group-level flag, so it is really skipped when no config of
    the group needs it, also under vmap; configs that do not have it due keep `current`.
    """
    return jax.lax.cond(
        context.group_due[name],
        lambda: where_tree(context.due[name], compute(), current),
        lambda: current,
    )
