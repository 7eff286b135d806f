"""`GroupSpec`: the static, hashable description of one compiled group (its compile key).

Kept apart from the jitted loop so the planner can build specs without importing it.
"""

from __future__ import annotations

import dataclasses

from rlscale.agents.spec import NetworkConfig

VMAP = "vmap"
MAP = "map"
CONFIG_AXES = (VMAP, MAP)
"""How a group computes its configs' gradient updates (`GroupSpec.config_axis`)."""
AUTO_CONFIG_AXIS = "auto"
"""A sweep's default: the planner picks map on a single CPU device, vmap otherwise."""
VALIDATION_INTERVAL = 10
"""Iterations per validation step (`GroupSpec.validation_interval`): the follow-up paper's
`validation_interval` (Fu, Rybkin et al. 2025, prestonfu/model_scaling train_parallel.py: one
validation env step every 10 training env steps), so a config's validation buffer receives a tenth
as many transitions as its replay."""


def resolve_config_axis(requested: str, platform: str, num_devices: int) -> str:
    """The config axis for a sweep asking for `requested` ("auto", "vmap" or "map") on
    `num_devices` devices of `platform` ("cpu", "gpu", "tpu")."""
    if requested != AUTO_CONFIG_AXIS:
        return requested
    return MAP if platform == "cpu" and num_devices == 1 else VMAP


@dataclasses.dataclass(frozen=True)
class GroupSpec:
    """Static, hashable description of a compiled group: changing any field recompiles."""

    env: str
    """Registry name of the environment."""
    env_options: tuple[tuple[str, str | int | float | bool], ...] = ()
    """Sorted (name, value) options passed to `make_env`."""
    algo: str = "sac"
    network: NetworkConfig = NetworkConfig()
    agent_options: tuple[tuple[str, object], ...] = ()
    """Sorted (name, value) agent options passed to `make_agent` over the agent's preset (e.g.
    BRO's reset_schedule); values are hashable (a TOML list becomes a tuple)."""
    num_configs: int = 1
    """K: configs trained side by side."""
    num_envs: int = 1
    """Parallel environments per config; one iteration collects num_envs transitions per config."""
    buffer_capacity: int = 100_000
    """Replay capacity per config, in transitions (a multiple of num_envs)."""
    max_batch_size: int = 256
    """The largest batch size in the group (vmap: every batch is padded to it)."""
    batch_sizes: tuple[int, ...] = ()
    """map: the group's distinct batch sizes, ascending (one compiled branch each); () stands for
    (max_batch_size,)."""
    lane_width: int = 1
    """map: configs per lane. A map group runs its configs' updates lane after lane, the configs of
    a lane (all of one σ and B) together, batched; it divides the number of configs of every (σ, B)
    in the group. 1: config after config."""
    update_slots: int = 1
    """Gradient-update slots per iteration: ceil(max utd * num_envs)."""
    learning_starts: int = 1000
    """Env steps per config of uniform-random actions before the first update."""
    eval_episodes: int = 5
    """Deterministic-policy episodes per evaluation, run in parallel."""
    validation_interval: int = VALIDATION_INTERVAL
    """Iterations between steps of a config's validation envs (0: none). Each config also runs
    `num_envs` validation envs with the same policy (uniform-random actions during warm-up); they
    take one step every `validation_interval` iterations, starting at iteration 0, into a
    validation buffer the config never trains on, for the TD error on unseen transitions
    (`GroupTrainer.td_errors`). Their transitions are not counted as env steps."""
    config_axis: str = VMAP
    """How the K configs' gradient updates are computed (env steps, acting and evaluation are
    always vectorized over configs):

    - "vmap": update slot j runs for all K configs at once whenever any config has a j-th update
      this iteration, on batches padded to `max_batch_size` and masked. One vectorized program:
      the throughput choice on accelerators, where the K configs fill the device.
    - "map": lane after lane (`lane_width` configs of one σ and B each), every config running exactly
      its own updates at its own batch size (a loop over lanes with real branches, each lane's
      updates batched). Nothing is padded and idle configs cost nothing: the choice on CPUs, where
      a padded row or an idle slot costs as much as a useful one (the planner picks the lane width
      per platform and network width, plan.lane_width).
    """

    @property
    def validation_capacity(self) -> int:
        """Rows of a config's validation buffer: the replay's capacity over `validation_interval`,
        rounded up to a multiple of num_envs, so it spans the same stretch of training as the
        replay (0 without validation)."""
        if not self.validation_interval:
            return 0
        inserts = -(-self.buffer_capacity // (self.validation_interval * self.num_envs))
        return inserts * self.num_envs

    @property
    def sampled_batch_sizes(self) -> tuple[int, ...]:
        """The batch sizes the compiled program draws: each of `batch_sizes` (map) or the padded
        `max_batch_size` (vmap)."""
        if self.config_axis == MAP and self.batch_sizes:
            return self.batch_sizes
        return (self.max_batch_size,)
