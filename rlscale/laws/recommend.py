"""What a fit recommends for a total budget F = C + δ·D: σ*, B*, η*, and the data/compute split.

Pure computation on the fit.json structure (`FitResult.to_dict()`, see SCHEMA.md); no I/O.

For a budget F (FLOPs) and a scope (one env of the fit, or "all"):

- σ*(F) from the budget law of the scope (`budget_law_per_env` for an env that has one, else the
  pooled `budget_law`).
- B*(σ*) and η*(σ*) from the hyperparameter laws (for scope "all": the mean of the env intercepts,
  the geometric-mean env, as the fit's frontier does); B* is rounded with `round_batch_size`.
- The threshold J that budget buys, its data D and compute C: the budget law's points are the
  optima (F*(J), D, C) of each threshold, so log D, log C and J are interpolated linearly in
  log F between the two points whose F* bracket F, and extrapolated along the nearest two points
  outside their range (flagged `extrapolated`). With an explicit threshold J instead, D is the
  data law D_J(σ*) and C = 10·N·B*·σ*·D (the budget then only sets σ*).

Intervals (5–95% unless the fit used other percentiles). fit.json holds marginal bootstrap
intervals of each law parameter, not the joint resamples, so:

- σ*: the exponent is varied over its interval with the law pivoting at the centroid (mean log F,
  mean log σ*) of the fitted budget points, where a least-squares line is best determined. This
  holds the centroid fixed, so it understates the interval near the centroid.
- B*, η*: the same for each hyperparameter law (exponent over its interval, pivoting at the env's
  mean log σ and the law's value there), taken over σ* across its interval.
- D: the relative width of the bootstrap interval of the measured D_J (minimum over B, η of the
  seed-mean time) at the fitted σ nearest σ*, for the fit threshold nearest J, applied to D.
- C: the same relative interval as D (C is proportional to D at fixed σ* and B*).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from rlscale.laws.frontier import compute_flops
from rlscale.laws.power_laws import round_batch_size
from rlscale.laws.table import FitInputError

POOLED_SCOPE = "all"


@dataclass(frozen=True)
class Recommendation:
    """The fitted laws' choice for a budget; `*_interval` are [low, high] (see the module docstring)."""

    budget: float
    scope: str
    env: str | None
    delta: float
    model_size: float
    utd: float
    utd_interval: tuple[float, float]
    batch_size: int
    batch_size_continuous: float
    batch_size_interval: tuple[int, int]
    learning_rate: float
    learning_rate_interval: tuple[float, float]
    threshold: float
    threshold_source: str
    data: float
    data_interval: tuple[float, float]
    compute: float
    compute_interval: tuple[float, float]
    extrapolated: bool
    fitted_budget_range: tuple[float, float]
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        values = {}
        for field_ in fields(self):
            value = getattr(self, field_.name)
            values[field_.name] = list(value) if isinstance(value, tuple) else value
        return values


