"""The host's chunk loop, shared by the runner and the benchmarks: train a chunk, evaluate, time it.

A chunk is one call of the group's jitted `train_chunk` (a `lax.scan` over `eval_interval` env steps
of every config) followed by one call of `evaluate` (and of `td_errors` when given). The host reads
the chunk's counters and the returns, which waits for the device, so `seconds` is the chunk's real
wall time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np


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
