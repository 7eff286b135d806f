"""From a validated SweepConfig to compiled groups: the one place where shapes are decided.

First the config axis, by a rule of the devices the plan is for (`decide_config_axis`; never a
timing, so the same command plans the same groups): a sweep's "auto" becomes "map" on a single CPU
device and "vmap" on GPUs, TPUs or several devices; "vmap" and "map" are kept. The decision is
recorded in the run's manifest, and a resumed run and every executor plan with it. Configs are sorted by (model size, update slots, batch size) and packed greedily
into groups of at most `max_group_size`. Under vmap a new group starts when adding a config would
push the group's planned wasted-work fraction past `max_wasted_fraction` or change its update-slot
count; under map a group wastes nothing whatever its σ and B, so only size splits it, and its
configs update in lanes of equal σ and B (`lane_width`). Configs of
different model sizes (hidden width/depth: different parameter shapes) never share a group. Each
group gets a static `GroupSpec` (the compile key, holding its network) and per-config
hyperparameters (arrays with a leading K axis).
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Sequence

import jax

from rlscale.agents import make_agent
from rlscale.agents.core import HyperParams, critic_parameter_count
from rlscale.agents.spec import NetworkConfig
from rlscale.config import RunConfig, SweepConfig
from rlscale.engine import schedule
from rlscale.engine.spec import AUTO_CONFIG_AXIS, MAP, GroupSpec, resolve_config_axis
from rlscale.envs.registry import get_spec

FLOAT_BYTES = 4
# Adam keeps two moments per parameter; the critic also has a target copy.
PARAMETER_COPIES = 3
# Cost model (`Group.estimated_flops`): an update's forward and backward passes through actor and
# critics cost about 3 x (2 FLOPs per parameter) per batch row; acting costs one forward pass.
UPDATE_FLOPS_PER_PARAMETER_ROW = 6
ACT_FLOPS_PER_PARAMETER = 2
CORE_SATURATING_WIDTH = 256
"""Hidden width from which one update keeps a CPU's cores busy (measured on 2 cores,
benchmarks/README.md): batching configs' updates gains nothing there (lanes of 3 ran 0.97x config by
config at width 256, 1.35x at width 128 and 1.34x at width 64), and vmap's padded rows and idle slots
cost their full price (a mixed group at width 256: 314 useful updates/s under map, 243 under vmap)."""


@dataclasses.dataclass(frozen=True)
class Group:
    """One compiled program and the configs it trains."""

    spec: GroupSpec
    configs: tuple[RunConfig, ...]
    env_steps: int
    """Env steps each config collects."""
    parameter_count: int = 0
    """Parameters of one whole agent of the group (actor(s) + critics, targets excluded): what its
    FLOP and memory estimates count."""
    critic_parameter_count: int = 0
    """N, the model size of the paper's compute law: parameters of one agent's critics (targets
    excluded), or the whole agent's for a plug-in without `critic_parameter_count` (rows: `model_size`)."""

    @property
    def planned_wasted_fraction(self) -> float:
        """Fraction of the computed gradient rows padding and idle slots waste (0 under map)."""
        if self.spec.config_axis == MAP:
            return 0.0
        return schedule.planned_wasted_fraction(
            [c.utd for c in self.configs], [c.batch_size for c in self.configs], self.spec.num_envs
        )

    @property
    def computed_batch_sizes(self) -> list[int]:
        """Per config, the rows one of its computed updates costs: its own B (map) or the group's
        padded largest B (vmap)."""
        if self.spec.config_axis == MAP:
            return [c.batch_size for c in self.configs]
        return [self.spec.max_batch_size] * len(self.configs)

    @property
    def grad_updates(self) -> int:
        """Gradient updates all configs of the group apply together."""
        learning_steps = max(self.env_steps - self.spec.learning_starts, 0)
        return int(sum(c.utd * learning_steps for c in self.configs))

    def estimated_flops(self, parameter_count: int | None = None) -> float:
        """Estimated FLOPs to train the group: the work the compiled program executes.

        Under vmap an update slot runs when any config needs it, and then computes a padded batch
        of `max_batch_size` rows for all K configs, so the group executes about max(utd) *
        learning env steps slots of K * max_batch_size rows; under map config k computes utd_k *
        learning env steps updates of B_k rows (6 FLOPs per parameter per row). Acting adds one
        policy forward pass per env step. Env simulation and evaluation are not modelled: they
        cost the same per env step for every group of a sweep. `parameter_count` defaults to the
        group's own.
        """
        if parameter_count is None:
            parameter_count = self.parameter_count
        learning_steps = max(self.env_steps - self.spec.learning_starts, 0)
        if self.spec.config_axis == MAP:
            rows = sum(c.utd * c.batch_size for c in self.configs) * learning_steps
        else:
            max_utd = max(c.utd for c in self.configs)
            rows = len(self.configs) * self.spec.max_batch_size * max_utd * learning_steps
        acting = len(self.configs) * self.env_steps
        return float(
            parameter_count
            * (UPDATE_FLOPS_PER_PARAMETER_ROW * rows + ACT_FLOPS_PER_PARAMETER * acting)
        )

    def hparams(self, discount: float, tau: float) -> HyperParams:
        """Per-config hyperparameters, each field of shape [K]."""
        return HyperParams.stack(
            [c.learning_rate for c in self.configs],
            [c.batch_size for c in self.configs],
            [c.utd for c in self.configs],
            [c.seed for c in self.configs],
            discount,
            tau,
        )

    def memory_bytes(self, observation_size: int, action_size: int, parameter_count: int | None = None) -> int:
        """Estimated device bytes of the group's state plus its largest update's activations
        (`parameter_count` defaults to the group's own)."""
        spec = self.spec
        if parameter_count is None:
            parameter_count = self.parameter_count
        transition_floats = 2 * observation_size + action_size + 2
        replay = (spec.buffer_capacity + spec.validation_capacity) * transition_floats
        params = parameter_count * (PARAMETER_COPIES + 1)
        # Forward and backward activations and temporaries of one padded batch through actor and
        # twin critics: 12 floats per row, unit and layer, calibrated so that the estimate covers
        # XLA's measured peak (benchmarks/memory.py: 6 gave 0.79 of the peak on CPU).
        activations = 12 * spec.max_batch_size * spec.network.hidden_width * spec.network.hidden_depth
        return FLOAT_BYTES * spec.num_configs * (replay + params + activations)


