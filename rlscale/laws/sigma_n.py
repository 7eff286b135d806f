"""The joint (σ, N) laws of a table with several model sizes (Fu, Rybkin et al. 2025, arXiv
2508.14881): from the times to threshold of every (env, σ, N, B, η) config to `SigmaNFit`.

N is the table's `model_size`: the critic's parameter count (both papers' convention). Steps:

1. **Best hyperparameters per (env, σ, N)** at the selection threshold, exactly as the σ-only fit
   chooses them per (env, σ) (qscaled's bootstrap votes, `power_laws.bootstrap_best_values`) and as
   the authors' `grid_best_uncertainty_bs` does grouped by critic width. A table with one (B, η) per
   (env, σ, N) (runs at chosen hyperparameters, as the authors') gives those.
2. **B\\*(σ, N)** = a / (σ^α (1 + (b/N)^c)) per env (`sigma_n_laws`), the pooled scope "all" the mean
   over envs; **η\\*(σ, N)**: OLS of log10 η\\* on log10 σ and log10 N (shared slopes, one intercept
   per env), compared with the σ-only law (`LearningRateLawSigmaN.n_matters`).
3. **D_J points**: per (env, σ, N) the config nearest B\\*(σ, N), η\\*(σ, N) in grid steps of log B
   and log η (`data_points="law"`, the σ-only fit's rule), or the fastest (`"minimum"`, what the
   authors' SimbaV2 notebook fits: biased low on a noisy grid).
4. **D_J(σ, N)** = c (1 + (a/σ)^α + (b/N)^β) per threshold, per env and pooled over envs (App. D,
   `pooling.py`, over the (σ, N) points), optionally with one (α, β) per scope shared across the
   thresholds; every law refitted on each seed-bootstrap resample.
5. **The compute-optimal allocation** per scope (`allocation.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rlscale.laws.allocation import SearchBox, allocate
from rlscale.laws.bootstrap import summarize, summarize_scalar
from rlscale.laws.crossings import ThresholdTimes
from rlscale.laws.points import ConfigPoints, config_points
from rlscale.laws.pooling import pool_env_times
from rlscale.laws.power_laws import FLAT_SLOPE_TOLERANCE, bootstrap_best_values
from rlscale.laws.results import (
    POOLED_SCOPE,
    BatchSizeLawSigmaN,
    BatchSizeLawsSigmaN,
    JointDataLaw,
    LearningRateLawSigmaN,
    SigmaNFit,
    SigmaNPoint,
)
from rlscale.laws.sigma_n_laws import (
    fit_batch_size_law,
    fit_joint_data_laws,
    refit_batch_size_law,
    refit_joint_data_laws,
    refit_shared_joint_data_laws,
)
from rlscale.laws.table import FitInputError

if TYPE_CHECKING:
    from rlscale.laws.options import FitOptions

GROUP_KEYS = ("env", "utd", "model_size")
"""A (σ, N) point of one env."""
MATERIAL_FACTOR = 1.25
"""N matters for η* only if the (σ, N) law's η* changes by more than this factor across the trained
sizes (the factor by which a stage-2 run's η may miss its law before `fit_laws` notes it)."""
SUITE_DELTA_SIGMA_N: dict[str, float] = {"dmc": 1e11}
"""δ of the (σ, N) allocation per suite: the follow-up's DMC notebooks use δ = 1e11 FLOPs per env step
(`delta_dict = defaultdict(lambda: '1e11')` in scaling_laws_dmc.ipynb). Other suites use the fit's δ."""


def fit_sigma_n(
    configs: pd.DataFrame,
    times: ThresholdTimes,
    selection: float,
    options: "FitOptions",
    delta: float,
    algo: str | None = None,
    agent_options: str | None = None,
) -> tuple[SigmaNFit, list[str]]:
    """The joint laws of `configs` (one row per config with the `GROUP_KEYS`, `batch_size` and
    `learning_rate`; C rows) from their `times` (point (C, J), bootstrap (R, C, J)).

    Raises:
        FitInputError: nothing can be fitted (fewer than 2 σ or N with a config reaching the
            selection threshold); the caller turns it into a note.
    """
    notes: list[str] = []
    selection_index = int(np.flatnonzero(np.isclose(times.thresholds, selection))[0])
    selection_times = times.bootstrap[:, :, selection_index]
    best_batch = bootstrap_best_values(configs, selection_times, "batch_size", "learning_rate", GROUP_KEYS, options.unreached_cells, options.tied_votes)
    best_rate = bootstrap_best_values(configs, selection_times, "learning_rate", "batch_size", GROUP_KEYS, options.unreached_cells, options.tied_votes)
    if best_batch["utd"].nunique() < 2 or best_batch["model_size"].nunique() < 2:
        raise FitInputError(f"fewer than 2 σ or 2 model sizes have a config reaching the selection threshold {selection:g}")
    batch_laws, batch_notes = fit_batch_size_laws_sigma_n(best_batch, selection, options.interval)
    rate_law, rate_notes = fit_learning_rate_law_sigma_n(best_rate, options.interval)
    notes += batch_notes + rate_notes
    chosen = _chosen_configs(configs, batch_laws, rate_law, best_batch, best_rate) if options.data_points == "law" else None
    per_env = {}
    for env in sorted(configs["env"].unique()):
        env_points = config_points(configs, times, str(env), chosen, GROUP_KEYS[1:])
        if env_points is not None:
            per_env[str(env)] = env_points
    data_laws, law_notes = _data_laws(per_env, times, options)
    notes += law_notes
    allocations = []
    box = SearchBox.around(configs["utd"].to_numpy(dtype=float), configs["model_size"].to_numpy(dtype=float), options.sigma_grid_extension)
    if batch_laws is not None:
        for scope in [*per_env, POOLED_SCOPE]:
            laws = [law for law in data_laws if law.scope == scope]
            if scope != POOLED_SCOPE and scope not in {law.env for law in batch_laws.laws}:
                notes.append(f"(σ, N) allocation for env '{scope}' not computed: it has no B*(σ, N) law")
                continue
            if not laws:
                continue
            allocation, allocation_notes = allocate(
                scope,
                laws,
                lambda sigma, size, scope=scope: batch_laws.predict(scope, sigma, size),
                delta,
                box,
                configs["utd"].unique(),
                configs["model_size"].unique(),
                options.interval,
            )
            notes += allocation_notes
            if allocation is not None:
                allocations.append(allocation)
    else:
        notes.append("(σ, N) allocation not computed: no env has a B*(σ, N) law")
    return (
        SigmaNFit(
            data_law_sigma_n=tuple(data_laws),
            batch_size_law_sigma_n=batch_laws,
            learning_rate_law_sigma_n=rate_law,
            allocation_sigma_n=tuple(allocations),
            thresholds_sigma_n=tuple(float(value) for value in times.thresholds),
            selection_threshold_sigma_n=float(selection),
            model_sizes_sigma_n=tuple(float(value) for value in sorted(configs["model_size"].unique())),
            data_points_sigma_n=options.data_points,
            algo=algo,
            agent_options=agent_options,
        ),
        notes,
    )


def sigma_n_delta(suites: list[str], option_delta: float | None, fit_delta: float | None) -> tuple[float | None, str]:
    """δ of the (σ, N) allocation and where it comes from: the option, else the follow-up's value
    for the suite (`SUITE_DELTA_SIGMA_N`), else the fit's δ (that of the largest model)."""
    if option_delta is not None:
        return float(option_delta), "the --delta option"
    if len(suites) == 1 and suites[0] in SUITE_DELTA_SIGMA_N:
        return SUITE_DELTA_SIGMA_N[suites[0]], f"the follow-up paper's value for suite '{suites[0]}'"
    return fit_delta, "the fit's δ (that of the largest model)"


def _points(frame: pd.DataFrame, interval: tuple[float, float]) -> tuple[SigmaNPoint, ...]:
    """`bootstrap_best_values` rows as points with the interval of their per-resample values."""
    points = []
    for row in frame.itertuples(index=False):
        median, low, high = summarize_scalar(row.per_resample, interval)
        points.append(SigmaNPoint(str(row.env), float(row.utd), float(row.model_size), float(row.value), median, (low, high)))
    return tuple(points)


def fit_batch_size_laws_sigma_n(best: pd.DataFrame, selection: float, interval) -> tuple[BatchSizeLawsSigmaN | None, list[str]]:
    """B*(σ, N) per env from the bootstrap-averaged best B; None when no env has enough points."""
    laws, notes = [], []
    for env, points in best.groupby("env", sort=True):
        sigmas, sizes = points["utd"].to_numpy(dtype=float), points["model_size"].to_numpy(dtype=float)
        params = fit_batch_size_law(sigmas, sizes, points["value"].to_numpy(dtype=float))
        if params is None:
            notes.append(f"B*(σ, N) not fitted for env '{env}': it needs 5 (σ, N) points with 2 σ and 2 N or more")
            continue
        resamples = refit_batch_size_law(sigmas, sizes, np.stack(points["per_resample"].to_list(), axis=1), params)
        cis = [summarize_scalar(resamples[:, k], interval)[1:] for k in range(4)]
        laws.append(BatchSizeLawSigmaN(str(env), params.a, params.alpha, params.b, params.c, params.rms_log_residual, *cis, resamples=resamples))
    if not laws:
        return None, notes
    return BatchSizeLawsSigmaN(tuple(laws), _points(best, interval), float(selection)), notes


def _shared_slope_fit(envs: np.ndarray, columns: list[np.ndarray], targets: np.ndarray) -> np.ndarray | None:
    """OLS of `targets` (n,) or (n, K) on one intercept per env (sorted) and the `columns` (n,) each;
    shape (E + len(columns), K), or None when the design is rank-deficient."""
    names, index = np.unique(envs, return_inverse=True)
    design = np.zeros((len(envs), len(names) + len(columns)))
    design[np.arange(len(envs)), index] = 1.0
    for k, column in enumerate(columns):
        design[:, len(names) + k] = column
    if len(envs) < design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    solution = np.linalg.lstsq(design, targets.reshape(len(envs), -1), rcond=None)[0]
    slopes = solution[len(names):]
    slopes[np.abs(slopes) < FLAT_SLOPE_TOLERANCE] = 0.0
    return solution


def _held_out_error(envs, log_sigma, log_size, targets, with_size: bool) -> float:
    """RMS of ln(predicted / best) over the points of each model size predicted by the law fitted
    to the other sizes (NaN with fewer than 3 sizes: the N slope is not identified from one)."""
    sizes = np.unique(log_size)
    if len(sizes) < 3:
        return math.nan
    errors = []
    for size in sizes:
        held = log_size == size
        columns = [log_sigma[~held], log_size[~held]] if with_size else [log_sigma[~held]]
        solution = _shared_slope_fit(envs[~held], columns, targets[~held])
        if solution is None:
            return math.nan
        names = list(np.unique(envs[~held]))
        for env, sigma, point_size, target in zip(envs[held], log_sigma[held], log_size[held], targets[held]):
            if env not in names:
                continue
            predicted = solution[names.index(env), 0] + solution[len(names), 0] * sigma
            if with_size:
                predicted += solution[len(names) + 1, 0] * point_size
            errors.append((predicted - target) * math.log(10.0))
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else math.nan


def fit_learning_rate_law_sigma_n(best: pd.DataFrame, interval) -> tuple[LearningRateLawSigmaN | None, list[str]]:
    """η*(σ, N) with and without N, and whether N matters."""
    envs = best["env"].to_numpy().astype(str)
    sizes = best["model_size"].to_numpy(dtype=float)
    reference = float(np.exp(np.mean(np.log(np.unique(sizes)))))
    log_sigma = np.log10(best["utd"].to_numpy(dtype=float))
    log_size = np.log10(sizes / reference)
    targets = np.log10(best["value"].to_numpy(dtype=float))
    resampled = np.log10(np.stack(best["per_resample"].to_list(), axis=0))
    full = _shared_slope_fit(envs, [log_sigma, log_size], np.column_stack([targets, resampled]))
    sigma_only = _shared_slope_fit(envs, [log_sigma], np.column_stack([targets, resampled]))
    if full is None or sigma_only is None:
        return None, ["η*(σ, N) not fitted: too few (σ, N) points with a best learning rate for one slope per axis and one intercept per env"]
    names = sorted(np.unique(envs))
    n_envs = len(names)
    fitted_full = full[:n_envs, 0][np.searchsorted(names, envs)] + full[n_envs, 0] * log_sigma + full[n_envs + 1, 0] * log_size
    fitted_sigma = sigma_only[:n_envs, 0][np.searchsorted(names, envs)] + sigma_only[n_envs, 0] * log_sigma
    exponent_ci = summarize_scalar(full[n_envs + 1, 1:], interval)[1:]
    held_out = _held_out_error(envs, log_sigma, log_size, targets, with_size=True)
    held_out_sigma = _held_out_error(envs, log_sigma, log_size, targets, with_size=False)
    excludes_zero = bool(exponent_ci[0] > 0 or exponent_ci[1] < 0)
    predicts_better = not (math.isfinite(held_out) and math.isfinite(held_out_sigma)) or held_out < held_out_sigma
    span = abs(full[n_envs + 1, 0]) * float(np.ptp(log_size))
    n_matters = excludes_zero and predicts_better and span > math.log10(MATERIAL_FACTOR)
    note = (
        f"η*(σ, N): N exponent {full[n_envs + 1, 0]:.3g} [{exponent_ci[0]:.3g}, {exponent_ci[1]:.3g}]; held-out RMS log error "
        f"{held_out:.3g} with N vs {held_out_sigma:.3g} without; η* changes ×{10 ** span:.3g} across the trained N: "
        f"N {'matters' if n_matters else 'does not matter'} here "
        f"({'the (σ, N)' if n_matters else 'the σ-only'} law is used)"
    )
    resamples = np.column_stack([-full[n_envs, 1:], full[n_envs + 1, 1:], full[:n_envs, 1:].T])
    sigma_only_resamples = np.column_stack([-sigma_only[n_envs, 1:], sigma_only[:n_envs, 1:].T])
    return (
        LearningRateLawSigmaN(
            alpha=float(-full[n_envs, 0]),
            n_exponent=float(full[n_envs + 1, 0]),
            intercept={env: float(full[k, 0]) for k, env in enumerate(names)},
            reference_model_size=reference,
            alpha_ci=summarize_scalar(-full[n_envs, 1:], interval)[1:],
            n_exponent_ci=exponent_ci,
            rms_log_residual=float(np.sqrt(np.mean(((fitted_full - targets) * math.log(10.0)) ** 2))),
            held_out_rms_log_error=held_out,
            sigma_only_alpha=float(-sigma_only[n_envs, 0]),
            sigma_only_intercept={env: float(sigma_only[k, 0]) for k, env in enumerate(names)},
            sigma_only_rms_log_residual=float(np.sqrt(np.mean(((fitted_sigma - targets) * math.log(10.0)) ** 2))),
            sigma_only_held_out_rms_log_error=held_out_sigma,
            n_matters=n_matters,
            points=_points(best, interval),
            resamples=resamples,
            sigma_only_resamples=sigma_only_resamples,
        ),
        [note],
    )


def _log_step(values: np.ndarray) -> float:
    """The median spacing of the distinct log values (1 for a single value): a grid's step."""
    logs = np.log(np.unique(values))
    return float(np.median(np.diff(logs))) if len(logs) > 1 else 1.0


def _chosen_configs(
    configs: pd.DataFrame,
    batch_laws: BatchSizeLawsSigmaN | None,
    rate_law: LearningRateLawSigmaN | None,
    best_batch: pd.DataFrame,
    best_rate: pd.DataFrame,
) -> dict[tuple[str, float, float], int]:
    """Per (env, σ, N), the index of the config nearest (B*(σ, N), η*(σ, N)) in grid steps of log B
    and log η (ties: smaller B, then smaller η); where an env has no law, its own best value there."""
    law_envs = set() if batch_laws is None else {law.env for law in batch_laws.laws}
    own_batch = {(row.env, row.utd, row.model_size): row.value for row in best_batch.itertuples(index=False)}
    own_rate = {(row.env, row.utd, row.model_size): row.value for row in best_rate.itertuples(index=False)}
    chosen = {}
    for env, env_configs in configs.groupby("env", sort=True):
        batch_step = _log_step(env_configs["batch_size"].to_numpy(dtype=float))
        rate_step = _log_step(env_configs["learning_rate"].to_numpy(dtype=float))
        for (utd, size), group in env_configs.groupby(["utd", "model_size"], sort=True):
            key = (str(env), float(utd), float(size))
            if env in law_envs:
                best_b = float(batch_laws.predict(str(env), utd, size))
            else:
                best_b = own_batch.get(key, float(np.median(group["batch_size"])))
            if rate_law is not None and env in rate_law.intercept:
                best_eta = float(rate_law.predict(str(env), utd, size))
            else:
                best_eta = own_rate.get(key, float(np.median(group["learning_rate"])))
            ordered = group.sort_values(["batch_size", "learning_rate"], kind="stable")
            distance = (np.log(ordered["batch_size"].to_numpy(dtype=float) / best_b) / batch_step) ** 2 + (
                np.log(ordered["learning_rate"].to_numpy(dtype=float) / best_eta) / rate_step
            ) ** 2
            chosen[key] = int(ordered.index[int(np.argmin(distance))])
    return chosen


def _law_records(
    scope: str,
    keys: list[tuple[float, float]],
    point: np.ndarray,
    resampled: np.ndarray,
    thresholds: np.ndarray,
    options: "FitOptions",
    configs: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    env_scales: Mapping[str, float] | None = None,
) -> tuple[list[JointDataLaw], list[int]]:
    """The joint laws of one scope at every threshold from its points (keys (n,), point (n, J),
    resampled (R, n, J)); also the indices of the thresholds not fitted."""
    sigmas = np.array([key[0] for key in keys])
    sizes = np.array([key[1] for key in keys])
    shared = options.sigma_n_shared_exponents
    params = fit_joint_data_laws(sigmas, sizes, point.T, shared=shared)
    if shared:
        refits = refit_shared_joint_data_laws(sigmas, sizes, np.moveaxis(resampled, 2, 1), params)
    else:
        refits = np.full((resampled.shape[0], len(thresholds), 5), np.nan)
        for j, law in enumerate(params):
            if law is not None:
                refits[:, j] = refit_joint_data_laws(sigmas, sizes, resampled[:, :, j], law)
    records, missing = [], []
    medians, lows, highs = summarize(resampled, axis=0, interval=options.interval)
    for j, law in enumerate(params):
        if law is None:
            missing.append(j)
            continue
        summaries = [summarize_scalar(refits[:, j, k], options.interval) for k in range(5)]
        points = tuple(
            SigmaNPoint(
                scope, float(sigma), float(size), float(point[n, j]), float(medians[n, j]), (float(lows[n, j]), float(highs[n, j])),
                None if configs is None else int(configs[0][n, j]),
                None if configs is None else float(configs[1][n, j]),
            )
            for n, (sigma, size) in enumerate(keys)
        )
        records.append(
            JointDataLaw(
                float(thresholds[j]), scope, law.c, law.a, law.alpha, law.b, law.beta, law.rms_log_residual,
                *(summary[0] for summary in summaries), *(summary[1:] for summary in summaries),
                points=points, shared_exponents=shared, scale=float(scale), env_scales=dict(env_scales or {}), resamples=refits[:, j],
            )
        )
    return records, missing


def _data_laws(per_env: dict[str, ConfigPoints], times: ThresholdTimes, options: "FitOptions") -> tuple[list[JointDataLaw], list[str]]:
    """Per threshold, the joint law of every env and the App. D pooled law of all envs."""
    laws, notes = [], []
    thresholds = times.thresholds
    for env, points in per_env.items():
        records, missing = _law_records(
            env, points.keys, points.point, points.resampled, thresholds, options, (points.batch_size, points.learning_rate)
        )
        laws += records
        if missing:
            notes.append(
                f"D_J(σ, N) not fitted for env '{env}' at J = {', '.join(f'{thresholds[j]:g}' for j in missing)}: it needs 5 "
                "(σ, N) points reaching J with 2 σ and 2 N or more"
            )
    pooled_envs = [env for env, points in per_env.items() if np.isfinite(points.point).any()]
    if not pooled_envs:
        return laws, notes
    keys = sorted({key for env in pooled_envs for key in per_env[env].keys})
    point = np.full((len(pooled_envs), len(keys), len(thresholds)), np.inf)
    resampled = np.full((times.bootstrap.shape[0], *point.shape), np.inf)
    for row, env in enumerate(pooled_envs):
        columns = [keys.index(key) for key in per_env[env].keys]
        point[row, columns] = per_env[env].point
        resampled[:, row, columns] = per_env[env].resampled
    pooled, pooled_resampled = pool_env_times(point), pool_env_times(resampled)
    env_scales = {env: float(median) for env, median in zip(pooled_envs, pooled.env_medians)}
    records, missing = _law_records(
        POOLED_SCOPE, keys, pooled.times, pooled_resampled.times, thresholds, options, scale=float(pooled.scale), env_scales=env_scales
    )
    laws += records
    if missing:
        notes.append(
            f"pooled D_J(σ, N) not fitted at J = {', '.join(f'{thresholds[j]:g}' for j in missing)}: fewer than 5 (σ, N) "
            "points reached by every env"
        )
    return laws, notes
