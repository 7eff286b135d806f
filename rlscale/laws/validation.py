"""The held-out check: runs a fit did not see, measured against what its data law predicts.

For every config of the table (usually the one config `recommend` chose for a larger budget,
trained with a few seeds), at threshold J:

- measured D_J: the first logged env step at which the isotonic seed-mean normalized return is
  >= J (as in the fit), with the bootstrap over seeds giving its median and interval;
- predicted D_J: the fit's data law at the config's σ, for the config's env when the fit has a law
  for it, else the pooled law (App. D: env steps of a typical env); its interval is the spread of
  the bootstrap-refitted laws at σ (`DataLawFit.predict_interval`).

Returns are normalized with the fit's own bounds, so both sides are on the same scale.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rlscale.laws.bootstrap import summarize_scalar
from rlscale.laws.crossings import build_config_curves, times_to_threshold
from rlscale.laws.fit import HPARAM_MATCH_FACTOR
from rlscale.laws.resets import ResetSchedule
from rlscale.laws.results import POOLED_SCOPE, ConfigValidation, FitResult, Validation
from rlscale.laws.table import FitInputError, normalize_returns, validate_table


def validate_runs(
    fit: FitResult,
    table: pd.DataFrame,
    threshold: float,
    n_bootstrap: int | None = None,
    seed: int = 0,
    resets: ResetSchedule = ResetSchedule(),
) -> Validation:
    """Measured vs predicted D_J at `threshold` for every config of `table` (see the module docstring).

    Args:
        fit: the fit whose data laws predict.
        table: long-form runs (SCHEMA.md columns; one σ is enough).
        threshold: J, one of the fit's thresholds.
        n_bootstrap: seed resamples (default: the fit's).
        seed: the bootstrap's RNG seed.
        resets: reset schedule for tables without a `reset_env_steps` column.

    Raises:
        FitInputError: bad table, a threshold the fit has no data law at, or an env the fit cannot
            predict (no law for it, and no pooled law).
    """
    available = sorted({law.threshold for law in fit.data_law})
    if not any(math.isclose(threshold, value, rel_tol=1e-9) for value in available):
        raise FitInputError(f"the fit has no data law at J={threshold:g}; its thresholds are {available}")
    clean = validate_table(table, min_utds=1)
    envs = set(clean["env"].unique())
    bounds = {env: tuple(pair) for env, pair in fit.normalization.items() if env in envs}
    normalized, _ = normalize_returns(clean, bounds)
    curves = build_config_curves(normalized, resets=resets)
    draws = n_bootstrap if n_bootstrap is not None else fit.n_bootstrap
    times = times_to_threshold(curves, np.array([float(threshold)]), draws, np.random.default_rng(seed))
    finals = curves.final_mean_return()
    records, notes = [], []
    for index, row in curves.configs.iterrows():
        env, utd = str(row["env"]), float(row["utd"])
        scope = env if fit.data_law_for(threshold, env) is not None else POOLED_SCOPE
        law = fit.data_law_for(threshold, scope)
        if law is None:
            raise FitInputError(f"the fit has no data law for env {env!r} nor a pooled one at J={threshold:g}")
        if scope == POOLED_SCOPE and len(fit.envs) > 1:
            notes.append(f"{env}: predicted by the pooled law (env steps of a typical env of the fit), not an env law")
        predicted = float(law.predict(utd))
        predicted_interval = law.predict_interval(utd, fit.interval)
        measured = float(times.point[index, 0])
        median, low, high = summarize_scalar(times.bootstrap[:, index, 0], fit.interval)
        notes += _hparam_notes(fit, row, scope)
        records.append(
            ConfigValidation(
                env=env,
                utd=utd,
                batch_size=int(row["batch_size"]),
                learning_rate=float(row["learning_rate"]),
                seeds=int(row["n_seeds"]),
                scope=scope,
                threshold=float(threshold),
                predicted=predicted,
                predicted_interval=predicted_interval,
                measured=measured,
                measured_median=median,
                measured_interval=(low, high),
                resamples_reaching=float(np.isfinite(times.bootstrap[:, index, 0]).mean()),
                last_env_step=int(row["last_env_step"]),
                final_normalized_return=float(finals[index]),
                relative_error=(measured - predicted) / predicted if math.isfinite(measured) else math.inf,
                measured_within_predicted=bool(predicted_interval[0] <= measured <= predicted_interval[1]),
                intervals_overlap=bool(low <= predicted_interval[1] and predicted_interval[0] <= high),
            )
        )
        if not math.isfinite(measured):
            notes.append(
                f"{env} σ={utd:g} B={int(row['batch_size'])}: the seed mean never reaches J={threshold:g} within "
                f"{int(row['last_env_step'])} env steps (best {finals[index]:.1f}); train longer"
            )
    if any(not math.isfinite(value) for record in records for value in record.predicted_interval):
        notes.append("the fit holds no bootstrap resamples of its data laws (refit with this rlscale): no predicted interval")
    return Validation(
        threshold=float(threshold),
        interval=tuple(fit.interval),
        n_bootstrap=draws,
        configs=tuple(records),
        notes=tuple(notes),
    )


def _hparam_notes(fit: FitResult, row: pd.Series, scope: str) -> list[str]:
    """A note when the config is not at the fit's B*(σ), η*(σ) (the law predicts D at those)."""
    utd = float(row["utd"])
    best_batch = float(fit.batch_size_law.predict(scope, utd)) if _has_law(fit, scope) else math.nan
    best_rate = float(fit.learning_rate_law.predict(scope, utd)) if _has_law(fit, scope) else math.nan
    ratios = (row["batch_size"] / best_batch, row["learning_rate"] / best_rate)
    if all(math.isfinite(ratio) and 1 / HPARAM_MATCH_FACTOR <= ratio <= HPARAM_MATCH_FACTOR for ratio in ratios):
        return []
    return [
        f"{row['env']} σ={utd:g}: B={int(row['batch_size'])}, η={row['learning_rate']:.3g} are not the fit's "
        f"B*={best_batch:.1f}, η*={best_rate:.3g} at this σ (its data law describes runs at those)"
    ]


def _has_law(fit: FitResult, scope: str) -> bool:
    return scope == POOLED_SCOPE or scope in fit.batch_size_law.intercept
