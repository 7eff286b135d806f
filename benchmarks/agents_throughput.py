"""Gradient-update throughput of every agent (SAC, BRO, PQL) for K=1 and K=8 configs on one device.

For each agent and K, one group trains on `size.env` with K configs that differ in learning
rate, batch size and seed (UTD 1 / num_envs: one update per config per iteration, so slots are
never skipped): chunks of `size.eval_interval` iterations compile and fill the replay past
learning_starts, then `size.throughput_repetitions` more such chunks are timed one by one and the
median chunk reported.
Actor and critic both use `size.hidden_width` with 2 hidden layers (BRO: 2 residual blocks).
PQL runs 16 envs per config with UTD 1/16 (one critic update per iteration), as PQL collects
from many envs per update. Every agent runs its preset; BRO also with a scalar critic
(critic_quantiles = 0, pessimism = 1), the critic it had before its quantile preset.

Skipped work: BRO's resets are never due in the timed chunk and PQL's actor update is due every
second update. The engine decides both at group level (a real `cond`). The "per-config branch"
rows run the same agent with the decision taken per config inside the vmap instead
(`PerConfigBranches`, how the agents did it before), where `cond` computes both branches for
every config at every update: the difference is what the group-level decision saves. A variant
and its baseline are timed chunk by chunk in alternation.

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
    ("sac", "preset", (), False),
    ("bro", "preset", (), False),
    ("bro", "scalar critic", SCALAR_CRITIC, True),
    ("pql", "preset", (), True),
)
"""(algo, label, agent options over the preset, whether to time the per-config-branch baseline
alongside) of every measured agent."""


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


@dataclasses.dataclass
class _Run:
    """A compiled, warmed-up group and the wall times of its timed chunks."""

    algo: str
    variant: str
    options: tuple
    trainer: Any
    state: Any
    iterations: int
    compile_and_warmup_s: float
    samples: list = dataclasses.field(default_factory=list)
    updates: int = 0

    def time_chunk(self) -> None:
        start = time.perf_counter()
        self.state, stats = self.trainer.train_chunk(self.state, self.iterations)
        jax.block_until_ready(self.state)
        self.samples.append(time.perf_counter() - start)
        self.updates = int(np.asarray(stats.grad_steps).sum())  # the same in every chunk (UTD 1)

    def row(self, size: BenchSize) -> dict:
        seconds = statistics.median(self.samples)
        spec = self.trainer.spec
        return {
            "benchmark": "agents_throughput",
            "size": size.name,
            "algo": self.algo,
            "variant": self.variant,
            "agent_options": dict(self.options),
            "num_configs": spec.num_configs,
            "num_envs": spec.num_envs,
            "parameter_count": self.trainer.agent.parameter_count(),
            "updates": self.updates,
            "seconds": round(seconds, 4),
            "repetitions": len(self.samples),
            "updates_per_s": self.updates / seconds,
            "env_steps_per_s": spec.num_configs * self.iterations * spec.num_envs / seconds,
            "compile_and_warmup_s": round(self.compile_and_warmup_s, 2),
            "device": jax.devices()[0].device_kind,
        }


def _prepare(algo: str, num_configs: int, size: BenchSize, variant: str, options: tuple) -> _Run:
    """Compile the group and run warm-up chunks of the timed length until learning has started."""
    network = NetworkConfig(hidden_width=size.hidden_width, hidden_depth=2)
    num_envs = PQL_NUM_ENVS if algo == "pql" else size.num_envs
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
    # One update per config per iteration (UTD 1 / num_envs), so every agent's chunk times
    # size.eval_interval updates per config, PQL's too (its chunk collects 16 times the env steps).
    iterations = size.eval_interval
    warmup_chunks = -(-(size.learning_starts // num_envs + 1) // iterations)
    start = time.perf_counter()
    state = trainer.init(_hparams(size, num_configs, 1.0 / num_envs))
    for _ in range(warmup_chunks):
        state, _ = trainer.train_chunk(state, iterations)
    jax.block_until_ready(state)
    return _Run(algo, variant, options, trainer, state, iterations, time.perf_counter() - start)


def measure(algo: str, num_configs: int, size: BenchSize, variant: str = "preset", options: tuple = (),
            with_baseline: bool = False) -> list[dict]:
    """Updates per second (all configs together) of the median timed chunk; with `with_baseline`,
    also of the per-config-branch baseline, the two timed in alternation (chunk by chunk, so a
    change of the machine's load affects both alike)."""
    runs = [_prepare(algo, num_configs, size, variant, options)]
    if with_baseline:
        runs.append(_prepare(algo, num_configs, size, f"{variant}, {PER_CONFIG_BRANCH}", options))
    for _ in range(size.throughput_repetitions):
        for run_ in runs:
            run_.time_chunk()
    return [run_.row(size) for run_ in runs]


def run(size: BenchSize) -> list[dict]:
    """Rows per (agent variant, K in GROUP_SIZES), each followed by its baseline where there is one."""
    return [
        row
        for algo, variant, options, with_baseline in AGENT_VARIANTS
        for k in GROUP_SIZES
        for row in measure(algo, k, size, variant, options, with_baseline)
    ]


if __name__ == "__main__":
    preset = SIZES[sys.argv[1] if len(sys.argv) > 1 else "smoke"]
    for row in run(preset):
        print(json.dumps(row))