@dataclasses.dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...]
    observation_size: int
    action_size: int

    critic_counts_are_whole_agent: bool = False
    """The agent has no `critic_parameter_count`: each group's critic_parameter_count (the rows'
    model_size) is its whole agent's parameter count."""

    @property
    def parameter_count(self) -> int:
        """The largest agent's parameter count (each group's own is `Group.parameter_count`)."""
        return max(group.parameter_count for group in self.groups)

    @property
    def critic_parameter_counts(self) -> list[int]:
        """The distinct model sizes N (critic parameters) of the plan's groups, ascending."""
        return sorted({group.critic_parameter_count for group in self.groups})

    def memory_bytes(self, group: Group) -> int:
        return group.memory_bytes(self.observation_size, self.action_size)

    def estimated_flops(self, group: Group) -> float:
        return group.estimated_flops()

    def costliest_first(self) -> list[int]:
        """Group indices by estimated cost, largest first (ties by index): the order in which a
        distributed executor submits them, so the long groups do not start last."""
        costs = [self.estimated_flops(group) for group in self.groups]
        return sorted(range(len(costs)), key=lambda index: (-costs[index], index))

    def summary(self) -> list[dict]:
        """One dict per group: sizes, waste, memory and work estimates (for --dry-run)."""
        return [
            {
                "group": index,
                "configs": len(group.configs),
                "config_ids": [c.config_id for c in group.configs],
                "hidden_width": group.spec.network.hidden_width,
                "hidden_depth": group.spec.network.hidden_depth,
                "critic_parameter_count": group.critic_parameter_count,
                "parameter_count": group.parameter_count,
                "config_axis": group.spec.config_axis,
                "lane_width": group.spec.lane_width,
                "utd": sorted({c.utd for c in group.configs}),
                "batch_size": sorted({c.batch_size for c in group.configs}),
                "update_slots": group.spec.update_slots,
                "max_batch_size": group.spec.max_batch_size,
                "planned_wasted_fraction": round(group.planned_wasted_fraction, 4),
                "memory_bytes": self.memory_bytes(group),
                "env_steps": group.env_steps * len(group.configs),
                "grad_updates": group.grad_updates,
                "estimated_flops": self.estimated_flops(group),
            }
            for index, group in enumerate(self.groups)
        ]


