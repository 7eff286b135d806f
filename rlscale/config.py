"""What a user writes: a `SweepConfig`, read from TOML or built in Python, validated in full.

Validation collects every problem at once, each naming the field, its value and the allowed range,
and raises one `ConfigError` before anything is compiled or written. The agent (`algo`) and its
options (`[agent]`) are checked against the JAX-free agent registry.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from pathlib import Path
from typing import Any

from rlscale.agents import registry
from rlscale.agents.spec import INT32_MAX
from rlscale.engine.spec import AUTO_CONFIG_AXIS, CONFIG_AXES, VALIDATION_INTERVAL
from rlscale.typed import Reading, read

CONFIG_AXIS_CHOICES = (AUTO_CONFIG_AXIS, *CONFIG_AXES)

MAX_UTD = 64
"""The largest UTD ratio σ a config may ask for."""
AXES = ("utd", "batch_size", "learning_rate", "seed")
TRACKERS = {"tensorboard": "tensorboard", "wandb": "wandb"}
"""Trackers a sweep can feed (`tracker`), each with the module it needs (`pip install 'rlscale[<name>]'`)."""
EXPLICIT_KEYS = (*AXES, "hidden_width", "hidden_depth")
SWEEP_READING = Reading(scalars_as_lists=True)
"""How a sweep file is read: a single value where a list is expected (`utd = 2`) is a one-element list."""
PAPER_REPLAY_CAPACITY = 1_000_000
"""Replay capacity per config of the paper's runs and of BRO (naumix/BiggerRegularizedOptimistic,
train_parallel.py: `replay_buffer_size` 1e6); an unset buffer_capacity follows it
(`SweepConfig.resolved_buffer_capacity`)."""


class _Checks:
    """The messages of a config's failed checks, leaving out those of checks that involve a field in
    `skip` (fields of the wrong type still hold their defaults)."""

    def __init__(self, skip: frozenset[str]):
        self.skip, self.messages = skip, []

    def check(self, ok: bool, message: str, *involved: str) -> None:
        if not ok and not self.skip.intersection(involved):
            self.messages.append(message)


class ConfigError(ValueError):
    """A sweep configuration is invalid; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid sweep config:\n  - " + "\n  - ".join(errors))


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One trained configuration: a point of the grid."""

    config_id: int
    utd: float
    batch_size: int
    learning_rate: float
    seed: int
    hidden_width: int = 256
    """Units per hidden layer of this config's actor and critics (its model size)."""
    hidden_depth: int = 2
    """Hidden layers of this config's actor and critics."""


MODEL_SIZE_KEYS = ("hidden_width", "hidden_depth")


