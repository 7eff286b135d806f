"""What the joint (σ, N) laws recommend for a total budget F = C + δ·D: the model size N*, the UTD σ*,
B*(σ*, N*), η*(σ*, N*), and the threshold, data and compute the budget buys.

Pure computation on a `FitResult` (or its fit.json structure) whose `sigma_n` holds an allocation
(`rlscale/laws/allocation.py`); no I/O. For a budget F and a scope (an env of the fit, or "all"):

- σ* = σ*(F) and N* = N*(F), the compute-optimal paths (power laws of the budget, continuous: N* need
  not be a trained size). Their intervals are the `interval` percentiles of the paths refitted on
  each bootstrap resample, evaluated at F (widened to hold the point value).
- B* and η* from B*(σ, N) and η*(σ, N) at (σ*, N*); their intervals pair each resample's path with
  that resample's hyperparameter law (the same seed draws), evaluated at the resample's (σ*, N*).
- J, D and C: the allocation points are the optima (F*(J), D, C) of each fitted threshold, so J,
  log D and log C are interpolated linearly in log F between the points bracketing F (as
  `recommend.recommend` does along σ*(F)'s points); below them extrapolated along the two smallest,
  above them J is capped at the highest fitted threshold and D = D_J(σ*, N*), C = 10·N*·B*·σ*·D.
  With an explicit threshold J, D = D_J(σ*, N*). D's interval is the spread of the resampled joint
  laws at (σ*, N*) for the fitted threshold nearest J, applied to D as a relative interval (C: the same).

`extrapolated_quantities` names every quantity outside the fitted range: N* above the largest (or
below the smallest) trained model size, σ* outside the swept UTDs, a budget outside the fitted budgets.

`recommend_at_model_size` answers the other question a bigger model raises — given N, at which σ, B,
η, and how much data: σ minimises F_J(σ, N) = 10·N·B*(σ, N)·σ·D_J(σ, N) + δ·D_J(σ, N) over the swept
UTDs at a fitted threshold J (each bootstrap resample's laws their own σ: its interval), B*, η* and
D_J at (σ, N), and the budget F that config spends (with where the fitted N*(F) path puts that
budget). It reads only the joint laws at J, not the paths' extrapolation in F.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from rlscale.laws.allocation import SearchBox, axis_optimum, budget_flops
from rlscale.laws.bootstrap import summarize
from rlscale.laws.frontier import compute_flops
from rlscale.laws.power_laws import round_batch_size
from rlscale.laws.recommend import Reached, checked_fit_and_env, interpolate_budget_points
from rlscale.laws.results import POOLED_SCOPE, FitResult, SigmaNAllocation, SigmaNFit, SigmaNRecommendation
from rlscale.laws.table import FitInputError


def has_sigma_n_allocation(fit: FitResult) -> bool:
    """Whether `fit` holds a (σ, N) allocation with both paths (then `recommend_sigma_n` applies)."""
    return any(item.utd_path is not None and item.model_size_path is not None for item in fit.sigma_n.allocation_sigma_n)


def _interval(samples: np.ndarray, point: float, interval: tuple[float, float]) -> tuple[float, float]:
    """The `interval` percentiles of the finite `samples`, widened to hold `point`; (point, point)
    without finite samples."""
    samples = np.asarray(samples, dtype=float)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return (float(point), float(point))
    _, low, high = summarize(samples, axis=0, interval=interval)
    return (float(min(low, point)), float(max(high, point)))


def _allocation(sigma_n: SigmaNFit, scope: str, notes: list[str], paths: bool = True) -> SigmaNAllocation:
    """The allocation of `scope` (else the pooled one, noted); with `paths`, one with both
    compute-optimal paths."""
    allocation = sigma_n.allocation_for(scope)
    if allocation is None or (paths and (allocation.utd_path is None or allocation.model_size_path is None)):
        if scope != POOLED_SCOPE:
            notes.append(f"no (σ, N) allocation for env {scope!r}: N* and σ* from the pooled one")
            return _allocation(sigma_n, POOLED_SCOPE, notes, paths)
        raise FitInputError(
            f"the fit has no (σ, N) allocation{' with compute-optimal paths' if paths else ''} (it needs joint data laws at "
            f"{'2 or more thresholds' if paths else 'a threshold'} and a B*(σ, N) law; see the fit's notes)"
        )
    return allocation


def recommend_sigma_n(
    fit: FitResult | Mapping, budget: float, env: str | None = None, threshold: float | None = None
) -> SigmaNRecommendation:
    """N*, σ*, B*, η*, J, D and C that the joint laws of `fit` recommend for budget F.

    Args:
        fit: a fit of a table with several model sizes (`FitResult` or fit.json dict).
        budget: total budget F = C + δ·D in FLOPs, > 0.
        env: an env of the fit; default: the only env, or the pooled scope "all" for several.
        threshold: read D from the joint data law at this J (a fitted threshold) instead of
            interpolating between the allocation points.

    Raises:
        FitInputError: bad budget, unknown env or threshold, or a fit without a (σ, N) allocation.
    """
    result, chosen_env = checked_fit_and_env(fit, budget, env)
    notes: list[str] = []
    sigma_n = result.sigma_n
    allocation = _allocation(sigma_n, chosen_env if chosen_env is not None else POOLED_SCOPE, notes)
    scope = allocation.scope
    hparam_scope = chosen_env if chosen_env is not None else POOLED_SCOPE
    interval = result.interval

    utd = float(allocation.utd_path.predict(budget))
    model_size = float(allocation.model_size_path.predict(budget))
    resampled_utd = allocation.utd_path.predict_resamples(budget)
    resampled_size = allocation.model_size_path.predict_resamples(budget)
    for path, symbol in ((allocation.utd_path, "σ*"), (allocation.model_size_path, "N*")):
        if path.at_search_edge:
            notes.append(f"{path.describe(symbol)}: the recommended {symbol} is the path's value there, a bound")
    batch_laws, rate_law = sigma_n.batch_size_law_sigma_n, sigma_n.learning_rate_law_sigma_n
    batch_continuous = float(batch_laws.predict(hparam_scope, utd, model_size))
    batch_size = round_batch_size(batch_continuous)
    paired_utd = np.where(np.isfinite(resampled_utd), resampled_utd, utd)
    paired_size = np.where(np.isfinite(resampled_size), resampled_size, model_size)
    resampled_batch = _paired(batch_laws.predict_resamples(hparam_scope, paired_utd, paired_size))
    if rate_law is None:
        raise FitInputError("the fit has no η*(σ, N) law (see the fit's notes)")
    learning_rate = float(rate_law.predict(hparam_scope, utd, model_size))
    resampled_rate = _paired(rate_law.predict_resamples(hparam_scope, paired_utd, paired_size))

    points = sorted(allocation.points, key=lambda point: point.budget)
    fitted_budget_range = (points[0].budget, points[-1].budget)
    extrapolated = []
    trained_sizes = allocation.trained_model_sizes
    if model_size > max(trained_sizes):
        extrapolated.append(f"N* (above the largest trained model size N={max(trained_sizes):.4g})")
    elif model_size < min(trained_sizes):
        extrapolated.append(f"N* (below the smallest trained model size N={min(trained_sizes):.4g})")
    if not min(allocation.trained_utds) <= utd <= max(allocation.trained_utds):
        extrapolated.append(f"σ* (outside the swept UTDs {list(allocation.trained_utds)})")
    if not fitted_budget_range[0] <= budget <= fitted_budget_range[1]:
        extrapolated.append("N* and σ* (paths beyond the fitted budgets)")
    capped, uncapped = False, None
    if threshold is None:
        chosen_threshold, data, compute, uncapped = interpolate_budget_points(points, budget)
        threshold_source = "interpolated between the allocation points in log F"
        if uncapped is not None:
            capped = True
            chosen_threshold = points[-1].threshold
            data = float(_joint_law(sigma_n, scope, chosen_threshold).predict(utd, model_size))
            compute = float(compute_flops(model_size, batch_size, utd, data))
            threshold_source = "capped at the highest fitted threshold"
            notes.append(
                f"F={budget:.3g} is above the fitted budgets (up to {points[-1].budget:.3g}): the laws say nothing above "
                f"J={chosen_threshold:g}, so J is capped there (extrapolating J in log F would give {uncapped:.1f}); D and C are "
                f"what reaching J={chosen_threshold:g} at (σ*, N*) takes, {compute + allocation.delta * data:.3g} FLOPs of the budget"
            )
        elif budget < points[0].budget:
            extrapolated.append("J, D and C (below the fitted budgets, along the two smallest points)")
    else:
        chosen_threshold = float(threshold)
        data = float(_joint_law(sigma_n, scope, chosen_threshold).predict(utd, model_size))
        compute = float(compute_flops(model_size, batch_size, utd, data))
        threshold_source = "given"
    relative = _data_relative_interval(sigma_n, scope, chosen_threshold, utd, model_size, interval)
    return SigmaNRecommendation(
        budget=float(budget),
        scope=scope,
        env=chosen_env,
        delta=allocation.delta,
        model_size=model_size,
        model_size_interval=_interval(resampled_size, model_size, interval),
        utd=utd,
        utd_interval=_interval(resampled_utd, utd, interval),
        batch_size=batch_size,
        batch_size_continuous=batch_continuous,
        batch_size_interval=_interval(resampled_batch, batch_continuous, interval),
        learning_rate=learning_rate,
        learning_rate_interval=_interval(resampled_rate, learning_rate, interval),
        **Reached(chosen_threshold, threshold_source, data, compute).fields(relative),
        extrapolated=bool(extrapolated),
        extrapolated_quantities=tuple(extrapolated),
        fitted_budget_range=fitted_budget_range,
        trained_model_sizes=tuple(trained_sizes),
        notes=tuple(notes + [f"intervals are {interval[0]:g}–{interval[1]:g}% (see rlscale/laws/recommend_sigma_n.py)"]),
        threshold_capped=capped,
        uncapped_threshold=uncapped,
    )


SIGMA_GRID_POINTS = 400
"""Points of the log σ grid on which each bootstrap resample's σ at a given N is found."""


