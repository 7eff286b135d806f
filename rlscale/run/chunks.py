"""The host's chunk loop, shared by the runner and the benchmarks: train a chunk, evaluate, time it,
and keep the group's totals.

A chunk is one call of the group's jitted `train_chunk` (a `lax.scan` over `eval_interval` env steps
of every config) followed by one call of `evaluate` (and of `td_errors` when given). The host reads
the chunk's counters and the returns, which waits for the device, so `seconds` is the chunk's real
wall time.

`group_chunks` is a group's whole loop as an iterator of evaluated chunks with the group's running
totals: the runner (run/runner.py) writes each as rows, checkpoints and progress; the benchmarks
(benchmarks/common.py) time them. Nothing here touches a file.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from rlscale.engine import schedule
from rlscale.run.checkpoint import GroupCounters
from rlscale.run.rows import diverged_env_steps


@dataclasses.dataclass
class Chunk:
    """One trained and evaluated chunk of a group of K configs."""

    eval_index: int
    """Evaluations done before this chunk (the chunk ends at env step (eval_index + 1) * eval_interval)."""
    state: object
    """The GroupState after the chunk (valid until the next chunk is trained: its buffers are donated)."""
    returns: np.ndarray
    """f64[K]: each config's evaluation return."""
    grad_steps: np.ndarray
    """i64[K]: gradient updates each config applied during the chunk."""
    computed_updates: np.ndarray
    """i64[K]: updates computed for each config during the chunk, applied or not."""
    seconds: float
    """Wall seconds of training and evaluating the chunk."""
    td_errors: tuple[np.ndarray, np.ndarray] | None = None
    """(train, validation) f64[K]: each config's TD error on its replay and on its validation buffer
    (NaN where not measured); None when not computed."""


def train_chunks(
    train_chunk: Callable,
    evaluate: Callable,
    state,
    eval_indices: Iterable[int],
    mark_diverged: Callable,
    td_errors: Callable | None = None,
) -> Iterator[Chunk]:
    """Train and evaluate one chunk per eval index, yielding each.

    `train_chunk(state) -> (state, ChunkStats)`, `evaluate(state, eval_index) -> f32[K]` and
    `mark_diverged(state, bool[K]) -> state` are the group trainer's functions (the chunk length bound
    in); a config whose evaluation return is not finite is marked diverged at this chunk (its return
    stays non-finite in the Chunk and its row carries none). `td_errors(state, eval_index) ->
    TDErrors`, when given, is evaluated after `evaluate`. The caller consumes each Chunk before the
    next is trained.
    """
    for eval_index in eval_indices:
        start = time.perf_counter()
        state, stats = train_chunk(state)
        returns = np.asarray(evaluate(state, eval_index), np.float64)
        errors = None
        if td_errors is not None:
            measured = td_errors(state, eval_index)
            errors = (np.asarray(measured.train, np.float64), np.asarray(measured.validation, np.float64))
        finite = np.isfinite(returns)
        if not finite.all():
            state = mark_diverged(state, ~finite)
        grad_steps = np.asarray(stats.grad_steps, np.int64)
        computed_updates = np.asarray(stats.computed_updates, np.int64)
        yield Chunk(eval_index, state, returns, grad_steps, computed_updates, time.perf_counter() - start, errors)


@dataclasses.dataclass(frozen=True)
class TrainerFunctions:
    """The functions of a group trainer the chunk loop calls: a `GroupTrainer` (or a sharded one)
    has them all; a benchmark passes its ahead-of-time compiled ones."""

    train_chunk: Callable
    """(state, num_iterations) -> (state, ChunkStats)."""
    evaluate: Callable
    """(state, eval_index) -> f32[K]."""
    mark_diverged: Callable
    """(state, bool[K]) -> state."""
    td_errors: Callable | None = None
    """(state, eval_index) -> TDErrors, or None: no TD errors measured."""


def fresh_counters(num_configs: int) -> GroupCounters:
    """The totals of a group that has not trained yet."""
    return GroupCounters(
        next_eval_index=0,
        grad_steps=[0] * num_configs,
        computed_updates=[0] * num_configs,
        best_return=-math.inf,
        last_returns=[],
        diverged_config_ids=[],
        wall_time_s=0.0,
    )