@dataclasses.dataclass
class SweepConfig:
    """A grid (or explicit list) of configs trained on one env with one algorithm."""

    env: str = "pendulum"
    """Registry name of the environment (`rlscale envs` lists them), a plug-in env, or a reference:
    "brax-class:package.module:ClassName", "playground:<Name>", "gymnax:<Name>"."""
    env_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Options passed to the env constructor, e.g. {backend = "mjx"} for brax envs."""
    algo: str = "sac"
    """Agent: a name of the agent registry (rlscale.agents.agent_names(): sac, bro, pql, and any
    registered or installed plug-in agent)."""
    agent: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Options of the agent over its preset, the sweep file's `[agent]` table (e.g.
    {reset_schedule = "env_steps"} for BRO); the options and presets are documented in each agent's
    options module (rlscale/agents/<algo>/options.py). Static: part of every group's compile key."""
    utd: list[float] = dataclasses.field(default_factory=lambda: [1.0])
    """Grid axis: updates-to-data ratios sigma (gradient updates per env transition), > 0, <= 64."""
    batch_size: list[int] = dataclasses.field(default_factory=lambda: [256])
    """Grid axis: batch sizes B (any integer >= 1)."""
    learning_rate: list[float] = dataclasses.field(default_factory=lambda: [3e-4])
    """Grid axis: learning rates eta, in (0, 1)."""
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0])
    """Grid axis: RNG seeds (distinct integers >= 0)."""
    configs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Explicit configs instead of the product grid: each a table with utd, batch_size,
    learning_rate and optionally seed (default: every entry of `seeds`)."""
    env_steps: int = 20_000
    """Env steps per config (transitions collected), a multiple of eval_interval."""
    eval_interval: int = 1_000
    """Env steps between evaluations; a multiple of num_envs."""
    eval_episodes: int = 5
    """Deterministic-policy episodes per evaluation."""
    num_envs: int = 1
    """Parallel environments per config. PQL's mixed exploration noise needs at least 2 (one std
    per env, from noise_scale_min to noise_scale_max: rlscale/agents/pql/options.py)."""
    learning_starts: int = 1_000
    """Env steps of uniform-random actions before the first update."""
    buffer_capacity: int | None = None
    """Replay capacity per config (transitions); >= the largest batch size, multiple of num_envs.
    Unset: the paper's 1M-transition replay as far as it matters, min(1M, the env_steps a config
    collects), so that nothing is evicted that a 1M buffer would keep and no row is allocated that
    would stay empty (`resolved_buffer_capacity`)."""
    validation_interval: int = VALIDATION_INTERVAL
    """TD-overfitting: each config also runs num_envs validation envs with its policy, stepped once
    every `validation_interval` env-clock iterations into a validation buffer it never trains on, so
    the buffer gets 1/validation_interval as many transitions as the replay (the follow-up paper's
    10); rows carry the TD error on both (`td_error_train`, `td_error_validation`). Validation
    transitions are not counted in env_step (as the follow-up's). 0: no validation envs."""
    hidden_width: int | None = None
    """Units per hidden layer of the critics (and of the actor, for SAC and PQL). Unset: the agent's
    preset (SAC and PQL 256, BRO's BroNet 512; a plug-in's `AgentEntry.hidden_width`)."""
    hidden_depth: int = 2
    """Hidden layers of actor and critics."""
    layer_norm: bool = False
    """Layer norm after each hidden layer."""
    model_sizes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """Grid axis (outermost): model sizes, each a table {hidden_width = W, hidden_depth = D} (a
    missing key takes hidden_width / hidden_depth above). Empty: the one size given by
    hidden_width and hidden_depth. Each size is planned into its own compiled groups."""
    discount: float = 0.99
    """Discount factor gamma, in (0, 1]."""
    tau: float | None = None
    """Polyak rate of the target critic, in (0, 1]; unset: the agent's preset (SAC and BRO 0.005,
    PQL 0.05)."""
    max_group_size: int = 64
    """Most configs one compiled group trains together."""
    max_wasted_fraction: float = 0.5
    """Planner: largest fraction of gradient work a group may waste on padding and masking before
    it is split (1.0 puts everything that fits max_group_size into one group)."""
    config_axis: str = "auto"
    """How a group computes its configs' updates: "vmap" (all configs at once, batches padded to
    the group's largest B: the choice on GPUs/TPUs), "map" (each config only its own updates at its
    own B, configs of equal σ and B batched in lanes: nothing wasted, the choice on CPUs), or
    "auto" (map on a single CPU device, vmap otherwise; the planner records which)."""
    checkpoint_every_env_steps: int = 0
    """Write a full-state checkpoint of the running group at the first evaluation at least this
    many env steps after the previous one (0: not by env steps). A group's final state is always
    checkpointed. May change when a sweep is resumed."""
    checkpoint_every_seconds: float = 600.0
    """Write a checkpoint at the first evaluation at least this many wall-clock seconds after the
    previous one (0: not by time). May change when a sweep is resumed."""
    tracker: list[str] = dataclasses.field(default_factory=list)
    """Where each config's curves are also logged as the rows are written (run/trackers.py):
    "tensorboard" (one TensorBoard run per config under OUT/tensorboard/) and/or "wandb" (one
    Weights & Biases run per config, group = the sweep, files under OUT/wandb/; WANDB_MODE=offline
    works without network). A tracker that fails is stopped with one warning; the sweep and its rows
    go on. May change when a sweep is resumed."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "SweepConfig":
        """Build from a plain dict (e.g. parsed TOML); raises one ConfigError listing every problem:
        unknown keys, values of the wrong type, and every range or consistency error of the rest
        (checks that involve a field of the wrong type are left out, so no message is about a
        default the user did not write)."""
        config, errors = read(cls, values, SWEEP_READING, check=lambda config, mistyped: config.errors(skip=mistyped))
        if errors:
            raise ConfigError(errors)
        return config

    @classmethod
    def from_toml(cls, path: str | Path, overrides: list[str] = ()) -> "SweepConfig":
        """Read a TOML file and apply `key=value` overrides (values parsed as TOML). A file that
        sets no field is refused (it would silently run the built-in defaults)."""
        name = f"config file {str(path)!r}"
        values = read_toml(Path(path), name)
        if not values:
            raise ConfigError([
                f"{name} sets no field (it is empty or only comments); a sweep file names at least "
                "what it trains, e.g. env = \"pendulum\" (README, 'Sweep config')"
            ])
        for key, value in parse_overrides(overrides).items():
            if isinstance(value, dict) and isinstance(values.get(key), dict):
                values[key] = {**values[key], **value}  # `agent.x=1` changes one option
            else:
                values[key] = value
        return cls.from_dict(values)

    def validate(self) -> None:
        """Raise ConfigError listing every invalid field (no-op when all are valid)."""
        errors = self.errors()
        if errors:
            raise ConfigError(errors)

    def errors(self, skip: frozenset[str] = frozenset()) -> list[str]:
        """Every range and consistency problem of the config, except those of checks that involve a
        field in `skip`."""
        checks = _Checks(skip)
        self._check_env(checks)
        self._check_agent(checks)
        self._check_int32(checks)
        self._check_axes(checks)
        self._check_explicit_configs_and_model_sizes(checks)
        self._check_steps_and_replay(checks)
        self._check_network_and_targets(checks)
        self._check_planning_and_logging(checks)
        return checks.messages

    def _check_env(self, checks: "_Checks") -> None:
        """The env exists (a registered name, a plug-in or a loadable reference) and takes the options."""
        from rlscale.envs.references import EnvReferenceError
        from rlscale.envs.registry import UnknownEnvError, get_spec

        if "env" in checks.skip:
            return
        try:
            get_spec(self.env, **({} if "env_options" in checks.skip else self.env_options))
        except UnknownEnvError as error:
            checks.messages.append(error.short)
        except EnvReferenceError as error:
            checks.messages.append(str(error))
        except ValueError as error:
            checks.messages.append(f"env_options: {error}")

    def _check_agent(self, checks: "_Checks") -> None:
        """The algo exists, its `[agent]` options are valid, and they allow `num_envs`."""
        algo_error = registry.algo_error(self.algo)
        checks.check(algo_error is None, algo_error or "", "algo")
        if checks.skip.intersection(("algo", "agent")):
            return
        option_errors = registry.option_errors(self.algo, self.agent)
        checks.messages.extend(option_errors)
        if algo_error is None and not option_errors and "num_envs" not in checks.skip and self.num_envs >= 1:
            checks.messages.extend(registry.num_envs_errors(self.algo, self.agent, self.num_envs))

    def _check_int32(self, checks: "_Checks") -> None:
        """Every integer field (and integer list) fits the engine's 32-bit integers."""
        for name in INT_FIELDS:
            value = getattr(self, name)
            for item in value if isinstance(value, list) else [value]:
                checks.check(
                    item is None or item <= INT32_MAX,
                    f"{name} must be at most {INT32_MAX} (the engine holds it as a 32-bit integer), got {item}",
                    name,
                )

    def _check_axes(self, checks: "_Checks") -> None:
        """The grid axes: each non-empty, each value in range, the seeds distinct."""
        for name in ("utd", "batch_size", "learning_rate", "seeds"):
            checks.check(len(getattr(self, name)) > 0, f"{name} must list at least one value", name)
        for value in self.utd:
            checks.check(0 < value <= MAX_UTD, f"utd must be in (0, {MAX_UTD}], got {value}", "utd")
        for value in self.batch_size:
            checks.check(value >= 1, f"batch_size must be an integer >= 1, got {value}", "batch_size")
        for value in self.learning_rate:
            checks.check(0 < value < 1 and math.isfinite(value), f"learning_rate must be in (0, 1), got {value}", "learning_rate")
        for value in self.seeds:
            checks.check(value >= 0, f"seeds must be integers >= 0, got {value}", "seeds")
        checks.check(len(set(self.seeds)) == len(self.seeds), f"seeds must be distinct, got {self.seeds}", "seeds")

    def _check_explicit_configs_and_model_sizes(self, checks: "_Checks") -> None:
        """Each explicit config and each model size, and that sizes come from one of the two."""
        if "configs" not in checks.skip:
            for index, entry in enumerate(self.configs):
                checks.messages.extend(_explicit_config_errors(index, entry))
        if "model_sizes" not in checks.skip and not checks.skip.intersection(MODEL_SIZE_KEYS):
            checks.messages.extend(_model_size_errors(self.model_sizes, self.resolved_hidden_width, self.hidden_depth))
        if self.model_sizes and not checks.skip.intersection(("model_sizes", "configs")):
            checks.messages.extend(
                f"configs[{index}].{key} ({entry[key]!r}) cannot be combined with model_sizes: "
                "give sizes either per explicit config or as the model_sizes axis"
                for index, entry in enumerate(self.configs)
                for key in MODEL_SIZE_KEYS
                if key in entry
            )

    def _check_steps_and_replay(self, checks: "_Checks") -> None:
        """Env counts, evaluation and run lengths, and the replay's capacity against them."""
        check = checks.check
        check(self.num_envs >= 1, f"num_envs must be >= 1, got {self.num_envs}", "num_envs")
        check(self.eval_interval >= 1, f"eval_interval must be >= 1, got {self.eval_interval}", "eval_interval")
        check(
            self.eval_interval % max(self.num_envs, 1) == 0,
            f"eval_interval ({self.eval_interval}) must be a multiple of num_envs ({self.num_envs})",
            "eval_interval",
            "num_envs",
        )
        check(
            self.env_steps >= self.eval_interval and self.env_steps % max(self.eval_interval, 1) == 0,
            f"env_steps ({self.env_steps}) must be a positive multiple of eval_interval ({self.eval_interval})",
            "env_steps",
            "eval_interval",
        )
        check(self.eval_episodes >= 1, f"eval_episodes must be >= 1, got {self.eval_episodes}", "eval_episodes")
        check(self.learning_starts >= 0, f"learning_starts must be >= 0, got {self.learning_starts}", "learning_starts")
        largest_batch = self._largest_batch_size()
        check(
            self.buffer_capacity is None or self.buffer_capacity >= max(largest_batch, 1),
            f"buffer_capacity ({self.buffer_capacity}) must be >= the largest batch_size ({largest_batch})",
            "buffer_capacity",
            "batch_size",
            "configs",
        )
        check(
            self.buffer_capacity is None or self.buffer_capacity % max(self.num_envs, 1) == 0,
            f"buffer_capacity ({self.buffer_capacity}) must be a multiple of num_envs ({self.num_envs})",
            "buffer_capacity",
            "num_envs",
        )
        check(
            self.validation_interval >= 0,
            f"validation_interval must be an integer >= 0 (0: no validation buffer), got {self.validation_interval}",
            "validation_interval",
        )

    def _check_network_and_targets(self, checks: "_Checks") -> None:
        """The network's size, the discount and the target critic's Polyak rate."""
        check = checks.check
        check(self.hidden_width is None or self.hidden_width >= 1, f"hidden_width must be >= 1, got {self.hidden_width}", "hidden_width")
        check(self.hidden_depth >= 1, f"hidden_depth must be >= 1, got {self.hidden_depth}", "hidden_depth")
        check(0 < self.discount <= 1, f"discount must be in (0, 1], got {self.discount}", "discount")
        check(self.tau is None or 0 < self.tau <= 1, f"tau must be in (0, 1], got {self.tau}", "tau")

    def _check_planning_and_logging(self, checks: "_Checks") -> None:
        """The planner's limits, the config axis, checkpoint intervals and trackers."""
        check = checks.check
        check(self.max_group_size >= 1, f"max_group_size must be >= 1, got {self.max_group_size}", "max_group_size")
        check(
            0 <= self.max_wasted_fraction <= 1,
            f"max_wasted_fraction must be in [0, 1], got {self.max_wasted_fraction}",
            "max_wasted_fraction",
        )
        check(
            self.checkpoint_every_env_steps >= 0,
            f"checkpoint_every_env_steps must be >= 0, got {self.checkpoint_every_env_steps}",
            "checkpoint_every_env_steps",
        )
        check(
            self.checkpoint_every_seconds >= 0 and math.isfinite(self.checkpoint_every_seconds),
            f"checkpoint_every_seconds must be a finite number >= 0, got {self.checkpoint_every_seconds}",
            "checkpoint_every_seconds",
        )
        check(
            self.config_axis in CONFIG_AXIS_CHOICES,
            f"config_axis must be one of {CONFIG_AXIS_CHOICES}, got {self.config_axis!r}",
            "config_axis",
        )
        if "tracker" not in checks.skip:
            checks.messages.extend(_tracker_errors(self.tracker))

    @property
    def resolved_tau(self) -> float:
        """`tau`, or the agent's preset when unset."""
        if self.tau is not None:
            return self.tau
        return registry.get_entry(self.algo).tau

    @property
    def resolved_hidden_width(self) -> int:
        """`hidden_width`, or the agent's preset when unset (SAC and PQL 256, BRO 512)."""
        if self.hidden_width is not None:
            return self.hidden_width
        if registry.algo_error(self.algo) is not None:
            return registry.DEFAULT_HIDDEN_WIDTH  # reported by validation; any width checks the rest
        return registry.get_entry(self.algo).hidden_width

    @property
    def resolved_buffer_capacity(self) -> int:
        """`buffer_capacity`, or when unset the paper's 1M-transition replay as far as it matters:
        min(PAPER_REPLAY_CAPACITY, env_steps), the largest multiple of num_envs, and at least the
        largest batch. A run of at most 1M env steps then never evicts (a replay's samples depend
        only on what it holds, so this is exactly a 1M buffer), without allocating 1M rows for a
        shorter run."""
        if self.buffer_capacity is not None:
            return self.buffer_capacity
        num_envs = max(self.num_envs, 1)
        capacity = min(PAPER_REPLAY_CAPACITY, self.env_steps) // num_envs * num_envs
        return max(capacity, -(-max(self._largest_batch_size(), 1) // num_envs) * num_envs)

    def _uses_default_width(self) -> bool:
        """Whether some config's width is `hidden_width` (not one of model_sizes or its own)."""
        if self.model_sizes:
            return any("hidden_width" not in entry for entry in self.model_sizes)
        return not self.configs or any("hidden_width" not in entry for entry in self.configs)

    def _largest_batch_size(self) -> int:
        """The largest batch size trained (0 when none is valid): of the explicit configs when given
        (the grid axes are then unused and left at their defaults), else of the batch_size axis."""
        if self.configs:
            return max((c["batch_size"] for c in self.configs if isinstance(c.get("batch_size"), int)), default=0)
        return max(self.batch_size, default=0)

    def default_notes(self) -> list[str]:
        """One line per default this sweep takes from the paper or its agent's preset because the
        field is unset, and a line when each config collects more transitions than its replay holds
        (for the manifest, the dry run and the run's first lines). Call on a validated config."""
        notes = []
        if self.hidden_width is None and self._uses_default_width():
            notes.append(
                f"hidden_width unset: {self.resolved_hidden_width}, the {self.algo} preset "
                "(BRO's BroNet 512; SAC's 256 as in the paper's Gym runs)"
            )
        if self.tau is None:
            notes.append(f"tau unset: {self.resolved_tau:g}, the {self.algo} preset")
        capacity = self.resolved_buffer_capacity
        if self.buffer_capacity is None:
            notes.append(
                f"buffer_capacity unset: {capacity} transitions per config, the paper's 1M-transition "
                f"replay (BRO's) as far as this run fills it (min(1M, env_steps {self.env_steps}))"
            )
        if self.env_steps > capacity:
            notes.append(
                f"replay: each config collects {self.env_steps} transitions, more than its "
                f"buffer_capacity {capacity}: the oldest are evicted from env step {capacity + 1} on"
            )
        return notes

    def agent_options(self) -> tuple[tuple[str, Any], ...]:
        """The `[agent]` options as sorted, hashable (name, value) pairs (lists become tuples), as a
        group's compile key holds them. Call on a validated config."""
        built = registry.build_agent_options(self.algo, self.agent)
        return tuple(sorted((name, getattr(built, name)) for name in self.agent))

    def model_size_list(self) -> list[tuple[int, int]]:
        """The sweep's model sizes as (hidden_width, hidden_depth), in `model_sizes` order (the one
        scalar size when `model_sizes` is empty)."""
        width = self.resolved_hidden_width
        if not self.model_sizes:
            return [(width, self.hidden_depth)]
        return [
            (int(entry.get("hidden_width", width)), int(entry.get("hidden_depth", self.hidden_depth)))
            for entry in self.model_sizes
        ]

    def run_configs(self) -> list[RunConfig]:
        """Every config of the sweep, numbered 0..n-1 in grid order (model size, utd, B, eta, seed);
        the model size is the outermost axis."""
        points = []
        for width, depth in self.model_size_list():
            if self.configs:
                points += [
                    (
                        c["utd"],
                        c["batch_size"],
                        c["learning_rate"],
                        seed,
                        c.get("hidden_width", width),
                        c.get("hidden_depth", depth),
                    )
                    for c in self.configs
                    for seed in ([c["seed"]] if "seed" in c else self.seeds)
                ]
            else:
                points += [
                    (*point, width, depth)
                    for point in itertools.product(self.utd, self.batch_size, self.learning_rate, self.seeds)
                ]
        return [
            RunConfig(i, float(u), int(b), float(lr), int(s), int(w), int(d))
            for i, (u, b, lr, s, w, d) in enumerate(points)
        ]

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        if not values["model_sizes"]:
            # Absent when unused, so manifests (and resumption checks) of single-size sweeps read
            # as before the axis existed.
            del values["model_sizes"]
        if not values["agent"]:
            del values["agent"]  # likewise for sweeps without agent options
        if not values["tracker"]:
            del values["tracker"]  # likewise for sweeps without a tracker
        if registry.algo_error(values["algo"]) is None:
            # Unset fields as the sweep trains them (default_notes says where each came from).
            values["tau"] = self.resolved_tau
            values["hidden_width"] = self.resolved_hidden_width
            values["buffer_capacity"] = self.resolved_buffer_capacity
        return values


INT_FIELDS = tuple(
    field.name for field in dataclasses.fields(SweepConfig) if field.type in ("int", "int | None", "list[int]")
)
"""The integer fields (and integer lists) of a sweep: each must fit a 32-bit integer (INT32_MAX)."""


def read_toml(path: Path, name: str) -> dict[str, Any]:
    """The table of the TOML file at `path`; one ConfigError naming it as `name` when it does not
    exist, cannot be read, is not UTF-8 text (TOML files are) or is not valid TOML."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{name} does not exist"]) from None
    except OSError as error:
        raise ConfigError([f"{name} cannot be read: {error.strerror or error}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([
            f"{name} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); TOML "
            "files are UTF-8: save it with that encoding"
        ]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{name} is not valid TOML: {error}"]) from None


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """['utd=[1,2]', 'env_steps=5000', 'agent.reset_schedule=none'] -> {'utd': [1, 2],
    'env_steps': 5000, 'agent': {'reset_schedule': 'none'}} (values in TOML syntax, bare words
    taken as strings; `table.key` sets one key of a table field)."""
    values = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError([f"override {item!r} must look like key=value"])
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        table, dot, name = key.strip().partition(".")
        if dot:
            values.setdefault(table, {})[name] = value
        else:
            values[table] = value
    return values


def _explicit_config_errors(index: int, entry: dict[str, Any]) -> list[str]:
    errors = []
    for key in entry:
        if key not in EXPLICIT_KEYS:
            errors.append(f"configs[{index}]: unknown key {key!r}; allowed: {', '.join(EXPLICIT_KEYS)}")
    for key in MODEL_SIZE_KEYS:
        if key in entry and not _is_int_at_least(entry[key], 1):
            errors.append(f"configs[{index}].{key} must be an integer >= 1, got {entry[key]!r}")
    for key in ("utd", "batch_size", "learning_rate"):
        if key not in entry:
            errors.append(f"configs[{index}]: missing {key!r}")
    utd, batch, rate = entry.get("utd", 1), entry.get("batch_size", 1), entry.get("learning_rate", 1e-3)
    if not (isinstance(utd, (int, float)) and 0 < utd <= MAX_UTD):
        errors.append(f"configs[{index}].utd must be in (0, {MAX_UTD}], got {utd!r}")
    if not _is_int_at_least(batch, 1):
        errors.append(f"configs[{index}].batch_size must be an integer >= 1, got {batch!r}")
    if not (isinstance(rate, (int, float)) and 0 < rate < 1):
        errors.append(f"configs[{index}].learning_rate must be in (0, 1), got {rate!r}")
    if "seed" in entry and not _is_int_at_least(entry["seed"], 0):
        errors.append(f"configs[{index}].seed must be an integer >= 0, got {entry['seed']!r}")
    errors += _too_large_errors(f"configs[{index}]", entry, ("batch_size", "seed", *MODEL_SIZE_KEYS))
    return errors


def _is_int_at_least(value: Any, low: int) -> bool:
    """Whether `value` is an integer (not a bool) >= low."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _too_large_errors(prefix: str, entry: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """A message for each integer of `entry` under `keys` above INT32_MAX."""
    return [
        f"{prefix}.{key} must be at most {INT32_MAX} (the engine holds it as a 32-bit integer), got {entry[key]}"
        for key in keys
        if _is_int_at_least(entry.get(key), INT32_MAX + 1)
    ]


def _tracker_errors(trackers: list) -> list[str]:
    """An unknown tracker name, a name given twice, or a tracker whose library is not installed."""
    import importlib.util

    errors = []
    for name in trackers:
        if name not in TRACKERS:
            errors.append(f"tracker must list names of {tuple(TRACKERS)}, got {name!r}")
        elif importlib.util.find_spec(TRACKERS[name]) is None:
            errors.append(f"tracker {name!r} needs the {TRACKERS[name]} package: pip install 'rlscale[{name}]'")
    if len(set(map(str, trackers))) != len(trackers):
        errors.append(f"tracker must list each tracker once, got {trackers}")
    return errors


def _model_size_errors(model_sizes: list[dict[str, Any]], width: int, depth: int) -> list[str]:
    errors = []
    seen: dict[tuple, int] = {}
    for index, entry in enumerate(model_sizes):
        if not isinstance(entry, dict):
            errors.append(f"model_sizes[{index}] must be a table like {{hidden_width = 256, hidden_depth = 2}}, got {entry!r}")
            continue
        for key in entry:
            if key not in MODEL_SIZE_KEYS:
                errors.append(f"model_sizes[{index}]: unknown key {key!r}; allowed: {', '.join(MODEL_SIZE_KEYS)}")
        valid = True
        for key in MODEL_SIZE_KEYS:
            if key in entry and not _is_int_at_least(entry[key], 1):
                errors.append(f"model_sizes[{index}].{key} must be an integer >= 1, got {entry[key]!r}")
                valid = False
        too_large = _too_large_errors(f"model_sizes[{index}]", entry, MODEL_SIZE_KEYS)
        errors += too_large
        valid = valid and not too_large
        if valid:
            key = (entry.get("hidden_width", width), entry.get("hidden_depth", depth))
            if key in seen:
                errors.append(
                    f"model_sizes[{index}] ({entry!r}) repeats model_sizes[{seen[key]}]: both are "
                    f"hidden_width={key[0]}, hidden_depth={key[1]}; list each size once"
                )
            else:
                seen[key] = index
    return errors
