"""Post-reset dips: which evaluations of a resetting agent's curve the time to threshold may use.

An agent that resets its networks (BRO) drops in return after each reset and climbs back. The
isotonic step would pool such a dip with the evaluations before it and move the first crossing of
a threshold later, so, as qscaled's `filter_out_resets` (`core/preprocessing.py`) does, the
evaluations after each reset are dropped: the first `window` ones always (qscaled's DMC analysis,
`experiments/2_fitted/dmc_explore.ipynb`, uses `window=1`, the default), then the following ones
until the seed-mean return is back at its last value before the reset; then the curve continues as
logged until the next reset.

An evaluation logged exactly at a reset's env step is after the reset by default
(`at_reset_step="after"`): rlscale's engine applies the updates of an env step, a reset among them,
before it evaluates at that step (`rlscale/engine/loop.py`), and qscaled's HEAD counts the first
evaluation at or after the reset as post-reset. `at_reset_step="before"` is the rule of the qscaled
version behind the published DMC fits (5f9a48a, the first evaluation strictly after the reset).

Reset schedules come from the table's `reset_env_steps` column (per row, the env steps at which
that config's agent was reset so far), or for tables without it from `ResetSchedule.env_steps`
(the same env steps for every config) or `ResetSchedule.every_grad_steps` (qscaled's `reset_freq`:
a reset every G gradient steps, i.e. every int(G / σ) env steps at UTD σ).

One difference from qscaled, on purpose: `window` drops evaluations only after resets (qscaled also
drops the first `window` evaluations of the whole curve when it has any reset, which moves no
crossing unless the curve's very first evaluation already reaches a threshold).
"""

from __future__ import annotations

import numpy as np

from rlscale.laws.results import AT_RESET_STEP_RULES, RECOVERY_RULES, ResetSchedule

__all__ = ["AT_RESET_STEP_RULES", "RECOVERY_RULES", "ResetSchedule", "reset_keep_mask"]


def reset_keep_mask(
    steps: np.ndarray,
    seed_curves: np.ndarray,
    reset_steps: np.ndarray,
    window: int = 1,
    recovery: str = "mean",
    at_reset_step: str = "after",
) -> np.ndarray:
    """Which evaluations the crossings may use.

    Args:
        steps: shape (T,), ascending env steps of the evaluations.
        seed_curves: shape (S, T), returns per seed.
        reset_steps: env steps of the resets (any order).
        window, recovery, at_reset_step: as in `ResetSchedule` (rlscale/laws/results.py).

    Returns:
        Shape (T,) bool: every evaluation before the first reset, and after each reset the
        evaluations from the first recovered one (after `window` dropped ones) up to the next reset.
    """
    n_steps = len(steps)
    keep = np.ones(n_steps, dtype=bool)
    if n_steps == 0 or len(reset_steps) == 0:
        return keep
    mean = seed_curves.mean(axis=0)
    stderr = seed_curves.std(axis=0) / np.sqrt(seed_curves.shape[0])
    side = "left" if at_reset_step == "after" else "right"
    first_after = np.unique(np.searchsorted(steps, np.asarray(reset_steps), side=side))
    first_after = first_after[(first_after > 0) & (first_after < n_steps)]
    if len(first_after) == 0:
        return keep
    keep[first_after[0]:] = False
    for start, end in zip(first_after, np.append(first_after[1:], n_steps)):
        before = start - 1
        candidates = np.arange(min(start + window, end), end)
        if recovery == "mean":
            recovered = mean[candidates] >= mean[before]
        else:
            recovered = mean[candidates] + stderr[candidates] >= mean[before] - stderr[before]
        if recovered.any():
            keep[candidates[np.argmax(recovered)]:end] = True
    return keep
