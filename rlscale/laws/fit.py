"""`fit_laws`: the whole procedure from a long-form table to every law, as typed results.

Steps (Rybkin et al. 2025, Sections 4–5): normalize returns per env, time to threshold per
config with a bootstrap over seeds, bootstrap-averaged best (B, η) per (env, σ) and their
shared-exponent laws, the data law D_J(σ) per threshold, compute C_J(σ) and the data–compute
frontier, and the budget law σ*(F). Everything is deterministic given `FitOptions.seed`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from rlscale.laws.bootstrap import summarize, summarize_scalar
from rlscale.laws.budget import BudgetLaw, fit_budget_law, resampled_budget_laws
from rlscale.laws.crossings import ConfigCurves, ThresholdTimes, build_config_curves, times_to_threshold
from rlscale.laws.data_law import DataLawParams, fit_data_law, fit_data_law_resamples
from rlscale.laws.frontier import FrontierCurve, compute_flops, pareto_mask
from rlscale.laws.model_size import ModelSizeSplit, split_from_fits
from rlscale.laws.power_laws import PowerLaw, bootstrap_best_values, fit_hparam_law
from rlscale.laws.table import FitInputError, normalize_returns, validate_table

# Paper defaults per suite: (N = agent parameter count, δ = FLOPs per environment step).
SUITE_COMPUTE_DEFAULTS: dict[str, tuple[float, float]] = {"gym": (1.5e5, 4e9), "dmc": (4.92e6, 1e10)}
# When no δ is known for the suite, δ defaults to the Gym ratio δ/N = 4e9 / 1.5e5 times N.
DEFAULT_DELTA_PER_PARAMETER = 4e9 / 1.5e5
SELECTION_THRESHOLD_STEP = 50.0


def _doc(text: str) -> dict:
    return {"doc": text}


@dataclass(frozen=True)
class FitOptions:
    """Options of `fit_laws`; each field's `metadata["doc"]` says what it does."""

    thresholds: tuple[float, ...] | None = field(
        default=None,
        metadata=_doc(
            "Normalized-return thresholds J (0..1000). Default: `n_default_thresholds` values evenly spaced from "
            "half the selection threshold up to it."
        ),
    )
    selection_threshold: float | None = field(
        default=None,
        metadata=_doc(
            "Threshold at which the best (B, η) are chosen. Default: the highest user threshold every (env, σ) "
            "reaches with at least one config, or without user thresholds, that reachable level rounded down "
            "to a multiple of 50."
        ),
    )
    n_bootstrap: int = field(default=100, metadata=_doc("Bootstrap resamples of the seeds (>= 1)."))
    seed: int = field(default=0, metadata=_doc("Seed of the bootstrap's random generator."))
    delta: float | None = field(
        default=None,
        metadata=_doc("FLOPs per environment step, δ in F = C + δ·D. Default: the suite's paper value, else 4e9/1.5e5·N."),
    )
    model_size: float | None = field(
        default=None,
        metadata=_doc("Agent parameter count N. Default: the table's `model_size` column, else the suite's paper value."),
    )
    normalization: Mapping[str, tuple[float, float]] = field(
        default_factory=dict, metadata=_doc("Per-env (low, high) raw-return bounds mapped to (0, 1000).")
    )
    n_default_thresholds: int = field(default=5, metadata=_doc("How many default thresholds to use."))
    sigma_grid_points: int = field(default=64, metadata=_doc("Points of the log-spaced σ grid reported for the frontier."))
    sigma_grid_extension: float = field(
        default=2.0, metadata=_doc("The σ grid spans [min σ / extension, max σ · extension].")
    )
    interval: tuple[float, float] = field(default=(5.0, 95.0), metadata=_doc("Percentiles of the reported intervals."))

    def __post_init__(self) -> None:
        if self.n_bootstrap < 1:
            raise FitInputError(f"n_bootstrap must be at least 1, got {self.n_bootstrap}")
        if self.thresholds is not None and len(self.thresholds) == 0:
            raise FitInputError("thresholds is empty")
        for name in ("delta", "model_size"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise FitInputError(f"{name} must be positive, got {value}")


@dataclass(frozen=True)
class CensoredConfig:
    """A config whose seed-mean curve never reaches `threshold` (excluded from fits at J)."""

    env: str
    utd: float
    batch_size: int
    learning_rate: float
    threshold: float
    last_env_step: int
    diverged_at_env_step: float | None

    def to_dict(self) -> dict:
        return {field_.name: getattr(self, field_.name) for field_ in fields(self)}


@dataclass(frozen=True)
class BestHparams:
    """The config with the smallest time to `threshold` for (env, utd) (ties: smaller B, then η)."""

    env: str
    utd: float
    threshold: float
    batch_size: int
    learning_rate: float
    time_to_threshold: float
    time_to_threshold_median: float
    time_to_threshold_ci: tuple[float, float]

    def to_dict(self) -> dict:
        values = {field_.name: getattr(self, field_.name) for field_ in fields(self)}
        values["time_to_threshold_ci"] = list(self.time_to_threshold_ci)
        return values


@dataclass(frozen=True)
class DataPoint:
    """D_J of `env` at one σ: the minimum over (B, η) of the seed-mean time, with the bootstrap
    median and interval of that minimum (+inf: no config reaches J)."""

    env: str
    utd: float
    time: float
    median: float
    ci: tuple[float, float]

    def to_dict(self) -> dict:
        return {"env": self.env, "utd": self.utd, "time": self.time, "median": self.median, "ci": list(self.ci)}


@dataclass(frozen=True)
class DataLawFit:
    """D_J(σ) = d_min + (beta / σ)^alpha for one threshold and scope (env or "all").

    For scope "all", each env's times are divided by that env's median time (`env_scales`),
    fitted together, and the law and points are rescaled by the geometric mean of those medians
    (`scale`), so they read in env steps of a "typical" env.
    """

    threshold: float
    scope: str
    d_min: float
    beta: float
    alpha: float
    rms_log_residual: float
    d_min_median: float
    beta_median: float
    alpha_median: float
    d_min_ci: tuple[float, float]
    beta_ci: tuple[float, float]
    alpha_ci: tuple[float, float]
    points: tuple[DataPoint, ...]
    scale: float = 1.0
    env_scales: Mapping[str, float] = field(default_factory=dict)
    resampled_params: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    """(d_min, beta, alpha), each shape (R,): the law refitted on each bootstrap resample (not in fit.json)."""

    @property
    def params(self) -> DataLawParams:
        return DataLawParams(self.d_min, self.beta, self.alpha, self.rms_log_residual)

    def predict(self, sigma: float | np.ndarray) -> float | np.ndarray:
        """D_J at UTD `sigma` (env steps; any shape)."""
        return self.params.predict(sigma)

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "scope": self.scope,
            "d_min": self.d_min,
            "beta": self.beta,
            "alpha": self.alpha,
            "rms_log_residual": self.rms_log_residual,
            "d_min_median": self.d_min_median,
            "beta_median": self.beta_median,
            "alpha_median": self.alpha_median,
            "d_min_ci": list(self.d_min_ci),
            "beta_ci": list(self.beta_ci),
            "alpha_ci": list(self.alpha_ci),
            "scale": self.scale,
            "env_scales": dict(self.env_scales),
            "points": [point.to_dict() for point in self.points],
        }