@dataclasses.dataclass(frozen=True)
class AxisDecision:
    """How a sweep's config axis was decided, and for which devices: `rlscale sweep` records it in
    the run manifest (`config_axis`), and a resumed run and every executor plan with it, so the same
    command trains the same groups."""

    requested: str
    """The sweep's `config_axis`: "auto", "vmap" or "map"."""
    config_axis: str
    """What the groups use: "vmap" or "map"."""
    platform: str
    """JAX platform the plan is for ("cpu", "gpu", "tpu"): it decides "auto" and map lanes' widths."""
    num_devices: int
    """Devices one group runs on (several: "auto" is vmap, configs sharded across them)."""
    reason: str

    def applied_to(self, config: SweepConfig) -> SweepConfig:
        """`config` with its config axis made concrete."""
        return dataclasses.replace(config, config_axis=self.config_axis)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "AxisDecision":
        return cls(**{field.name: values[field.name] for field in dataclasses.fields(cls)})


def decide_config_axis(config: SweepConfig, platform: str | None = None, num_devices: int | None = None) -> AxisDecision:
    """The config axis of `config` on `num_devices` devices of `platform` (default: this process's
    JAX backend and local devices), by rule, never by timing: "vmap" and "map" as set; "auto" is
    map on one CPU device (each config only its own updates at its own B, configs of equal σ and B
    batched in lanes where that pays; measured on 2 CPU cores, benchmarks/README.md: 0.96-1.03x of
    vmap's update rate for groups of one σ and B at widths 64 and 256, 1.44x for a mixed-σ group at
    width 256, and at width 64 lanes of 4 ran 1.34x config by config where vmap ran 1.00x) and vmap
    on GPUs, TPUs or several devices (one vectorized program keeps an accelerator busy)."""
    platform = jax.default_backend() if platform is None else platform
    num_devices = jax.local_device_count() if num_devices is None else num_devices
    axis = resolve_config_axis(config.config_axis, platform, num_devices)
    if config.config_axis != AUTO_CONFIG_AXIS:
        reason = "set in the sweep config"
    elif axis == MAP:
        reason = "auto on one cpu device: map, nothing padded or idle, lanes where batching pays"
    else:
        reason = f"auto on {num_devices} {platform} device(s): vmap, one vectorized program per group"
    return AxisDecision(config.config_axis, axis, platform, num_devices, reason)


def make_plan(config: SweepConfig, platform: str | None = None, num_devices: int | None = None) -> Plan:
    """Split the sweep's configs into compiled groups (see the module docstring) for `num_devices`
    devices of `platform` (default: this process's JAX backend and local devices), which decide
    what "auto" config_axis becomes (`decide_config_axis`) and map lanes' widths. Traces each model
    size's agent once to count its parameters; compiles nothing."""
    config.validate()
    decision = decide_config_axis(config, platform, num_devices)
    platform, config_axis = decision.platform, decision.config_axis
    env_spec = get_spec(config.env, **config.env_options)
    runs = config.run_configs()
    # Model sizes in order of first appearance (the grid's outermost axis), each with its network
    # and the agent's parameter counts (whole agent, critics).
    sizes = list(dict.fromkeys(_size(run) for run in runs))
    networks = {size: NetworkConfig(size[0], size[1], config.layer_norm) for size in sizes}
    agent_options = config.agent_options()
    agents = {
        size: make_agent(config.algo, env_spec.observation_size, env_spec.action_size, network, **dict(agent_options))
        for size, network in networks.items()
    }
    parameter_counts = {size: agent.parameter_count() for size, agent in agents.items()}
    critic_counts = {size: critic_parameter_count(agent) for size, agent in agents.items()}
    buffer_capacity = config.resolved_buffer_capacity

    runs = sorted(
        runs,
        key=lambda c: (
            sizes.index(_size(c)),
            schedule.slots_per_iteration([c.utd], config.num_envs),
            c.batch_size,
            c.config_id,
        ),
    )
    packed: list[list[RunConfig]] = []
    for run in runs:
        current = packed[-1] if packed else None
        if current is not None and _fits(current + [run], config, config_axis):
            current.append(run)
        else:
            packed.append([run])

    groups = tuple(
        Group(
            spec=GroupSpec(
                env=config.env,
                env_options=tuple(sorted(config.env_options.items())),
                algo=config.algo,
                network=networks[_size(members[0])],
                agent_options=agent_options,
                num_configs=len(members),
                num_envs=config.num_envs,
                buffer_capacity=buffer_capacity,
                max_batch_size=max(c.batch_size for c in members),
                batch_sizes=tuple(sorted({c.batch_size for c in members})) if config_axis == MAP else (),
                lane_width=lane_width(members, platform) if config_axis == MAP else 1,
                update_slots=schedule.slots_per_iteration([c.utd for c in members], config.num_envs),
                learning_starts=config.learning_starts,
                eval_episodes=config.eval_episodes,
                validation_interval=config.validation_interval,
                config_axis=config_axis,
            ),
            configs=tuple(members),
            env_steps=config.env_steps,
            parameter_count=parameter_counts[_size(members[0])],
            critic_parameter_count=critic_counts[_size(members[0])],
        )
        for members in packed
    )
    whole_agent = not any(hasattr(agent, "critic_parameter_count") for agent in agents.values())
    return Plan(groups, env_spec.observation_size, env_spec.action_size, whole_agent)