def recommend_at_model_size(
    fit: FitResult | Mapping, model_size: float, threshold: float | None = None, env: str | None = None
) -> SigmaNRecommendation:
    """σ, B*, η* and D_J that the joint laws of `fit` recommend for a model of `model_size` critic
    parameters at threshold J (default: the highest threshold of the scope's joint laws; module
    docstring); `budget` is what that config spends, F = C + δ·D.

    Raises:
        FitInputError: bad model size, unknown env, no joint law at J, or a fit without a (σ, N)
            allocation (its δ) and hyperparameter laws.
    """
    if not (isinstance(model_size, (int, float)) and math.isfinite(model_size) and model_size > 0):
        raise FitInputError(f"model size must be a positive number of critic parameters, got {model_size!r}")
    result, chosen_env = checked_fit_and_env(fit, 1.0, env)
    notes: list[str] = []
    sigma_n = result.sigma_n
    allocation = _allocation(sigma_n, chosen_env if chosen_env is not None else POOLED_SCOPE, notes, paths=False)
    scope, hparam_scope = allocation.scope, chosen_env if chosen_env is not None else POOLED_SCOPE
    if threshold is None:
        threshold = max(law.threshold for law in sigma_n.data_law_sigma_n if law.scope == scope)
    law = _joint_law(sigma_n, scope, threshold)
    batch_laws, rate_law = sigma_n.batch_size_law_sigma_n, sigma_n.learning_rate_law_sigma_n
    if rate_law is None:
        raise FitInputError("the fit has no η*(σ, N) law (see the fit's notes)")
    size = float(model_size)
    utds = allocation.trained_utds
    box = SearchBox((min(utds), max(utds)), (size, size))
    optimum = axis_optimum(law, lambda sigma, n: batch_laws.predict(hparam_scope, sigma, n), allocation.delta, box, model_size=size)
    if optimum is None:
        raise FitInputError(f"F_J(σ, N={size:.4g}) is nowhere finite over the swept UTDs {list(utds)}")
    utd = optimum.sigma
    resampled_utd = _resampled_utds(law, batch_laws, hparam_scope, allocation.delta, box, size)
    batch_continuous = float(batch_laws.predict(hparam_scope, utd, size))
    batch_size = round_batch_size(batch_continuous)
    paired_utd = np.where(np.isfinite(resampled_utd), resampled_utd, utd)
    resampled_batch = _paired(batch_laws.predict_resamples(hparam_scope, paired_utd, size))
    learning_rate = float(rate_law.predict(hparam_scope, utd, size))
    resampled_rate = _paired(rate_law.predict_resamples(hparam_scope, paired_utd, size))
    data = float(law.predict(utd, size))
    compute = float(compute_flops(size, batch_size, utd, data))
    budget = compute + allocation.delta * data
    relative_low, relative_high = _data_relative_interval(sigma_n, scope, threshold, utd, size, result.interval)
    points = sorted(allocation.points, key=lambda point: point.budget)
    trained_sizes = allocation.trained_model_sizes
    extrapolated = []
    if size > max(trained_sizes):
        extrapolated.append(f"N (above the largest trained model size N={max(trained_sizes):.4g})")
    elif size < min(trained_sizes):
        extrapolated.append(f"N (below the smallest trained model size N={min(trained_sizes):.4g})")
    notes.append(
        f"σ = {utd:.3g} minimises F_J = C + δ·D at N = {size:.4g} and J = {threshold:g} over the swept UTDs {list(utds)}"
        + (" (on their edge: a bound)" if optimum.at_grid_edge else "")
    )
    if allocation.model_size_path is not None:
        path = allocation.model_size_path
        notes.append(
            f"the compute-optimal path N*(F) = {path.coefficient:.3g}·F^{path.exponent:.3f} (exponent {_span(path.exponent_ci)}), fitted "
            f"over budgets {points[0].budget:.3g}–{points[-1].budget:.3g}, gives N* = {float(path.predict(budget)):.4g} at this "
            f"config's F = {budget:.3g}"
        )
    return SigmaNRecommendation(
        budget=float(budget),
        scope=scope,
        env=chosen_env,
        delta=allocation.delta,
        model_size=size,
        model_size_interval=(size, size),
        utd=float(utd),
        utd_interval=_interval(resampled_utd, utd, result.interval),
        batch_size=batch_size,
        batch_size_continuous=batch_continuous,
        batch_size_interval=_interval(resampled_batch, batch_continuous, result.interval),
        learning_rate=learning_rate,
        learning_rate_interval=_interval(resampled_rate, learning_rate, result.interval),
        threshold=float(threshold),
        threshold_source="given",
        data=data,
        data_interval=(data * relative_low, data * relative_high),
        compute=compute,
        compute_interval=(compute * relative_low, compute * relative_high),
        extrapolated=bool(extrapolated),
        extrapolated_quantities=tuple(extrapolated),
        fitted_budget_range=(points[0].budget, points[-1].budget),
        trained_model_sizes=tuple(trained_sizes),
        notes=tuple(notes + [f"intervals are {result.interval[0]:g}–{result.interval[1]:g}% (see rlscale/laws/recommend_sigma_n.py)"]),
    )


