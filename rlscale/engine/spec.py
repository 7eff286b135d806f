"""`GroupSpec`: the static, hashable description of one compiled group (its compile key).

Kept apart from the jitted loop so the planner can build specs without importing it.
"""

from __future__ import annotations

import dataclasses

from rlscale.agents.spec import NetworkConfig


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
    """Padded batch size: the largest batch size in the group."""
    update_slots: int = 1
    """Gradient-update slots per iteration: ceil(max utd * num_envs)."""
    learning_starts: int = 1000
    """Env steps per config of uniform-random actions before the first update."""
    eval_episodes: int = 5
    """Deterministic-policy episodes per evaluation, run in parallel."""
    config_axis: str = "vmap"
    """How the K configs' agent computations are batched: "vmap" (one vectorized program, the
    throughput choice on accelerators) or "map" (a sequential `lax.map` over configs inside the same
    compiled program: each config runs exactly the computation it would run alone)."""
