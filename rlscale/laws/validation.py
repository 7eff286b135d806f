"""The held-out check: runs a fit did not see, measured against what its data law predicts.

For every config of the table (usually the one config `recommend` chose for a larger budget,
trained with a few seeds), at threshold J:

- measured D_J: the first logged env step at which the isotonic seed-mean normalized return is
  >= J (as in the fit), with the bootstrap over seeds giving its median and interval;
- predicted D_J: the fit's data law at the config's σ, for the config's env when the fit has a law
  for it, else the pooled law (App. D: env steps of a typical env); its interval is the spread of
  the bootstrap-refitted laws at σ (`DataLawFit.predict_interval`). A fit with the joint (σ, N) laws
  (several model sizes, `fit.sigma_n`) predicts with D_J(σ, N) at the config's σ and its rows'
  `model_size` N instead (any N: a held-out model bigger than every trained one is the point), the
  interval being the spread of the bootstrap-refitted joint laws at (σ, N)
  (`JointDataLaw.predict_interval`); rows without a `model_size` fall back to the σ-only laws.

Returns are normalized with the fit's own bounds, so both sides are on the same scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlscale.laws.bootstrap import summarize_scalar
from rlscale.laws.crossings import build_config_curves, times_to_threshold
from rlscale.laws.fit import HPARAM_MATCH_FACTOR
from rlscale.laws.resets import ResetSchedule
from rlscale.laws.results import POOLED_SCOPE, ConfigValidation, FitResult, Validation
from rlscale.laws.table import CONFIG_KEYS, FitInputError, normalize_returns, validate_table

SIGMA_LAW = "D_J(σ)"
"""`ConfigValidation.data_law` of a prediction by the σ-only data law."""
SIGMA_N_LAW = "D_J(σ, N)"
"""`ConfigValidation.data_law` of a prediction by the joint (σ, N) data law."""


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
    clean = validate_table(table, min_utds=1)
    joint = bool(fit.sigma_n.data_law_sigma_n) and "model_size" in clean.columns and bool(clean["model_size"].notna().all())
    laws = fit.sigma_n.data_law_sigma_n if joint else fit.data_law
    available = sorted({law.threshold for law in laws})
    if not any(math.isclose(threshold, value, rel_tol=1e-9) for value in available):
        kind = "joint (σ, N) data law" if joint else "data law"
        raise FitInputError(f"the fit has no {kind} at J={threshold:g}; its thresholds are {available}")
    envs = set(clean["env"].unique())
    bounds = {env: tuple(pair) for env, pair in fit.normalization.items() if env in envs}
    normalized, _ = normalize_returns(clean, bounds)
    curves = build_config_curves(
        normalized, (*CONFIG_KEYS, "model_size") if joint else CONFIG_KEYS, resets=resets, running_max=fit.running_max
    )
    draws = n_bootstrap if n_bootstrap is not None else fit.n_bootstrap
    times = times_to_threshold(curves, np.array([float(threshold)]), draws, np.random.default_rng(seed), fit.crossing)
    finals = curves.final_mean_return()
    records, notes = [], []
    if bool(fit.sigma_n.data_law_sigma_n) and not joint:
        notes.append("the fit has joint (σ, N) laws but the runs carry no model_size: predicted by the σ-only laws of the fit's largest model")
    for index, row in curves.configs.iterrows():
        env, utd = str(row["env"]), float(row["utd"])
        prediction = _joint_prediction(fit, row, threshold) if joint else _sigma_prediction(fit, row, threshold)
        scope, predicted, predicted_interval = prediction.scope, prediction.predicted, prediction.interval
        notes += prediction.notes
        if scope == POOLED_SCOPE and len(fit.envs) > 1:
            notes.append(f"{env}: predicted by the pooled law (env steps of a typical env of the fit), not an env law")
        measured = float(times.point[index, 0])
        median, low, high = summarize_scalar(times.bootstrap[:, index, 0], fit.interval)
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
                data_law=SIGMA_N_LAW if joint else SIGMA_LAW,
                model_size=float(row["model_size"]) if joint else None,
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


@dataclass(frozen=True)
class _Prediction:
    """A config's predicted D_J: the law's scope, its value and interval, and notes on the config."""

    scope: str
    predicted: float
    interval: tuple[float, float]
    notes: list[str]


def _sigma_prediction(fit: FitResult, row: pd.Series, threshold: float) -> _Prediction:
    """D_J(σ) of the config's env (else pooled) at its σ, with the resampled laws' interval."""
    env, utd = str(row["env"]), float(row["utd"])
    scope = env if fit.data_law_for(threshold, env) is not None else POOLED_SCOPE
    law = fit.data_law_for(threshold, scope)
    if law is None:
        raise FitInputError(f"the fit has no data law for env {env!r} nor a pooled one at J={threshold:g}")
    best = (_law_value(fit.batch_size_law.predict, scope, utd), _law_value(fit.learning_rate_law.predict, scope, utd))
    notes = _hparam_notes(row, best, f"σ={utd:g}")
    return _Prediction(scope, float(law.predict(utd)), law.predict_interval(utd, fit.interval), notes)


def _joint_prediction(fit: FitResult, row: pd.Series, threshold: float) -> _Prediction:
    """D_J(σ, N) of the config's env (else pooled) at its σ and model size N, with the resampled
    joint laws' interval, and a note when N or σ lies outside what the laws were fitted on."""
    sigma_n = fit.sigma_n
    env, utd, model_size = str(row["env"]), float(row["utd"]), float(row["model_size"])
    scope = env if sigma_n.data_law_for(threshold, env) is not None else POOLED_SCOPE
    law = sigma_n.data_law_for(threshold, scope)
    if law is None:
        raise FitInputError(f"the fit has no joint (σ, N) data law for env {env!r} nor a pooled one at J={threshold:g}")
    batch_law, rate_law = sigma_n.batch_size_law_sigma_n, sigma_n.learning_rate_law_sigma_n
    best = (
        _law_value(batch_law.predict, scope, utd, model_size) if batch_law is not None else math.nan,
        _law_value(rate_law.predict, scope, utd, model_size) if rate_law is not None else math.nan,
    )
    notes = _hparam_notes(row, best, f"σ={utd:g}, N={model_size:.4g}")
    sizes = sigma_n.model_sizes_sigma_n
    if sizes and not min(sizes) <= model_size <= max(sizes):
        side = "above the largest" if model_size > max(sizes) else "below the smallest"
        notes.append(
            f"{env}: N={model_size:.4g} is {side} trained model size ({min(sizes):.4g}–{max(sizes):.4g}): D_J(σ, N) is extrapolated in N"
        )
    return _Prediction(scope, float(law.predict(utd, model_size)), law.predict_interval(utd, model_size, fit.interval), notes)


def _law_value(predict, *arguments) -> float:
    """A hyperparameter law's value, NaN when it has none for the scope (an env missing from a σ-only
    law's intercepts raises KeyError, from a (σ, N) law FitInputError)."""
    try:
        return float(predict(*arguments))
    except (FitInputError, KeyError):
        return math.nan


def _hparam_notes(row: pd.Series, best: tuple[float, float], where: str) -> list[str]:
    """A note when the config is not at the fit's B*, η* (`best`; the data law describes runs at those)."""
    best_batch, best_rate = best
    ratios = (row["batch_size"] / best_batch, row["learning_rate"] / best_rate)
    if all(math.isfinite(ratio) and 1 / HPARAM_MATCH_FACTOR <= ratio <= HPARAM_MATCH_FACTOR for ratio in ratios):
        return []
    return [
        f"{row['env']} {where}: B={int(row['batch_size'])}, η={row['learning_rate']:.3g} are not the fit's "
        f"B*={best_batch:.1f}, η*={best_rate:.3g} here (its data law describes runs at those)"
    ]