@dataclass(frozen=True)
class FitResult:
    """Everything `fit_laws` fitted; `to_dict()` is the fit.json structure (see SCHEMA.md)."""

    thresholds: tuple[float, ...]
    selection_threshold: float
    n_bootstrap: int
    seed: int
    interval: tuple[float, float]
    normalization: Mapping[str, tuple[float, float]]
    n_rows: int
    n_configs: int
    envs: tuple[str, ...]
    utds: tuple[float, ...]
    censored: tuple[CensoredConfig, ...]
    best_hparams: tuple[BestHparams, ...]
    batch_size_law: PowerLaw
    learning_rate_law: PowerLaw
    data_law: tuple[DataLawFit, ...]
    model_size: float | None
    delta: float | None
    frontier: tuple[FrontierCurve, ...]
    budget_law: BudgetLaw | None
    budget_law_per_env: tuple[BudgetLaw, ...]
    notes: tuple[str, ...]
    by_model_size: Mapping[str, "FitResult"] = field(default_factory=dict)
    model_size_split: tuple[ModelSizeSplit, ...] = ()
    """Per threshold, the budget-optimal (model size, σ) over the sizes of `by_model_size`
    (rlscale/laws/model_size.py); empty with one model size."""

    def data_law_for(self, threshold: float, scope: str) -> DataLawFit | None:
        """The data-law fit for (threshold, scope), or None when it could not be fitted."""
        for fit in self.data_law:
            if fit.scope == scope and math.isclose(fit.threshold, threshold):
                return fit
        return None

    def to_dict(self) -> dict:
        result = {
            "thresholds": list(self.thresholds),
            "selection_threshold": self.selection_threshold,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "interval": list(self.interval),
            "normalization": {env: list(bounds) for env, bounds in self.normalization.items()},
            "n_rows": self.n_rows,
            "n_configs": self.n_configs,
            "envs": list(self.envs),
            "utds": list(self.utds),
            "censored": [item.to_dict() for item in self.censored],
            "best_hparams": [item.to_dict() for item in self.best_hparams],
            "batch_size_law": self.batch_size_law.to_dict(),
            "learning_rate_law": self.learning_rate_law.to_dict(),
            "data_law": [item.to_dict() for item in self.data_law],
            "model_size": self.model_size,
            "delta": self.delta,
            "frontier": [item.to_dict() for item in self.frontier],
            "budget_law": self.budget_law.to_dict() if self.budget_law else None,
            "budget_law_per_env": [item.to_dict() for item in self.budget_law_per_env],
            "notes": list(self.notes),
            "by_model_size": {size: fit.to_dict() for size, fit in self.by_model_size.items()},
            "model_size_split": [item.to_dict() for item in self.model_size_split],
        }
        return _json_safe(result)