def recommend(fit: Mapping, budget: float, env: str | None = None, threshold: float | None = None) -> Recommendation:
    """σ*, B*, η*, D and C that the laws in `fit` (a fit.json dict) recommend for budget F.

    Args:
        fit: the fit.json structure.
        budget: total budget F = C + δ·D in FLOPs, > 0.
        env: an env of the fit; default: the only env, or the pooled scope "all" for several.
        threshold: read D from the data law at this J (one of the fit's thresholds) instead of
            interpolating between the budget law's points.

    Raises:
        FitInputError: bad budget, unknown env or threshold, or a fit without a budget law.
    """
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise FitInputError(f"budget must be a positive number of FLOPs, got {budget!r}")
    envs = list(fit.get("envs") or [])
    if env is not None and env not in envs:
        raise FitInputError(f"env {env!r} is not in the fit; its envs are {envs}")
    chosen_env = env if env is not None else (envs[0] if len(envs) == 1 else None)
    notes = []
    law = _budget_law(fit, chosen_env, notes)
    scope = law["scope"]
    interval = tuple(fit.get("interval") or (5.0, 95.0))
    model_size, delta = float(law["model_size"]), float(law["delta"])

    fitted = [point for point in law["points"] if not point["held_out"]]
    log_budget_center = float(np.mean([math.log10(point["budget"]) for point in fitted]))
    log_sigma_center = float(np.mean([math.log10(point["utd"]) for point in fitted]))
    utd = float(law["coefficient"] * budget ** law["exponent"])
    utd_interval = _pivoted_interval(
        math.log10(budget), log_budget_center, log_sigma_center, law["exponent_ci"], fallback=utd
    )

    batch_law, rate_law = fit["batch_size_law"], fit["learning_rate_law"]
    batch_continuous = _hparam(batch_law, chosen_env, utd)
    batch_ends = _hparam_interval(batch_law, chosen_env, utd_interval)
    learning_rate = _hparam(rate_law, chosen_env, utd)
    learning_rate_interval = _hparam_interval(rate_law, chosen_env, utd_interval)
    batch_size = round_batch_size(batch_continuous)

    points = sorted(law["points"], key=lambda point: point["budget"])
    budgets = [point["budget"] for point in points]
    fitted_budget_range = (float(budgets[0]), float(budgets[-1]))
    if threshold is None:
        chosen_threshold, data, compute, extrapolated = _interpolate_points(points, budget)
        threshold_source = "interpolated between the budget law's points in log F"
        if extrapolated:
            notes.append(
                f"F={budget:.3g} is outside the fitted budgets [{budgets[0]:.3g}, {budgets[-1]:.3g}]: "
                "threshold, data and compute are extrapolated along the nearest two points"
            )
    else:
        data_law = _data_law(fit, threshold, scope)
        chosen_threshold = float(threshold)
        data = _predict_data(data_law, utd)
        compute = float(compute_flops(model_size, batch_size, utd, data))
        threshold_source = "given"
        extrapolated = not (budgets[0] <= budget <= budgets[-1])
    relative_low, relative_high = _data_relative_interval(fit, scope, chosen_threshold, utd)
    data_interval = (data * relative_low, data * relative_high)
    compute_interval = (compute * relative_low, compute * relative_high)
    if not (min(fit.get("utds") or [utd]) <= utd <= max(fit.get("utds") or [utd])):
        notes.append(f"σ*={utd:.3g} is outside the swept UTDs {fit.get('utds')}: B* and η* are extrapolated")
    return Recommendation(
        budget=float(budget),
        scope=scope,
        env=chosen_env,
        delta=delta,
        model_size=model_size,
        utd=utd,
        utd_interval=utd_interval,
        batch_size=batch_size,
        batch_size_continuous=batch_continuous,
        batch_size_interval=(round_batch_size(batch_ends[0]), round_batch_size(batch_ends[1])),
        learning_rate=learning_rate,
        learning_rate_interval=learning_rate_interval,
        threshold=float(chosen_threshold),
        threshold_source=threshold_source,
        data=float(data),
        data_interval=(float(data_interval[0]), float(data_interval[1])),
        compute=float(compute),
        compute_interval=(float(compute_interval[0]), float(compute_interval[1])),
        extrapolated=bool(extrapolated),
        fitted_budget_range=fitted_budget_range,
        notes=tuple(notes + [f"intervals are {interval[0]:g}–{interval[1]:g}% (see rlscale/laws/recommend.py)"]),
    )


def _budget_law(fit: Mapping, env: str | None, notes: list[str]) -> Mapping:
    if env is not None:
        for law in fit.get("budget_law_per_env") or []:
            if law["scope"] == env and _usable_budget_law(law):
                return law
        notes.append(f"no budget law for env {env!r}: σ* from the pooled law")
    law = fit.get("budget_law")
    if not law or not _usable_budget_law(law):
        raise FitInputError(
            "the fit has no budget law (it needs a model size and data laws at 4 or more thresholds; see the fit's notes)"
        )
    return law


def _usable_budget_law(law: Mapping) -> bool:
    return all(isinstance(law.get(key), (int, float)) for key in ("coefficient", "exponent", "delta", "model_size"))


def _pivoted_interval(x: float, x_center: float, y_center: float, slope_interval, fallback: float) -> tuple[float, float]:
    """10^(y_center + slope·(x − x_center)) over the slope interval, as (low, high)."""
    if slope_interval is None or any(value is None for value in slope_interval):
        return (fallback, fallback)
    values = [10.0 ** (y_center + slope * (x - x_center)) for slope in slope_interval]
    return (float(min(values)), float(max(values)))


