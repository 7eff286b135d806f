"""Gradient-update throughput of every agent (SAC, BRO, PQL) for K=1 and K=8 configs on one device.

For each algorithm and K, one group trains on `size.env` with K configs that differ in learning
rate, batch size and seed (UTD 1, so slots are never skipped): chunks of `size.eval_interval` env
steps compile and fill the replay past learning_starts, then one more such chunk is timed.
Actor and critic both use `size.hidden_width` with 2 hidden layers (BRO: 2 residual blocks).
PQL runs 16 envs per config with UTD 1/16 (one critic update per iteration), as PQL collects
from many envs per update.

`python -m benchmarks.agents_throughput [smoke|cpu|gpu]` prints one JSON line per measurement.
"""

from __future__ import annotations

import json
import sys
import time

import jax
import numpy as np

from benchmarks.common import SIZES, BenchSize
from rlscale.agents import agent_names
from rlscale.agents.core import HyperParams
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import GroupSpec

GROUP_SIZES = (1, 8)
PQL_NUM_ENVS = 16


def _hparams(size: BenchSize, num_configs: int, utd: float) -> HyperParams:
    rates = [size.learning_rates[k % len(size.learning_rates)] for k in range(num_configs)]
    batches = [size.batch_sizes[k % len(size.batch_sizes)] for k in range(num_configs)]
    return HyperParams.stack(rates, batches, [utd] * num_configs, list(range(num_configs)))


def measure(algo: str, num_configs: int, size: BenchSize) -> dict:
    """Updates per second (all configs together) of one timed chunk, after warm-up chunks of the same length."""
    network = NetworkConfig(hidden_width=size.hidden_width, hidden_depth=2)
    num_envs = PQL_NUM_ENVS if algo == "pql" else size.num_envs
    utd = 1.0 / num_envs
    options = () if algo == "sac" else (("actor_hidden_depth", 2), ("actor_hidden_width", size.hidden_width))
    spec = GroupSpec(
        env=size.env,
        algo=algo,
        network=network,
        agent_options=options,
        num_configs=num_configs,
        num_envs=num_envs,
        buffer_capacity=size.buffer_capacity - size.buffer_capacity % num_envs,
        max_batch_size=max(size.batch_sizes),
        update_slots=1,
        learning_starts=size.learning_starts,
        eval_episodes=size.eval_episodes,
    )
    trainer = get_trainer(spec)
    state = trainer.init(_hparams(size, num_configs, utd))
    # Warm-up chunks of the timed length (one compile) until learning has started.
    iterations = size.eval_interval // num_envs
    warmup_chunks = -(-(size.learning_starts // num_envs + 1) // iterations)
    start = time.perf_counter()
    for _ in range(warmup_chunks):
        state, _ = trainer.train_chunk(state, iterations)
    jax.block_until_ready(state)
    compile_and_warmup_s = time.perf_counter() - start
    start = time.perf_counter()
    state, stats = trainer.train_chunk(state, iterations)
    jax.block_until_ready(state)
    seconds = time.perf_counter() - start
    updates = int(np.asarray(stats.grad_steps).sum())
    return {
        "benchmark": "agents_throughput",
        "size": size.name,
        "algo": algo,
        "num_configs": num_configs,
        "num_envs": num_envs,
        "parameter_count": trainer.agent.parameter_count(),
        "updates": updates,
        "seconds": round(seconds, 4),
        "updates_per_s": updates / seconds,
        "env_steps_per_s": num_configs * iterations * num_envs / seconds,
        "compile_and_warmup_s": round(compile_and_warmup_s, 2),
        "device": jax.devices()[0].device_kind,
    }


def run(size: BenchSize) -> list[dict]:
    """One row per (algorithm, K in GROUP_SIZES)."""
    return [measure(algo, k, size) for algo in agent_names() for k in GROUP_SIZES]


if __name__ == "__main__":
    preset = SIZES[sys.argv[1] if len(sys.argv) > 1 else "smoke"]
    for row in run(preset):
        print(json.dumps(row))
