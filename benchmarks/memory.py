"""Memory: device bytes per config and per replay transition, and the largest K that fits.

State bytes are exact (shapes of `GroupTrainer.init`, via `jax.eval_shape`). The planner's estimate
(`Plan.memory_bytes`: replay + parameters with optimizer and target copies + one update's
activations) gives the largest K that fits the device memory (an accelerator's `bytes_limit`, or
the host's RAM for the CPU). It is checked against the measured peak of every group the sweep
benchmark compiled: XLA's memory analysis of its train_chunk (arguments + outputs + temporaries -
donated buffers).

    python -m benchmarks.run --only memory
"""

from __future__ import annotations

import dataclasses
import os

import jax
import numpy as np

from benchmarks.common import BenchSize, bench_configs, sweep_config
from rlscale.engine.loop import get_trainer
from rlscale.plan import make_plan

PAPER_REPLAY_CAPACITY = 1_000_000
"""Replay capacity of the largest-K estimate at paper scale (transitions per config)."""


def device_memory_bytes() -> int:
    """The default device's memory limit; the host's physical RAM for a CPU."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _shape_bytes(tree) -> int:
    return int(sum(np.prod(leaf.shape) * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(tree)))


def _planner_bytes_per_config(size: BenchSize) -> int:
    sweep = sweep_config(size, bench_configs(size, 1), size.env_steps)
    plan = make_plan(sweep)
    return plan.memory_bytes(plan.groups[0])


def run(size: BenchSize, sweep: dict) -> dict:
    """Bytes per config / per transition, largest K, and planner estimate vs measured peak per K."""
    config = sweep_config(size, bench_configs(size, 1), size.env_steps)
    plan = make_plan(config)
    (group,) = plan.groups
    state = jax.eval_shape(get_trainer(group.spec).init, group.hparams(config.discount, config.resolved_tau))
    replay_bytes = _shape_bytes(state.replay.data)
    device_bytes = device_memory_bytes()
    per_config = plan.memory_bytes(group)
    per_config_paper = _planner_bytes_per_config(dataclasses.replace(size, buffer_capacity=PAPER_REPLAY_CAPACITY))
    checks = []
    for row in sweep["groups"]:
        k_sweep = sweep_config(size, bench_configs(size, row["num_configs"]), size.env_steps)
        k_plan = make_plan(k_sweep)
        estimate = k_plan.memory_bytes(k_plan.groups[0])
        checks.append(
            {
                "num_configs": row["num_configs"],
                "state_bytes": row["state_bytes"],
                "planner_estimate_bytes": estimate,
                "measured_peak_bytes": row["compiled_peak_bytes"],
                "estimate_over_measured": estimate / row["compiled_peak_bytes"],
            }
        )
    return {
        "state_bytes_per_config": _shape_bytes(state),
        "replay_bytes_per_transition": replay_bytes / size.buffer_capacity,
        "agent_bytes_per_config": _shape_bytes(state.agent),
        "replay_capacity": size.buffer_capacity,
        "device_memory_bytes": device_bytes,
        "planner_bytes_per_config": per_config,
        "max_configs_planner": device_bytes // per_config,
        "paper_replay_capacity": PAPER_REPLAY_CAPACITY,
        "planner_bytes_per_config_paper_replay": per_config_paper,
        "max_configs_planner_paper_replay": device_bytes // per_config_paper,
        "checks": checks,
    }