def _intercept(law: Mapping, env: str | None) -> float:
    intercepts = law["intercept"]
    return float(intercepts[env]) if env is not None else float(np.mean(list(intercepts.values())))


def _hparam(law: Mapping, env: str | None, sigma: float) -> float:
    """value*(σ) = 10^(intercept + slope·log10 σ); the mean intercept for the pooled scope."""
    return float(10.0 ** (_intercept(law, env) + law["slope"] * math.log10(sigma)))


def _hparam_interval(law: Mapping, env: str | None, sigma_interval: tuple[float, float]) -> tuple[float, float]:
    """The law with its exponent over alpha_ci, pivoting at the env's mean log σ, over σ in the interval."""
    points = [point for point in law["points"] if env is None or point["env"] == env]
    log_sigma_center = float(np.mean([math.log10(point["utd"]) for point in points]))
    log_value_center = _intercept(law, env) + law["slope"] * log_sigma_center
    alpha_interval = law.get("alpha_ci") or [law["alpha"], law["alpha"]]
    if any(value is None for value in alpha_interval):
        alpha_interval = [law["alpha"], law["alpha"]]
    values = [
        10.0 ** (log_value_center - alpha * (math.log10(sigma) - log_sigma_center))
        for alpha in alpha_interval
        for sigma in sigma_interval
    ]
    return (float(min(values)), float(max(values)))


def _interpolate_points(points: list[Mapping], budget: float) -> tuple[float, float, float, bool]:
    """(J, D, C, extrapolated) at F from the budget points (ascending F): log D, log C and J linear
    in log F between the bracketing points, or along the nearest two outside their range."""
    budgets = np.log10([point["budget"] for point in points])
    x = math.log10(budget)
    extrapolated = not (budgets[0] <= x <= budgets[-1])
    upper = int(np.clip(np.searchsorted(budgets, x), 1, len(points) - 1))
    lower = upper - 1
    weight = (x - budgets[lower]) / (budgets[upper] - budgets[lower]) if budgets[upper] > budgets[lower] else 0.0

    def along(values: list[float]) -> float:
        return float(values[lower] + weight * (values[upper] - values[lower]))

    threshold = along([point["threshold"] for point in points])
    data = 10.0 ** along([math.log10(point["data"]) for point in points])
    compute = 10.0 ** along([math.log10(point["compute"]) for point in points])
    return threshold, data, compute, extrapolated


def _data_law(fit: Mapping, threshold: float, scope: str) -> Mapping:
    for law in fit.get("data_law") or []:
        if law["scope"] == scope and math.isclose(law["threshold"], threshold):
            return law
    available = sorted({law["threshold"] for law in fit.get("data_law") or [] if law["scope"] == scope})
    raise FitInputError(f"no data law for scope {scope!r} at threshold {threshold:g}; fitted thresholds: {available}")


def _predict_data(law: Mapping, sigma: float) -> float:
    return float(law["d_min"] + (law["beta"] / sigma) ** law["alpha"])


def _data_relative_interval(fit: Mapping, scope: str, threshold: float, sigma: float) -> tuple[float, float]:
    """(low/time, high/time) of the bootstrap interval of the measured D_J at the fitted σ nearest σ*,
    for the data law of `scope` at the fit threshold nearest J; (1, 1) when none is available."""
    laws = [law for law in fit.get("data_law") or [] if law["scope"] == scope]
    if not laws:
        return (1.0, 1.0)
    law = min(laws, key=lambda item: abs(item["threshold"] - threshold))
    points = [
        point
        for point in law["points"]
        if point["time"] is not None and point["ci"][0] is not None and point["ci"][1] is not None and point["time"] > 0
    ]
    if not points:
        return (1.0, 1.0)
    nearest = min(points, key=lambda point: abs(math.log(point["utd"] / sigma)))
    return (min(1.0, nearest["ci"][0] / nearest["time"]), max(1.0, nearest["ci"][1] / nearest["time"]))