def _resampled_utds(law, batch_laws, scope: str, delta: float, box: SearchBox, model_size: float) -> np.ndarray:
    """Shape (R,): each resample's σ minimising F_J at `model_size` on a log grid over the box's σ
    (its data law with its B* law; NaN where F is nowhere finite)."""
    sigma = np.geomspace(*box.sigma, SIGMA_GRID_POINTS)
    data = law.predict_resamples(sigma, model_size)
    if data.size == 0:
        return np.zeros(0)
    batch = batch_laws.predict_resamples(scope, sigma, model_size)
    flops = budget_flops(sigma[None], model_size, data, batch, delta)
    flops = np.where(np.isfinite(flops), flops, np.inf)
    best = np.argmin(flops, axis=1)
    return np.where(np.isfinite(flops[np.arange(len(best)), best]), sigma[best], np.nan)


def _span(values: tuple[float, float]) -> str:
    return f"[{values[0]:.3g}, {values[1]:.3g}]"


def _paired(values: np.ndarray) -> np.ndarray:
    """Resample r's law at resample r's point: the diagonal of a (R, R) evaluation, or (R,) as is."""
    values = np.asarray(values, dtype=float)
    return np.diagonal(values) if values.ndim == 2 else values


def _joint_law(sigma_n: SigmaNFit, scope: str, threshold: float):
    law = sigma_n.data_law_for(threshold, scope)
    if law is None:
        available = sorted({item.threshold for item in sigma_n.data_law_sigma_n if item.scope == scope})
        raise FitInputError(f"no D_J(σ, N) law for scope {scope!r} at threshold {threshold:g}; fitted thresholds: {available}")
    return law


def _data_relative_interval(
    sigma_n: SigmaNFit, scope: str, threshold: float, sigma: float, model_size: float, interval: tuple[float, float]
) -> tuple[float, float]:
    """(low/D, high/D) of the resampled joint laws at (σ, N), for the law of `scope` at the fitted
    threshold nearest J; (1, 1) when none has resamples."""
    laws = [law for law in sigma_n.data_law_sigma_n if law.scope == scope]
    if not laws:
        return (1.0, 1.0)
    law = min(laws, key=lambda item: abs(item.threshold - threshold))
    low, high = law.predict_interval(sigma, model_size, interval)
    point = float(law.predict(sigma, model_size))
    if not (math.isfinite(low) and math.isfinite(high) and point > 0):
        return (1.0, 1.0)
    return (min(1.0, low / point), max(1.0, high / point))
