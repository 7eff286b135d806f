"""Per-config learning curves and their time to threshold D_J, with a bootstrap over seeds.

For one config with S seeds logged at T common env steps, the curves are a (S, T) array. The
time to threshold J is computed from the seed-mean curve made non-decreasing with isotonic
regression over env_step: the first logged env_step at which it is >= J (rule "logged", the paper's),
or +inf when it never is (the config is censored at J). Rule "interpolated" places the crossing
between that step and the one before, linearly in the fitted return, so configs whose curves cross J
within one evaluation interval no longer tie at its end (the lowest step is kept when the first
logged value is already >= J). A config whose agent resets first loses its post-reset dips
(`resets.py`); "the step before" is then the last kept one, so an interpolation may span a dropped
dip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

from rlscale.laws.resets import ResetSchedule, reset_keep_mask
from rlscale.laws.results import CROSSING_RULES, INTERPOLATED, LOGGED
from rlscale.laws.table import CONFIG_KEYS, RESET_COLUMN


@dataclass(frozen=True)
class ConfigCurves:
    """The per-seed learning curves of every config.

    Attributes:
        configs: one row per config (C rows, sorted by the config keys) with the config keys and
            `n_seeds`, `n_steps`, `last_env_step`, `diverged_at_env_step` (NaN when the config never
            diverged), `n_resets` (resets up to `last_env_step`) and `n_dropped_after_resets`.
        steps: C arrays; steps[c] has shape (T_c,): the env steps logged by every seed of config c,
            ascending, truncated before divergence, without the post-reset dips.
        returns: C arrays; returns[c] has shape (S_c, T_c): normalized returns per seed and step.
    """

    configs: pd.DataFrame
    steps: tuple[np.ndarray, ...]
    returns: tuple[np.ndarray, ...]

    def final_mean_return(self) -> np.ndarray:
        """Shape (C,): the last value of each config's isotonic seed-mean curve, i.e. the highest
        threshold it reaches (-inf for a config with no step before divergence)."""
        finals = np.full(len(self.steps), -np.inf)
        for index, curves in enumerate(self.returns):
            if curves.shape[1]:
                finals[index] = monotone_rows(curves.mean(axis=0)[None, :])[0, -1]
        return finals


def build_config_curves(
    table: pd.DataFrame, config_keys: tuple[str, ...] = CONFIG_KEYS, resets: ResetSchedule = ResetSchedule(), running_max: bool = False
) -> ConfigCurves:
    """Group a validated, normalized long-form table into per-config (S, T) curve arrays.

    Only env steps logged by every seed of a config are kept (a run that is still being written
    may have seeds at different steps). Duplicate (config, seed, env_step) rows keep the last.
    When `diverged_at_env_step` is set for any seed of a config, the config's curves stop before
    the earliest such step: it can reach no threshold from then on. A config's resets (the union of
    its rows' `reset_env_steps`, else `resets`' schedule) drop its post-reset dips (`resets.py`).
    With `running_max`, each seed's kept returns become their running maximum (the best evaluation so
    far, the form of the authors' published DMC sweep).
    """
    keys = list(config_keys)
    ordered = table.sort_values(keys + ["seed", "env_step"], kind="stable")
    config_codes = ordered.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, config_codes[1:] != config_codes[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    seeds = ordered["seed"].to_numpy()
    env_steps = ordered["env_step"].to_numpy()
    values = ordered["return"].to_numpy(dtype=float)
    diverged = (
        ordered["diverged_at_env_step"].to_numpy(dtype=float)
        if "diverged_at_env_step" in ordered.columns
        else np.full(len(ordered), np.nan)
    )
    logged_resets = ordered[RESET_COLUMN].to_numpy() if RESET_COLUMN in ordered.columns else None
    utds = ordered["utd"].to_numpy(dtype=float)
    steps_list, returns_list, rows = [], [], []
    for start, end in zip(starts, ends):
        block_steps, curves = _block_curves(seeds[start:end], env_steps[start:end], values[start:end])
        block_diverged = diverged[start:end]
        diverged_at = np.nanmin(block_diverged) if np.isfinite(block_diverged).any() else np.nan
        if np.isfinite(diverged_at):
            keep = block_steps < diverged_at
            block_steps, curves = block_steps[keep], curves[:, keep]
        last_env_step = int(block_steps[-1]) if len(block_steps) else 0
        logged = set().union(*logged_resets[start:end]) if logged_resets is not None else ()
        reset_steps = resets.for_config(utds[start], last_env_step, logged)
        keep = reset_keep_mask(block_steps, curves, reset_steps, resets.window, resets.recovery, resets.at_reset_step)
        steps_list.append(block_steps[keep])
        returns_list.append(np.maximum.accumulate(curves[:, keep], axis=1) if running_max else curves[:, keep])
        rows.append(
            {
                "n_seeds": curves.shape[0],
                "n_steps": int(keep.sum()),
                "last_env_step": last_env_step,
                "diverged_at_env_step": diverged_at,
                "n_resets": len(reset_steps),
                "n_dropped_after_resets": int((~keep).sum()),
            }
        )
    configs = ordered.iloc[starts][keys].reset_index(drop=True)
    configs = pd.concat([configs, pd.DataFrame(rows)], axis=1)
    return ConfigCurves(configs=configs, steps=tuple(steps_list), returns=tuple(returns_list))


def _block_curves(seeds: np.ndarray, env_steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One config's rows (sorted by seed, then env_step; each shape (n,)) as (steps (T,), curves (S, T))."""
    unique_seeds, seed_index = np.unique(seeds, return_inverse=True)
    n_seeds = len(unique_seeds)
    if len(values) % n_seeds == 0:
        per_seed = len(values) // n_seeds
        step_grid = env_steps.reshape(n_seeds, per_seed)
        if np.all(step_grid == step_grid[0]) and np.all(np.diff(step_grid[0]) > 0):
            return step_grid[0].copy(), values.reshape(n_seeds, per_seed).copy()
    unique_steps, step_index = np.unique(env_steps, return_inverse=True)
    curves = np.full((n_seeds, len(unique_steps)), np.nan)
    curves[seed_index, step_index] = values
    logged_by_all = ~np.isnan(curves).any(axis=0)
    return unique_steps[logged_by_all], curves[:, logged_by_all]


