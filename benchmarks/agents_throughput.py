"""Gradient-update throughput of every agent (SAC, BRO, PQL) for K=1 and K=8 configs on one device.

For each agent and K, one group trains on `size.env` with K configs that differ in learning
rate, batch size and seed (UTD 1, so slots are never skipped): chunks of `size.eval_interval` env
steps compile and fill the replay past learning_starts, then `size.throughput_repetitions` more
such chunks are timed one by one and the median chunk reported.
Actor and critic both use `size.hidden_width` with 2 hidden layers (BRO: 2 residual blocks).
PQL runs 16 envs per config with UTD 1/16 (one critic update per iteration), as PQL collects
from many envs per update. Every agent runs its preset; BRO also with a scalar critic
(critic_quantiles = 0, pessimism = 1), the critic it had before its quantile preset.

Skipped work: BRO's resets are never due in the timed chunk and PQL's actor update is due every
second update. The engine decides both at group level (a real `cond`). The "per-config branch"
rows run the same agent with the decision taken per config inside the vmap instead
(`PerConfigBranches`, how the agents did it before), where `cond` computes both branches for
every config at every update: the difference is what the group-level decision saves.

`python -m benchmarks.agents_throughput [smoke|cpu|gpu]` prints one JSON line per measurement.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from typing import Any

import jax
import numpy as np

from benchmarks.common import SIZES, BenchSize
from rlscale.agents.core import HyperParams, UpdateContext
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import GroupTrainer, get_trainer
from rlscale.engine.spec import GroupSpec

GROUP_SIZES = (1, 8)
PQL_NUM_ENVS = 16
SCALAR_CRITIC = (("critic_quantiles", 0), ("pessimism", 1.0))
PER_CONFIG_BRANCH = "per-config branch"
AGENT_VARIANTS = (
    ("sac", "preset", ()),
    ("bro", "preset", ()),
    ("bro", "scalar critic", SCALAR_CRITIC),
    ("bro", f"scalar critic, {PER_CONFIG_BRANCH}", SCALAR_CRITIC),
    ("pql", "preset", ()),
    ("pql", PER_CONFIG_BRANCH, ()),
)
"""(algo, label, agent options over the preset) of every measured agent."""


@dataclasses.dataclass(frozen=True)
class PerConfigBranches:
    """`agent` with its optional work decided per config inside the vmap: it reports nothing due
    to the engine and branches on its own flags, so under vmap each of its `cond`s computes both
    branches (the baseline of the group-level decision)."""

    agent: Any

    def __getattr__(self, name):
        return getattr(self.agent, name)

    def due(self, state, hparams, env_step) -> dict:
        return {}

    def update(self, state, batch, mask, hparams, rng, context: UpdateContext):
        due = self.agent.due(state, hparams, context.env_step)
        return self.agent.update(state, batch, mask, hparams, rng, UpdateContext(context.env_step, due, due))


def _hparams(size: BenchSize, num_configs: int, utd: float) -> HyperParams:
    rates = [size.learning_rates[k % len(size.learning_rates)] for k in range(num_configs)]
    batches = [size.batch_sizes[k % len(size.batch_sizes)] for k in range(num_configs)]
    return HyperParams.stack(rates, batches, [utd] * num_configs, list(range(num_configs)))


def measure(algo: str, num_configs: int, size: BenchSize, variant: str = "preset", options: tuple = ()) -> dict:
    """Updates per second (all configs together) of the median timed chunk, after warm-up chunks of
    the same length."""
    network = NetworkConfig(hidden_width=size.hidden_width, hidden_depth=2)
    num_envs = PQL_NUM_ENVS if algo == "pql" else size.num_envs
    utd = 1.0 / num_envs
    if algo != "sac":
        options = tuple(sorted(options + (("actor_hidden_depth", 2), ("actor_hidden_width", size.hidden_width))))
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
    if PER_CONFIG_BRANCH in variant:
        trainer = GroupTrainer(spec)
        trainer.agent = PerConfigBranches(trainer.agent)  # before the first (tracing) call
    else:
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
    samples = []
    for _ in range(size.throughput_repetitions):
        start = time.perf_counter()
        state, stats = trainer.train_chunk(state, iterations)
        jax.block_until_ready(state)
        samples.append(time.perf_counter() - start)
    seconds = statistics.median(samples)
    updates = int(np.asarray(stats.grad_steps).sum())  # the same in every timed chunk (UTD 1)
    return {
        "benchmark": "agents_throughput",
        "size": size.name,
        "algo": algo,
        "variant": variant,
        "agent_options": dict(options),
        "num_configs": num_configs,
        "num_envs": num_envs,
        "parameter_count": trainer.agent.parameter_count(),
        "updates": updates,
        "seconds": round(seconds, 4),
        "repetitions": size.throughput_repetitions,
        "updates_per_s": updates / seconds,
        "env_steps_per_s": num_configs * iterations * num_envs / seconds,
        "compile_and_warmup_s": round(compile_and_warmup_s, 2),
        "device": jax.devices()[0].device_kind,
    }


def run(size: BenchSize) -> list[dict]:
    """One row per (agent variant, K in GROUP_SIZES)."""
    return [
        measure(algo, k, size, variant, options) for algo, variant, options in AGENT_VARIANTS for k in GROUP_SIZES
    ]


if __name__ == "__main__":
    preset = SIZES[sys.argv[1] if len(sys.argv) > 1 else "smoke"]
    for row in run(preset):
        print(json.dumps(row))
