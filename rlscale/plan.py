"""From a validated SweepConfig to compiled groups: the one place where shapes are decided.

Configs are sorted by (update slots, batch size) and packed greedily into groups of at most
`max_group_size`, starting a new group when adding a config would push the group's planned
wasted-work fraction past `max_wasted_fraction` or change its update-slot count. Each group gets a
static `GroupSpec` (the compile key) and per-config hyperparameters (arrays with a leading K axis).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from rlscale.agents import make_agent
from rlscale.agents.sac.networks import NetworkConfig
from rlscale.config import RunConfig, SweepConfig
from rlscale.engine import schedule
from rlscale.engine.loop import GroupSpec
from rlscale.engine.types import HyperParams
from rlscale.envs.registry import get_spec

FLOAT_BYTES = 4
# Adam keeps two moments per parameter; the critic also has a target copy.
PARAMETER_COPIES = 3


@dataclasses.dataclass(frozen=True)
class Group:
    """One compiled program and the configs it trains."""

    spec: GroupSpec
    configs: tuple[RunConfig, ...]
    env_steps: int
    """Env steps each config collects."""

    @property
    def planned_wasted_fraction(self) -> float:
        return schedule.planned_wasted_fraction(
            [c.utd for c in self.configs], [c.batch_size for c in self.configs], self.spec.num_envs
        )

    @property
    def grad_updates(self) -> int:
        """Gradient updates all configs of the group apply together."""
        learning_steps = max(self.env_steps - self.spec.learning_starts, 0)
        return int(sum(c.utd * learning_steps for c in self.configs))

    def hparams(self, discount: float, tau: float) -> HyperParams:
        """Per-config hyperparameters, each field of shape [K]."""
        k = len(self.configs)
        return HyperParams(
            learning_rate=jnp.asarray([c.learning_rate for c in self.configs], jnp.float32),
            batch_size=jnp.asarray([c.batch_size for c in self.configs], jnp.int32),
            utd=jnp.asarray([c.utd for c in self.configs], jnp.float32),
            seed=jnp.asarray([c.seed for c in self.configs], jnp.int32),
            discount=jnp.full((k,), discount, jnp.float32),
            tau=jnp.full((k,), tau, jnp.float32),
        )

    def memory_bytes(self, observation_size: int, action_size: int, parameter_count: int) -> int:
        """Estimated device bytes of the group's state plus its largest update's activations."""
        spec = self.spec
        transition_floats = 2 * observation_size + action_size + 2
        replay = spec.buffer_capacity * transition_floats
        params = parameter_count * (PARAMETER_COPIES + 1)
        # Forward and backward activations of one padded batch through actor and twin critics.
        activations = 6 * spec.max_batch_size * spec.network.hidden_width * spec.network.hidden_depth
        return FLOAT_BYTES * spec.num_configs * (replay + params + activations)


@dataclasses.dataclass(frozen=True)
class Plan:
    groups: tuple[Group, ...]
    parameter_count: int
    observation_size: int
    action_size: int

    def memory_bytes(self, group: Group) -> int:
        return group.memory_bytes(self.observation_size, self.action_size, self.parameter_count)

    def summary(self) -> list[dict]:
        """One dict per group: sizes, waste, memory and work estimates (for --dry-run)."""
        return [
            {
                "group": index,
                "configs": len(group.configs),
                "config_ids": [c.config_id for c in group.configs],
                "utd": sorted({c.utd for c in group.configs}),
                "batch_size": sorted({c.batch_size for c in group.configs}),
                "update_slots": group.spec.update_slots,
                "max_batch_size": group.spec.max_batch_size,
                "planned_wasted_fraction": round(group.planned_wasted_fraction, 4),
                "memory_bytes": self.memory_bytes(group),
                "env_steps": group.env_steps * len(group.configs),
                "grad_updates": group.grad_updates,
            }
            for index, group in enumerate(self.groups)
        ]


def make_plan(config: SweepConfig) -> Plan:
    """Split the sweep's configs into compiled groups (see the module docstring)."""
    config.validate()
    env_spec = get_spec(config.env, **config.env_options)
    network = NetworkConfig(config.hidden_width, config.hidden_depth, config.layer_norm)
    agent = make_agent(config.algo, env_spec.observation_size, env_spec.action_size, network)

    runs = sorted(
        config.run_configs(),
        key=lambda c: (schedule.update_slots([c.utd], config.num_envs), c.batch_size, c.config_id),
    )
    packed: list[list[RunConfig]] = []
    for run in runs:
        current = packed[-1] if packed else None
        if current is not None and _fits(current + [run], config):
            current.append(run)
        else:
            packed.append([run])

    groups = tuple(
        Group(
            spec=GroupSpec(
                env=config.env,
                env_options=tuple(sorted(config.env_options.items())),
                algo=config.algo,
                network=network,
                num_configs=len(members),
                num_envs=config.num_envs,
                buffer_capacity=config.buffer_capacity,
                max_batch_size=max(c.batch_size for c in members),
                update_slots=schedule.update_slots([c.utd for c in members], config.num_envs),
                learning_starts=config.learning_starts,
                eval_episodes=config.eval_episodes,
                config_axis=config.config_axis,
            ),
            configs=tuple(members),
            env_steps=config.env_steps,
        )
        for members in packed
    )
    return Plan(groups, agent.parameter_count(), env_spec.observation_size, env_spec.action_size)


def _fits(members: list[RunConfig], config: SweepConfig) -> bool:
    if len(members) > config.max_group_size:
        return False
    slots = {schedule.update_slots([c.utd], config.num_envs) for c in members}
    if len(slots) > 1 and config.max_wasted_fraction < 1.0:
        return False
    waste = schedule.planned_wasted_fraction(
        [c.utd for c in members], [c.batch_size for c in members], config.num_envs
    )
    return waste <= config.max_wasted_fraction + 1e-12


def round_batch_size(value: float, multiple: int = 16) -> int:
    """A fitted (continuous) batch size as an integer: the nearest multiple of `multiple`, >= 1."""
    return int(max(multiple, np.round(value / multiple) * multiple)) if multiple > 1 else max(1, round(value))
