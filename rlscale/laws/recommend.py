"""What a fit recommends for a total budget F = C + δ·D: σ*, B*, η*, and the data/compute split.

Pure computation on a `FitResult` (or its fit.json structure, read with `read_fit`); no I/O.

For a budget F (FLOPs) and a scope (one env of the fit, or "all"):

- σ*(F) from the budget law of the scope (`budget_law_per_env` for an env that has one, else the
  pooled `budget_law`). When that law's exponent is not determined (`undetermined_exponent_reason`:
  its fitted budgets span too little, e.g. thresholds the runs cross at nearly the same step, or
  every fitted σ* is a bound at an end of the σ grid), σ* is instead
  interpolated in log–log between the budget points' own optima (held at the nearest end outside
  them). σ* never leaves the σ grid the optima were searched on (the frontier's): it is clamped to
  it, with a note.
- B*(σ*) and η*(σ*) from the hyperparameter laws (`PowerLaw.predict`; for scope "all" the mean
  over envs, as the fit's frontier uses); B* is rounded with `round_batch_size`.
- The threshold J that budget buys, its data D and compute C: the budget law's points are the
  optima (F*(J), D, C) of each threshold, so J, log D and log C are interpolated linearly in log F
  between the two points whose F* bracket F. Below the fitted budgets they are extrapolated along
  the two smallest points (J kept above 0). Above them J is **capped at the highest fitted
  threshold**: the data laws exist only at the fitted thresholds, and extrapolating J in log F
  soon leaves the normalized scale (J > 1000 means nothing); D = D_J(σ*) and C = 10·N·B*·σ*·D are
  then those of reaching the capped J at σ*, which costs less than F (the note says how much). With
  an explicit threshold J instead, D is the data law D_J(σ*) and C = 10·N·B*·σ*·D (the budget then
  only sets σ*). `extrapolated_quantities` lists what lies outside the fitted range.

Intervals (5–95% unless the fit used other percentiles):

- σ*: the budget-law exponent over its bootstrap interval, the law pivoting at the centroid (mean
  log F, mean log σ*) of the fitted budget points, where a least-squares line is best determined.
  This holds the centroid fixed, so it understates the interval near the centroid.
- B*, η*: each hyperparameter law with its exponent over its interval (pivoting at the env's mean
  log σ), taken over σ* across its interval.
- D: the spread of the bootstrap-refitted data laws at σ* (`DataLawFit.predict_interval`), for the
  fit threshold nearest J, as a relative interval applied to D (a fit.json without resamples, from
  an older rlscale, gives none: D's interval is then the point, with a note).
- C: the same relative interval as D (C is proportional to D at fixed σ* and B*).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rlscale.laws.budget import undetermined_exponent_reason
from rlscale.laws.frontier import compute_flops
from rlscale.laws.power_laws import round_batch_size
from rlscale.laws.results import POOLED_SCOPE, BudgetLaw, BudgetPoint, DataLawFit, FitResult, PowerLaw, Recommendation, read_fit
from rlscale.laws.table import FitInputError


def recommend(
    fit: FitResult | Mapping, budget: float, env: str | None = None, threshold: float | None = None
) -> Recommendation:
    """σ*, B*, η*, D and C that the laws in `fit` (a `FitResult` or a fit.json dict) recommend for budget F.

    Args:
        fit: the fit.
        budget: total budget F = C + δ·D in FLOPs, > 0.
        env: an env of the fit; default: the only env, or the pooled scope "all" for several.
        threshold: read D from the data law at this J (one of the fit's thresholds) instead of
            interpolating between the budget law's points.

    Raises:
        FitInputError: bad budget, unknown env or threshold, or a fit without a budget law.
    """
    result, chosen_env = checked_fit_and_env(fit, budget, env)
    notes: list[str] = []
    law = _budget_law(result, chosen_env, notes)
    points = sorted(law.points, key=lambda point: point.budget)
    utd, utd_interval = _within_sigma_grid(result, law.scope, *_optimal_utd(law, points, budget, notes), notes)
    hyperparameters = hyperparameter_fields(result, chosen_env if chosen_env is not None else POOLED_SCOPE, utd, utd_interval)
    fitted_budget_range = (points[0].budget, points[-1].budget)
    extrapolated_quantities = []
    if not fitted_budget_range[0] <= budget <= fitted_budget_range[1]:
        extrapolated_quantities.append("σ* (budget law beyond the fitted budgets)")
    if threshold is None:
        reached = _reached_by_budget(result, law, points, budget, utd, hyperparameters["batch_size"], notes, extrapolated_quantities)
    else:
        reached = _reached_at(result, law.scope, float(threshold), utd, law.model_size, hyperparameters["batch_size"], "given")
    if not (min(result.utds) <= utd <= max(result.utds)):
        extrapolated_quantities.append("B*, η* and D (σ* outside the swept UTDs)")
        notes.append(f"σ*={utd:.3g} is outside the swept UTDs {list(result.utds)}: B*, η* and D are extrapolated in σ")
    relative = _data_relative_interval(result, law.scope, reached.threshold, utd, notes)
    return Recommendation(
        budget=float(budget),
        scope=law.scope,
        env=chosen_env,
        delta=law.delta,
        model_size=law.model_size,
        utd=utd,
        utd_interval=utd_interval,
        **hyperparameters,
        **reached.fields(relative),
        extrapolated=bool(extrapolated_quantities),
        fitted_budget_range=fitted_budget_range,
        notes=tuple(notes + [_intervals_note(result)]),
        threshold_capped=reached.uncapped_threshold is not None,
        uncapped_threshold=reached.uncapped_threshold,
        extrapolated_quantities=tuple(extrapolated_quantities),
    )


def recommend_at_utd(fit: FitResult | Mapping, utd: float, env: str | None = None, threshold: float | None = None) -> Recommendation:
    """What the laws in `fit` predict at a chosen UTD σ instead of a budget's σ*(F): B*(σ), η*(σ)
    (intervals: each law's exponent over its interval), D_J(σ) at threshold J (default: the highest
    threshold with a data law in the scope) with the spread of the resampled data laws, C, and the
    budget F = C + δ·D they add up to (NaN without a model size). A σ outside the swept UTDs tests
    the laws' extrapolation in σ: `extrapolated_quantities` says so.

    Raises:
        FitInputError: σ not a positive number, unknown env, or no data law at J in the scope.
    """
    if not (isinstance(utd, (int, float)) and math.isfinite(utd) and utd > 0):
        raise FitInputError(f"utd must be a positive number, got {utd!r}")
    result, chosen_env = checked_fit_and_env(fit, 1.0, env)
    scope = chosen_env if chosen_env is not None else POOLED_SCOPE
    notes: list[str] = [f"σ = {utd:g} chosen, not σ*(F): the budget is what this config costs to reach J"]
    threshold_source = "given"
    if threshold is None:
        threshold_source = "the highest threshold with a data law"
        fitted = sorted({law.threshold for law in result.data_law if law.scope == scope})
        if not fitted:
            raise FitInputError(f"the fit has no data law for scope {scope!r}")
        threshold = fitted[-1]
    hyperparameters = hyperparameter_fields(result, scope, utd, (utd, utd))
    model_size = result.model_size if result.model_size is not None else math.nan
    delta = result.delta if result.delta is not None else math.nan
    reached = _reached_at(result, scope, float(threshold), utd, model_size, hyperparameters["batch_size"], threshold_source)
    extrapolated_quantities = []
    if not min(result.utds) <= utd <= max(result.utds):
        extrapolated_quantities.append("B*, η* and D (σ outside the swept UTDs)")
    relative = _data_relative_interval(result, scope, reached.threshold, utd, notes)
    return Recommendation(
        budget=float(reached.compute + delta * reached.data),
        scope=scope,
        env=chosen_env,
        delta=float(delta),
        model_size=float(model_size),
        utd=float(utd),
        utd_interval=(float(utd), float(utd)),
        **hyperparameters,
        **reached.fields(relative),
        extrapolated=bool(extrapolated_quantities),
        fitted_budget_range=(math.nan, math.nan),
        notes=tuple(notes + [_intervals_note(result)]),
        extrapolated_quantities=tuple(extrapolated_quantities),
    )


@dataclass(frozen=True)
class Reached:
    """The threshold J a recommendation reaches, why that one, and the data D and compute C it takes;
    `uncapped_threshold` is set when J was capped at the highest fitted threshold."""

    threshold: float
    source: str
    data: float
    compute: float
    uncapped_threshold: float | None = None

    def fields(self, relative: tuple[float, float]) -> dict:
        """The recommendation's threshold, D and C fields, D and C with the relative interval `relative`."""
        low, high = relative
        return dict(
            threshold=float(self.threshold),
            threshold_source=self.source,
            data=float(self.data),
            data_interval=(float(self.data * low), float(self.data * high)),
            compute=float(self.compute),
            compute_interval=(float(self.compute * low), float(self.compute * high)),
        )


def hyperparameter_fields(fit: FitResult, scope: str, utd: float, utd_interval: tuple[float, float]) -> dict:
    """The recommendation's B*(σ), η*(σ) fields at `utd` (B* rounded), each interval its law with the
    exponent over its interval, over σ in `utd_interval`."""
    batch_law, rate_law = fit.batch_size_law, fit.learning_rate_law
    batch_continuous = float(batch_law.predict(scope, utd))
    batch_low, batch_high = _hparam_interval(batch_law, scope, utd_interval)
    return dict(
        batch_size=round_batch_size(batch_continuous),
        batch_size_continuous=batch_continuous,
        batch_size_interval=(round_batch_size(batch_low), round_batch_size(batch_high)),
        learning_rate=float(rate_law.predict(scope, utd)),
        learning_rate_interval=_hparam_interval(rate_law, scope, utd_interval),
    )


def _optimal_utd(law: BudgetLaw, points: list[BudgetPoint], budget: float, notes: list[str]) -> tuple[float, tuple[float, float]]:
    """σ*(F) and its interval: the budget law's (pivoting at the fitted points' centroid), or, when its
    exponent is not determined, interpolated between the points' optima (their range as interval)."""
    reason = undetermined_exponent_reason(law)
    if reason is None:
        fitted = [point for point in law.points if not point.held_out]
        log_budget_center = float(np.mean([math.log10(point.budget) for point in fitted]))
        log_sigma_center = float(np.mean([math.log10(point.sigma) for point in fitted]))
        utd = float(law.predict(budget))
        return utd, _pivoted_interval(math.log10(budget), log_budget_center, log_sigma_center, law.exponent_ci, utd)
    log_budgets = np.log10([point.budget for point in points])
    utd = float(10.0 ** np.interp(math.log10(budget), log_budgets, np.log10([point.sigma for point in points])))
    notes.append(
        f"σ*(F)'s exponent is not determined ({reason}): σ* is interpolated between the budget points' optima, its "
        "interval is their range"
    )
    return utd, (min(point.sigma for point in points), max(point.sigma for point in points))


def _within_sigma_grid(
    fit: FitResult, scope: str, utd: float, utd_interval: tuple[float, float], notes: list[str]
) -> tuple[float, tuple[float, float]]:
    """σ* and its interval clamped to the σ grid the scope's optima were searched on (with a note)."""
    low, high = _sigma_grid(fit, scope, utd)
    if low <= utd <= high:
        return utd, utd_interval
    notes.append(f"σ*={utd:.3g} is outside the σ grid [{low:.3g}, {high:.3g}] the optima were searched on: clamped to it")
    return float(np.clip(utd, low, high)), (float(np.clip(utd_interval[0], low, high)), float(np.clip(utd_interval[1], low, high)))


def _reached_by_budget(
    fit: FitResult, law: BudgetLaw, points: list[BudgetPoint], budget: float, utd: float, batch_size: int, notes: list[str],
    extrapolated_quantities: list[str],
) -> Reached:
    """J, D and C interpolated between the budget points in log F; above them J is capped at the
    highest fitted threshold (D and C then those of reaching it at σ*), below them extrapolated."""
    threshold, data, compute, uncapped = interpolate_budget_points(points, budget)
    if uncapped is not None:
        reached = _reached_at(fit, law.scope, points[-1].threshold, utd, law.model_size, batch_size, "capped at the highest fitted threshold")
        notes.append(
            f"F={budget:.3g} is above the fitted budgets (up to {points[-1].budget:.3g}): the laws say nothing "
            f"above J={reached.threshold:g}, so J is capped there (extrapolating J in log F would give "
            f"{uncapped:.1f}); D and C are what reaching J={reached.threshold:g} at σ* takes, "
            f"{reached.compute + law.delta * reached.data:.3g} FLOPs of the budget"
        )
        return dataclasses.replace(reached, uncapped_threshold=uncapped)
    if budget < points[0].budget:
        extrapolated_quantities.append("J, D and C (below the fitted budgets, along the two smallest points)")
        notes.append(
            f"F={budget:.3g} is below the fitted budgets (from {points[0].budget:.3g}): threshold, data and "
            "compute are extrapolated along the two smallest points"
        )
    return Reached(threshold, "interpolated between the budget law's points in log F", data, compute)


def _reached_at(fit: FitResult, scope: str, threshold: float, utd: float, model_size: float, batch_size: int, source: str) -> Reached:
    """J given: D = D_J(σ) from the scope's data law, C = 10·N·B·σ·D."""
    data = float(_data_law(fit, threshold, scope).predict(utd))
    return Reached(threshold, source, data, float(compute_flops(model_size, batch_size, utd, data)))


def _intervals_note(fit: FitResult) -> str:
    return f"intervals are {fit.interval[0]:g}–{fit.interval[1]:g}% (see rlscale/laws/recommend.py)"


def checked_fit_and_env(fit: FitResult | Mapping, budget: float, env: str | None) -> tuple[FitResult, str | None]:
    """The fit as a `FitResult` and the env a recommendation is for: `env`, else the fit's only env,
    else None (all envs pooled). FitInputError for a budget that is not a positive number of FLOPs
    or an env not in the fit."""
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise FitInputError(f"budget must be a positive number of FLOPs, got {budget!r}")
    result = fit if isinstance(fit, FitResult) else read_fit(fit)
    envs = list(result.envs)
    if env is not None and env not in envs:
        raise FitInputError(f"env {env!r} is not in the fit; its envs are {envs}")
    return result, env if env is not None else (envs[0] if len(envs) == 1 else None)


def _budget_law(fit: FitResult, env: str | None, notes: list[str]) -> BudgetLaw:
    if env is not None:
        for law in fit.budget_law_per_env:
            if law.scope == env and _usable(law):
                return law
        notes.append(f"no budget law for env {env!r}: σ* from the pooled law")
    law = fit.budget_law
    if law is None or not _usable(law):
        raise FitInputError(
            "the fit has no budget law (it needs a model size and data laws at 4 or more thresholds; see the fit's notes)"
        )
    return law


def _usable(law: BudgetLaw) -> bool:
    return bool(law.points) and all(math.isfinite(value) for value in (law.delta, law.model_size))


def _sigma_grid(fit: FitResult, scope: str, fallback: float) -> tuple[float, float]:
    """(min, max) of the σ grid the scope's frontier (and budget optima) used."""
    grids = [curve.sigma for curve in fit.frontier if curve.scope == scope and len(curve.sigma)]
    if not grids:
        return (fallback, fallback)
    return (float(min(grid.min() for grid in grids)), float(max(grid.max() for grid in grids)))


def _pivoted_interval(x: float, x_center: float, y_center: float, slope_interval, estimate: float) -> tuple[float, float]:
    """10^(y_center + slope·(x − x_center)) over the slope interval, as (low, high), widened to hold
    `estimate` (the fitted line's own value at x: a least-squares line in log–log passes through the
    centre, so only rounding could leave it outside); (estimate, estimate) without a finite interval."""
    if not all(math.isfinite(value) for value in slope_interval):
        return (estimate, estimate)
    values = [10.0 ** (y_center + slope * (x - x_center)) for slope in slope_interval] + [estimate]
    return (float(min(values)), float(max(values)))


def _hparam_interval(law: PowerLaw, scope: str, sigma_interval: tuple[float, float]) -> tuple[float, float]:
    """The law with its exponent over alpha_ci (pivoting at the scope's mean log σ), over σ in the interval."""
    alphas = law.alpha_ci if all(math.isfinite(value) for value in law.alpha_ci) else (law.alpha, law.alpha)
    values = [float(law.predict_with_alpha(scope, sigma, alpha)) for alpha in alphas for sigma in sigma_interval]
    return (min(values), max(values))


def interpolate_budget_points(points: list[BudgetPoint], budget: float) -> tuple[float, float, float, float | None]:
    """(J, D, C, uncapped J) at F from the budget points (ascending F): J, log D and log C linear in
    log F between the bracketing points, or along the two smallest below them. Above the largest
    point the uncapped J (the same line continued) is returned instead of None, for the caller to cap."""
    budgets = np.log10([point.budget for point in points])
    x = math.log10(budget)
    upper = int(np.clip(np.searchsorted(budgets, x), 1, len(points) - 1))
    lower = upper - 1
    weight = (x - budgets[lower]) / (budgets[upper] - budgets[lower]) if budgets[upper] > budgets[lower] else 0.0

    def along(values: list[float]) -> float:
        return float(values[lower] + weight * (values[upper] - values[lower]))

    threshold = along([point.threshold for point in points])
    data = 10.0 ** along([math.log10(point.data) for point in points])
    compute = 10.0 ** along([math.log10(point.compute) for point in points])
    if x > budgets[-1]:
        return threshold, data, compute, threshold
    return max(threshold, 0.0), data, compute, None


def _data_law(fit: FitResult, threshold: float, scope: str) -> DataLawFit:
    law = fit.data_law_for(threshold, scope)
    if law is None:
        available = sorted({item.threshold for item in fit.data_law if item.scope == scope})
        raise FitInputError(f"no data law for scope {scope!r} at threshold {threshold:g}; fitted thresholds: {available}")
    return law


def _data_relative_interval(fit: FitResult, scope: str, threshold: float, sigma: float, notes: list[str]) -> tuple[float, float]:
    """(low/D, high/D) of the resampled data laws at σ, for the law of `scope` at the fit threshold
    nearest J; (1, 1) when the fit holds no resamples."""
    laws = [law for law in fit.data_law if law.scope == scope]
    if not laws:
        return (1.0, 1.0)
    law = min(laws, key=lambda item: abs(item.threshold - threshold))
    low, high = law.predict_interval(sigma, fit.interval)
    point = float(law.predict(sigma))
    if not (math.isfinite(low) and math.isfinite(high) and point > 0):
        notes.append("the fit holds no bootstrap resamples of its data laws (refit with this rlscale): no interval for D and C")
        return (1.0, 1.0)
    return (min(1.0, low / point), max(1.0, high / point))