def _json_safe(value):
    """Replace non-finite floats (never-reached times, failed fits) by None, numpy scalars by Python ones."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def fit_laws(table: pd.DataFrame, options: FitOptions | None = None) -> FitResult:
    """Fit every law of the paper to a long-form table (see SCHEMA.md for its columns).

    With several distinct `model_size` values (and no `options.model_size`), the laws are fitted per
    model size: the top-level fields describe the largest model, `by_model_size` holds every
    size's own `FitResult`, keyed by the size as a string, and `model_size_split` the
    budget-optimal (N, σ) per threshold (with the largest model's δ for every size).

    Raises:
        FitInputError: the table or options cannot be fitted; the message names the problem.
    """
    options = options or FitOptions()
    clean = validate_table(table)
    sizes = (
        np.sort(clean["model_size"].dropna().unique())
        if "model_size" in clean.columns and options.model_size is None
        else np.array([])
    )
    if len(sizes) > 1:
        if clean["model_size"].isna().any():
            raise FitInputError("column 'model_size' is missing for some rows while the table has several model sizes")
        per_size = {}
        for size in sizes:
            try:
                per_size[_size_key(size)] = _fit_one_model_size(clean[clean["model_size"] == size], options)
            except FitInputError as error:
                raise FitInputError(f"model_size={_size_key(size)}: {error}") from None
        largest = per_size[_size_key(sizes[-1])]
        split = split_from_fits(per_size, largest.delta, options.sigma_grid_extension)
        return dataclasses.replace(largest, by_model_size=per_size, model_size_split=tuple(split))
    return _fit_one_model_size(clean, options)


def _size_key(size: float) -> str:
    return str(int(size)) if float(size).is_integer() else repr(float(size))


def _choose_thresholds(curves: ConfigCurves, options: FitOptions) -> tuple[np.ndarray, float, list[str]]:
    """Thresholds (ascending, shape (J,)) and the selection threshold, with notes on defaults."""
    notes = []
    final = pd.Series(curves.final_mean_return())
    configs = curves.configs
    reachable_per_group = final.groupby([configs["env"], configs["utd"]]).max()
    reachable = float(reachable_per_group.min())
    worst_env, worst_utd = reachable_per_group.idxmin()
    if options.selection_threshold is not None:
        selection = float(options.selection_threshold)
    elif options.thresholds is not None:
        candidates = [threshold for threshold in sorted(options.thresholds) if threshold <= reachable]
        if not candidates:
            raise FitInputError(
                f"no threshold in {sorted(options.thresholds)} is reached by any config of env '{worst_env}' at "
                f"σ={worst_utd} (its best seed-mean normalized return is {reachable:.1f}); lower the thresholds"
            )
        selection = float(candidates[-1])
        notes.append(f"selection threshold defaulted to {selection}, the highest threshold every (env, σ) reaches")
    else:
        selection = math.floor(reachable / SELECTION_THRESHOLD_STEP) * SELECTION_THRESHOLD_STEP
        if not selection > 0:
            raise FitInputError(
                f"no config of env '{worst_env}' at σ={worst_utd} reaches a normalized return of "
                f"{SELECTION_THRESHOLD_STEP:.0f} (its best seed-mean normalized return is {reachable:.1f}), so no "
                "threshold is reached by every (env, σ); check the return normalization or pass --selection-threshold"
            )
        notes.append(
            f"selection threshold defaulted to {selection}, the highest multiple of {SELECTION_THRESHOLD_STEP:.0f} "
            "every (env, σ) reaches"
        )
    if options.thresholds is None:
        thresholds = np.linspace(selection / 2.0, selection, options.n_default_thresholds)
        notes.append(f"thresholds defaulted to {options.n_default_thresholds} values evenly spaced in [J/2, J] for J={selection}")
    else:
        thresholds = np.asarray(sorted(set(map(float, options.thresholds)) | {selection}))
    return np.unique(np.round(thresholds, 6)), selection, notes


def _fit_one_model_size(clean: pd.DataFrame, options: FitOptions) -> FitResult:
    normalized, bounds = normalize_returns(clean, options.normalization)
    curves = build_config_curves(normalized)
    configs = curves.configs
    thresholds, selection, notes = _choose_thresholds(curves, options)
    rng = np.random.default_rng(options.seed)
    times = times_to_threshold(curves, thresholds, options.n_bootstrap, rng)
    if not np.isfinite(times.point).any():
        raise FitInputError(
            f"no config's seed-mean curve reaches any threshold (thresholds {thresholds.tolist()}; the best "
            f"seed-mean normalized return is {np.max(curves.final_mean_return()):.1f})"
        )
    selection_index = int(np.flatnonzero(np.isclose(thresholds, selection))[0])
    selection_times = times.bootstrap[:, :, selection_index]
    if not np.isfinite(times.point[:, selection_index]).any():
        raise FitInputError(f"no config reaches the selection threshold {selection}")
    best_batch_sizes = bootstrap_best_values(configs, selection_times, "batch_size", "learning_rate")
    batch_size_law = fit_hparam_law(best_batch_sizes, "batch_size")
    groups = configs[["env", "utd"]].drop_duplicates()
    if len(best_batch_sizes) < len(groups):
        fitted_groups = set(zip(best_batch_sizes["env"], best_batch_sizes["utd"]))
        missing = [f"{env} σ={utd:g}" for env, utd in zip(groups["env"], groups["utd"]) if (env, float(utd)) not in fitted_groups]
        notes.append(
            f"no config reaches the selection threshold {selection:g} at {', '.join(missing)}: "
            "left out of the hyperparameter laws"
        )
    learning_rate_law = fit_hparam_law(
        bootstrap_best_values(configs, selection_times, "learning_rate", "batch_size"), "learning_rate"
    )
    data_laws, data_notes = _fit_data_laws(configs, times, options)
    notes += data_notes
    model_size, delta, size_notes = _compute_constants(clean, options)
    notes += size_notes
    frontier, budget_law, budget_per_env, budget_notes = _frontier_and_budget(
        data_laws, batch_size_law, configs, thresholds, model_size, delta, options
    )
    notes += budget_notes
    diverged = configs["diverged_at_env_step"].notna()
    if diverged.any():
        notes.append(f"{int(diverged.sum())} config(s) diverged; their curves stop before the divergence step")
    return FitResult(
        thresholds=tuple(float(value) for value in thresholds),
        selection_threshold=float(selection),
        n_bootstrap=options.n_bootstrap,
        seed=options.seed,
        interval=tuple(options.interval),
        normalization=bounds,
        n_rows=len(clean),
        n_configs=len(configs),
        envs=tuple(sorted(configs["env"].unique())),
        utds=tuple(float(value) for value in sorted(configs["utd"].unique())),
        censored=_censored(configs, times),
        best_hparams=_best_hparams(configs, times, options),
        batch_size_law=batch_size_law,
        learning_rate_law=learning_rate_law,
        data_law=tuple(data_laws),
        model_size=model_size,
        delta=delta,
        frontier=tuple(frontier),
        budget_law=budget_law,
        budget_law_per_env=tuple(budget_per_env),
        notes=tuple(notes),
    )


def _censored(configs: pd.DataFrame, times: ThresholdTimes) -> tuple[CensoredConfig, ...]:
    never = np.argwhere(~np.isfinite(times.point))
    items = []
    for config_index, threshold_index in never:
        row = configs.iloc[config_index]
        diverged_at = row["diverged_at_env_step"]
        items.append(
            CensoredConfig(
                env=str(row["env"]),
                utd=float(row["utd"]),
                batch_size=int(row["batch_size"]),
                learning_rate=float(row["learning_rate"]),
                threshold=float(times.thresholds[threshold_index]),
                last_env_step=int(row["last_env_step"]),
                diverged_at_env_step=None if pd.isna(diverged_at) else float(diverged_at),
            )
        )
    return tuple(items)


def _best_hparams(configs: pd.DataFrame, times: ThresholdTimes, options: FitOptions) -> tuple[BestHparams, ...]:
    items = []
    for (env, utd), group in configs.groupby(["env", "utd"], sort=True):
        ordered = group.sort_values(["batch_size", "learning_rate"], kind="stable")
        for threshold_index, threshold in enumerate(times.thresholds):
            group_times = times.point[ordered.index.to_numpy(), threshold_index]
            if not np.isfinite(group_times).any():
                continue
            best_position = int(np.argmin(group_times))
            config_index = ordered.index[best_position]
            median, low, high = summarize_scalar(times.bootstrap[:, config_index, threshold_index], options.interval)
            items.append(
                BestHparams(
                    env=str(env),
                    utd=float(utd),
                    threshold=float(threshold),
                    batch_size=int(configs.at[config_index, "batch_size"]),
                    learning_rate=float(configs.at[config_index, "learning_rate"]),
                    time_to_threshold=float(group_times[best_position]),
                    time_to_threshold_median=median,
                    time_to_threshold_ci=(low, high),
                )
            )
    return tuple(items)


def _data_points(configs: pd.DataFrame, times: ThresholdTimes, env: str, threshold_index: int):
    """Per σ of `env`: the minimum over configs of the point time (shape (n,)) and of each
    resample's time (shape (R, n)); σ ascending (shape (n,))."""
    sigmas, point, resampled = [], [], []
    for utd, group in configs[configs["env"] == env].groupby("utd", sort=True):
        indices = group.index.to_numpy()
        sigmas.append(float(utd))
        point.append(times.point[indices, threshold_index].min())
        resampled.append(times.bootstrap[:, indices, threshold_index].min(axis=1))
    return np.array(sigmas), np.array(point), np.stack(resampled, axis=1)


def _data_law_fit(
    threshold: float,
    scope: str,
    sigmas: np.ndarray,
    point: np.ndarray,
    resampled: np.ndarray,
    options: FitOptions,
    scale: float = 1.0,
    env_scales: Mapping[str, float] | None = None,
    point_envs: list[str] | None = None,
) -> DataLawFit | None:
    """Fit one data law to points (σ (n,), point times (n,), resampled times (R, n)) in units
    where the result is multiplied by `scale`; None when fewer than 3 σ have a finite time."""
    params = fit_data_law(sigmas, point)
    if params is None:
        return None
    d_min, beta, alpha = fit_data_law_resamples(sigmas, resampled, params)
    medians, lows, highs = summarize(resampled, axis=0, interval=options.interval)
    point_envs = point_envs if point_envs is not None else [scope] * len(sigmas)
    points = tuple(
        DataPoint(
            env=str(env),
            utd=float(sigma),
            time=float(value) * scale,
            median=float(median) * scale,
            ci=(float(low) * scale, float(high) * scale),
        )
        for env, sigma, value, median, low, high in zip(point_envs, sigmas, point, medians, lows, highs)
    )
    params = params.rescaled(scale)
    with np.errstate(over="ignore", invalid="ignore"):
        beta_scaled = beta * scale ** (1.0 / alpha)
    d_min_summary = summarize_scalar(d_min * scale, options.interval)
    beta_summary = summarize_scalar(beta_scaled, options.interval)
    alpha_summary = summarize_scalar(alpha, options.interval)
    return DataLawFit(
        threshold=float(threshold),
        scope=scope,
        d_min=params.d_min,
        beta=params.beta,
        alpha=params.alpha,
        rms_log_residual=params.rms_log_residual,
        d_min_median=d_min_summary[0],
        beta_median=beta_summary[0],
        alpha_median=alpha_summary[0],
        d_min_ci=d_min_summary[1:],
        beta_ci=beta_summary[1:],
        alpha_ci=alpha_summary[1:],
        resampled_params=(d_min * scale, beta_scaled, alpha),
        points=points,
        scale=float(scale),
        env_scales=dict(env_scales or {}),
    )


def _fit_data_laws(configs: pd.DataFrame, times: ThresholdTimes, options: FitOptions) -> tuple[list[DataLawFit], list[str]]:
    fits, notes = [], []
    envs = sorted(configs["env"].unique())
    for threshold_index, threshold in enumerate(times.thresholds):
        pooled_sigmas, pooled_point, pooled_resampled, pooled_envs, medians = [], [], [], [], {}
        for env in envs:
            sigmas, point, resampled = _data_points(configs, times, env, threshold_index)
            fit = _data_law_fit(threshold, env, sigmas, point, resampled, options)
            if fit is None:
                notes.append(f"data law not fitted for env '{env}' at J={threshold:g}: fewer than 3 σ reach it")
            else:
                fits.append(fit)
            finite = np.isfinite(point)
            if finite.any():
                medians[env] = float(np.median(point[finite]))
                pooled_sigmas.append(sigmas)
                pooled_point.append(point / medians[env])
                pooled_resampled.append(resampled / medians[env])
                pooled_envs += [env] * len(sigmas)
        if not medians:
            continue
        scale = float(np.exp(np.mean(np.log(list(medians.values())))))
        pooled = _data_law_fit(
            threshold,
            "all",
            np.concatenate(pooled_sigmas),
            np.concatenate(pooled_point),
            np.concatenate(pooled_resampled, axis=1),
            options,
            scale=scale,
            env_scales=medians,
            point_envs=pooled_envs,
        )
        if pooled is None:
            notes.append(f"data law not fitted for all envs at J={threshold:g}: fewer than 3 σ reach it")
        else:
            fits.append(pooled)
    return fits, notes


def _compute_constants(clean: pd.DataFrame, options: FitOptions) -> tuple[float | None, float | None, list[str]]:
    """N and δ for the compute and budget laws, with notes saying where they came from."""
    notes = []
    suites = sorted(clean["suite"].unique())
    suite_default = SUITE_COMPUTE_DEFAULTS.get(suites[0]) if len(suites) == 1 else None
    model_size = options.model_size
    if model_size is None and "model_size" in clean.columns and clean["model_size"].notna().any():
        model_size = float(clean["model_size"].dropna().iloc[0])
        notes.append(f"model size N={model_size:g} read from the table's model_size column")
    if model_size is None and suite_default is not None:
        model_size = suite_default[0]
        notes.append(f"model size N={model_size:g}: the paper's value for suite '{suites[0]}'")
    if model_size is None:
        notes.append("no model size known (no model_size column, option or suite default): compute and budget laws skipped")
        return None, None, notes
    delta = options.delta
    if delta is None and suite_default is not None:
        delta = suite_default[1]
        notes.append(f"δ={delta:g} FLOPs per env step: the paper's value for suite '{suites[0]}'")
    if delta is None:
        delta = DEFAULT_DELTA_PER_PARAMETER * model_size
        notes.append(f"δ={delta:g}: the paper's Gym ratio δ/N = {DEFAULT_DELTA_PER_PARAMETER:g} times N")
    return float(model_size), float(delta), notes


def _frontier_and_budget(
    data_laws: list[DataLawFit],
    batch_size_law: PowerLaw,
    configs: pd.DataFrame,
    thresholds: np.ndarray,
    model_size: float | None,
    delta: float | None,
    options: FitOptions,
) -> tuple[list[FrontierCurve], BudgetLaw | None, list[BudgetLaw], list[str]]:
    if model_size is None or delta is None:
        return [], None, [], []
    utds = configs["utd"].to_numpy(dtype=float)
    low, high = utds.min() / options.sigma_grid_extension, utds.max() * options.sigma_grid_extension
    reported_grid = np.geomspace(low, high, options.sigma_grid_points)
    dense_grid = np.geomspace(low, high, 2000)
    envs = sorted(batch_size_law.intercept)
    mean_intercept = float(np.mean([batch_size_law.intercept[env] for env in envs]))

    def batch_sizes(scope: str, sigma: np.ndarray) -> np.ndarray:
        if scope == "all":
            return 10.0 ** (mean_intercept + batch_size_law.slope * np.log10(sigma))
        return batch_size_law.predict(scope, sigma)

    def curve(fit: DataLawFit, sigma: np.ndarray) -> FrontierCurve:
        batch = batch_sizes(fit.scope, sigma)
        data = fit.predict(sigma)
        compute = compute_flops(model_size, batch, sigma, data)
        return FrontierCurve(fit.scope, fit.threshold, sigma, batch, data, compute, pareto_mask(data, compute))

    def resampled_optima(fit: DataLawFit) -> tuple[np.ndarray, np.ndarray]:
        """F* and σ* (each shape (R,)) of each resample's data law on the dense grid."""
        d_min, beta, alpha = (values[:, None] for values in fit.resampled_params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            data = d_min + (beta / dense_grid[None, :]) ** alpha
            budget = compute_flops(model_size, batch_sizes(fit.scope, dense_grid)[None, :], dense_grid[None, :], data) + delta * data
        budget = np.where(np.isnan(budget), np.inf, budget)
        best = np.argmin(budget, axis=1)
        optimum = budget[np.arange(len(best)), best]
        return optimum, np.where(np.isfinite(optimum), dense_grid[best], np.nan)

    frontier = []
    dense_by_scope: dict[str, list[FrontierCurve]] = {}
    resampled_by_scope: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for fit in data_laws:
        if fit.scope != "all" and fit.scope not in batch_size_law.intercept:
            continue
        frontier.append(curve(fit, reported_grid))
        dense_by_scope.setdefault(fit.scope, []).append(curve(fit, dense_grid))
        resampled_by_scope.setdefault(fit.scope, []).append(resampled_optima(fit))
    notes = []
    budget_laws = {}
    for scope, curves in dense_by_scope.items():
        law = fit_budget_law(curves, delta, model_size)
        if law is None:
            notes.append(f"budget law not fitted for scope '{scope}': it needs data laws at 4 or more thresholds")
        else:
            budgets = np.stack([optimum for optimum, _ in resampled_by_scope[scope]], axis=1)
            sigmas = np.stack([sigma for _, sigma in resampled_by_scope[scope]], axis=1)
            coefficients, exponents = resampled_budget_laws(budgets, sigmas)
            coefficient_summary = summarize_scalar(coefficients, options.interval)
            exponent_summary = summarize_scalar(exponents, options.interval)
            law = dataclasses.replace(
                law,
                coefficient_median=coefficient_summary[0],
                coefficient_ci=coefficient_summary[1:],
                exponent_median=exponent_summary[0],
                exponent_ci=exponent_summary[1:],
            )
            budget_laws[scope] = law
            if any(point.at_grid_edge for point in law.points):
                notes.append(f"budget law '{scope}': some σ* lie at the edge of the σ grid (bounds, not optima)")
    per_env = [budget_laws[env] for env in envs if env in budget_laws]
    return frontier, budget_laws.get("all"), per_env, notes