def monotone_rows(curves: np.ndarray) -> np.ndarray:
    """Isotonic (non-decreasing, least-squares) fit of each row of `curves` (shape (R, T)).

    Rows that are already non-decreasing are returned unchanged; others go through
    `scipy.optimize.isotonic_regression`.
    """
    fitted = np.array(curves, dtype=float, copy=True)
    if fitted.shape[1] < 2:
        return fitted
    decreasing_rows = np.flatnonzero((np.diff(fitted, axis=1) < 0).any(axis=1))
    for row in decreasing_rows:
        fitted[row] = isotonic_regression(fitted[row]).x
    return fitted


def first_crossing_steps(curves: np.ndarray, steps: np.ndarray, thresholds: np.ndarray, rule: str = LOGGED) -> np.ndarray:
    """Where each curve first reaches each threshold (module docstring: the crossing rules).

    Args:
        curves: shape (R, T); isotonic fits for the times to threshold, or raw means.
        steps: shape (T,), the env step of each column, ascending.
        thresholds: shape (J,).
        rule: one of CROSSING_RULES.

    Returns:
        Shape (R, J): the env step, or +inf where the curve never reaches the threshold.
    """
    if rule not in CROSSING_RULES:
        raise ValueError(f"crossing rule must be one of {', '.join(CROSSING_RULES)}, got {rule!r}")
    n_rows, n_steps = curves.shape
    if n_steps == 0:
        return np.full((n_rows, len(thresholds)), np.inf)
    at_or_above = curves[:, :, None] >= thresholds[None, None, :]
    first = at_or_above.argmax(axis=1)
    step_values = steps.astype(float)
    crossing = step_values[first]
    if rule == INTERPOLATED:
        before = np.maximum(first - 1, 0)
        rows = np.arange(n_rows)[:, None]
        low, high = curves[rows, before], curves[rows, first]
        interior = first > 0
        fraction = np.where(interior, (thresholds[None, :] - low) / np.where(interior, high - low, 1.0), 0.0)
        crossing = step_values[before] + fraction * (crossing - step_values[before])
    return np.where(at_or_above.any(axis=1), crossing, np.inf)


@dataclass(frozen=True)
class ThresholdTimes:
    """Time to threshold for every config, point estimate and bootstrap resamples.

    Attributes:
        thresholds: shape (J,), normalized-return thresholds, ascending.
        point: shape (C, J): D_J from the mean over all seeds (+inf: never reached).
        bootstrap: shape (R, C, J): D_J from the mean over seeds resampled with replacement.
    """

    thresholds: np.ndarray
    point: np.ndarray
    bootstrap: np.ndarray


def times_to_threshold(
    curves: ConfigCurves, thresholds: np.ndarray, n_bootstrap: int, rng: np.random.Generator, rule: str = LOGGED
) -> ThresholdTimes:
    """D_J for every config and threshold, from all seeds and from `n_bootstrap` seed resamples,
    crossing J by `rule` (one of CROSSING_RULES).

    For config c with S seeds, resample r draws S seed indices with replacement (all draws of
    a config are made at once, configs in table order, so results are fixed by the RNG seed);
    the resampled mean curves are W @ curves / S with W (R, S) the draw counts.
    """
    thresholds = np.asarray(thresholds, dtype=float)
    n_configs = len(curves.steps)
    point = np.empty((n_configs, len(thresholds)))
    bootstrap = np.empty((n_bootstrap, n_configs, len(thresholds)))
    for index, (steps, seed_curves) in enumerate(zip(curves.steps, curves.returns)):
        n_seeds = seed_curves.shape[0]
        draws = rng.integers(0, n_seeds, size=(n_bootstrap, n_seeds))
        counts = np.zeros((n_bootstrap, n_seeds))
        np.add.at(counts, (np.arange(n_bootstrap)[:, None], draws), 1.0)
        means = np.vstack([seed_curves.mean(axis=0)[None, :], counts @ seed_curves / n_seeds])
        crossings = first_crossing_steps(monotone_rows(means), steps, thresholds, rule)
        point[index] = crossings[0]
        bootstrap[:, index] = crossings[1:]
    return ThresholdTimes(thresholds=thresholds, point=point, bootstrap=bootstrap)