def lane_width(members: Sequence[RunConfig], platform: str) -> int:
    """Configs per lane of a map group on `platform`: the largest width that divides the number of
    configs of every (σ, B) among `members`, so that each lane holds configs of one σ and B. On a CPU
    at CORE_SATURATING_WIDTH and wider, where batching gains nothing, lanes of 1 (config by config),
    unless the group is one σ and B: then its one lane updates the configs' states in place instead
    of copying each config's out and back every iteration (1.05x at one update per iteration)."""
    width = math.gcd(*collections.Counter((c.utd, c.batch_size) for c in members).values())
    wide = min(c.hidden_width for c in members) >= CORE_SATURATING_WIDTH
    if platform == "cpu" and wide and width < len(members):
        return 1
    return width


def _size(run: RunConfig) -> tuple[int, int]:
    return run.hidden_width, run.hidden_depth


@dataclasses.dataclass(frozen=True)
class WorkerSchedule:
    """Groups assigned to `num_workers` identical devices, longest estimated cost first, each to
    the least-loaded device (LPT scheduling: the makespan is at most (4/3 - 1/(3m)) of the optimum
    on m devices, Graham 1969)."""

    num_workers: int
    assignments: tuple[tuple[int, ...], ...]
    """Group indices per worker, in the order each worker runs them."""
    loads: tuple[float, ...]
    """Estimated FLOPs per worker."""

    @property
    def makespan(self) -> float:
        """Estimated FLOPs of the busiest worker: the sweep's wall time in FLOPs of one device."""
        return max(self.loads)

    @property
    def speedup(self) -> float:
        """Total work over the makespan: how many times faster than one worker."""
        return sum(self.loads) / self.makespan if self.makespan else 1.0


def schedule_on_workers(plan: Plan, num_workers: int) -> WorkerSchedule:
    """Balance the plan's groups over `num_workers` devices by estimated cost (see WorkerSchedule)."""
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    assignments: list[list[int]] = [[] for _ in range(num_workers)]
    loads = [0.0] * num_workers
    for index in plan.costliest_first():
        worker = min(range(num_workers), key=lambda w: (loads[w], w))
        assignments[worker].append(index)
        loads[worker] += plan.estimated_flops(plan.groups[index])
    return WorkerSchedule(num_workers, tuple(map(tuple, assignments)), tuple(loads))


def _fits(members: list[RunConfig], config: SweepConfig, config_axis: str) -> bool:
    if len(members) > config.max_group_size:
        return False
    if len({_size(c) for c in members}) > 1:
        return False
    if config_axis == MAP:
        return True
    slots = {schedule.slots_per_iteration([c.utd], config.num_envs) for c in members}
    if len(slots) > 1 and config.max_wasted_fraction < 1.0:
        return False
    waste = schedule.planned_wasted_fraction(
        [c.utd for c in members], [c.batch_size for c in members], config.num_envs
    )
    return waste <= config.max_wasted_fraction + 1e-12