@dataclasses.dataclass(frozen=True)
class GroupChunk:
    """One evaluated chunk of a group (`group_chunks`) and the group's totals after it."""

    chunk: Chunk
    env_step: int
    """Env steps each config has collected at the chunk's end."""
    grad_steps: np.ndarray
    """i64[K]: gradient updates each config applied so far (over every process that ran the group)."""
    computed_updates: np.ndarray
    """i64[K]: updates computed for each config so far, applied or not."""
    best_return: float
    """The best finite evaluation return of any config so far (-inf: none yet)."""
    diverged_at_env_step: list[int | None]
    """Per config, the env step of its first non-finite update (None: never)."""
    diverged_config_ids: list[int]
    """The config ids of the configs that diverged so far."""
    done: bool
    """Whether this was the group's last chunk."""
    started: float
    """`time.perf_counter()` at which the group would have started, had it run in this process alone."""

    def elapsed_s(self) -> float:
        """Seconds the group has trained until now, over every process that ran it."""
        return time.perf_counter() - self.started

    def counters(self, elapsed_s: float) -> GroupCounters:
        """The totals a checkpoint after this chunk stores, with `elapsed_s` as the group's wall time."""
        return GroupCounters(
            next_eval_index=self.chunk.eval_index + 1,
            grad_steps=[int(steps) for steps in self.grad_steps],
            computed_updates=[int(count) for count in self.computed_updates],
            best_return=self.best_return,
            last_returns=self.chunk.returns.tolist(),
            diverged_config_ids=self.diverged_config_ids,
            wall_time_s=elapsed_s,
        )


def group_chunks(
    trainer: TrainerFunctions, state, counters: GroupCounters, config, configs: Sequence
) -> Iterator[GroupChunk]:
    """The chunks of a group from where `counters` left it to `config.env_steps`, each yielded once
    trained and evaluated with the group's totals after it.

    `trainer` has the group's functions (`TrainerFunctions`, or the GroupTrainer itself), `state` is
    the group's state at `counters` (fresh: `fresh_counters`), `config` the SweepConfig (its
    `env_steps`, `eval_interval` and `num_envs` set the chunks) and `configs` the group's RunConfigs
    in its config order. Each chunk is `eval_interval` env steps per config followed by an
    evaluation (`train_chunks`).
    """
    iterations = config.eval_interval // config.num_envs
    num_evals = config.env_steps // config.eval_interval
    started = time.perf_counter() - counters.wall_time_s
    grad_steps = np.asarray(counters.grad_steps, np.int64)
    computed_updates = np.asarray(counters.computed_updates, np.int64)
    best_return = counters.best_return
    chunks = train_chunks(
        lambda chunk_state: trainer.train_chunk(chunk_state, iterations),
        trainer.evaluate,
        state,
        range(counters.next_eval_index, num_evals),
        trainer.mark_diverged,
        trainer.td_errors,
    )
    for chunk in chunks:
        grad_steps = grad_steps + chunk.grad_steps
        computed_updates = computed_updates + chunk.computed_updates
        diverged = diverged_env_steps(chunk.state.diverged_iteration, config.num_envs)
        finite_returns = np.isfinite(chunk.returns)
        best_return = max(best_return, float(np.max(chunk.returns, where=finite_returns, initial=-np.inf)))
        yield GroupChunk(
            chunk=chunk,
            env_step=(chunk.eval_index + 1) * config.eval_interval,
            grad_steps=grad_steps,
            computed_updates=computed_updates,
            best_return=best_return,
            diverged_at_env_step=diverged,
            diverged_config_ids=[run.config_id for run, at in zip(configs, diverged) if at is not None],
            done=chunk.eval_index + 1 == num_evals,
            started=started,
        )


def measured_wasted_fraction(group, grad_steps: Sequence[int], computed_updates: Sequence[int]) -> float:
    """The wasted-work fraction `group` (a plan Group) measured with these totals per config
    (schedule.measured_wasted_fraction at each config's own B and the rows each computed update
    had)."""
    return schedule.measured_wasted_fraction(
        grad_steps, [run.batch_size for run in group.configs], computed_updates, group.computed_batch_sizes
    )
