"""The compute-optimal UTD under a budget: σ*(F) = a · F^b with F = C + δ·D.

For each threshold J, σ*(J) minimises F_J(σ) = C_J(σ) + δ·D_J(σ) over a σ grid (`budget_optima`,
the one "argmin F over σ" of the package) and F*(J) is that minimum. σ*(F) is fitted by least
squares of log10 σ* on log10 F*, holding out the `HELD_OUT` largest budgets (qscaled's
`budget_extrapolate_top_k`); their relative prediction errors |σ̂ − σ*| / σ* are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlscale.laws.results import BudgetLaw, BudgetPoint, FrontierCurve

HELD_OUT = 2
DENSE_GRID_POINTS = 2000
"""Points of the log-spaced σ grid on which F is minimised."""
NARROW_BUDGET_SPAN = 1.5
"""Fitted budgets F*(J) spanning less than this factor cannot pin down σ*(F)'s exponent: the fit
notes it and `recommend` interpolates σ* between the budget points instead of using the law."""
DEGENERATE_SPREAD = 1e-12
"""Relative spread of log10 F* below which the budgets are equal and σ*(F) has no slope."""


@dataclass(frozen=True)
class BudgetOptima:
    """argmin over σ of F = C + δ·D, for every curve of a batch (leading shape L).

    Attributes:
        index: shape L, grid index of σ* (0 where no σ has a finite F).
        sigma: shape L, σ* (NaN where no σ has a finite F).
        budget: shape L, F* (+inf where no σ has a finite F).
        at_grid_edge: shape L, σ* is an end of the grid (a bound, not an optimum).
    """

    index: np.ndarray
    sigma: np.ndarray
    budget: np.ndarray
    at_grid_edge: np.ndarray


def budget_optima(sigma_grid: np.ndarray, compute: np.ndarray, data: np.ndarray, delta: float) -> BudgetOptima:
    """Minimise F = compute + δ·data along the last axis.

    Args:
        sigma_grid: shape (G,), ascending σ.
        compute, data: shape (..., G), C and D on the grid (NaN counts as +inf).
        delta: δ, FLOPs per env step.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        budget = np.asarray(compute, dtype=float) + delta * np.asarray(data, dtype=float)
    budget = np.where(np.isnan(budget), np.inf, budget)
    index = np.argmin(budget, axis=-1)
    optimum = np.take_along_axis(budget, index[..., None], axis=-1)[..., 0]
    finite = np.isfinite(optimum)
    return BudgetOptima(
        index=index,
        sigma=np.where(finite, np.asarray(sigma_grid)[index], np.nan),
        budget=optimum,
        at_grid_edge=(index == 0) | (index == len(sigma_grid) - 1),
    )


def log_linear_fit(log_budgets: np.ndarray, log_sigmas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of log σ* on log F per row.

    Args:
        log_budgets, log_sigmas: shape (R, n).

    Returns:
        (exponent, log_coefficient, degenerate), each shape (R,); rows whose budgets are all equal
        (relative spread below `DEGENERATE_SPREAD`) or non-finite are degenerate, with NaN results.
    """
    x, y = np.atleast_2d(log_budgets), np.atleast_2d(log_sigmas)
    finite = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    x0, y0 = np.where(finite[:, None], x, 0.0), np.where(finite[:, None], y, 0.0)
    spread = x0.max(axis=1) - x0.min(axis=1)
    degenerate = ~finite | (spread <= DEGENERATE_SPREAD * np.maximum(1.0, np.abs(x0).max(axis=1)))
    centered = x0 - x0.mean(axis=1, keepdims=True)
    variance = np.where(degenerate, 1.0, (centered**2).sum(axis=1))
    exponent = (centered * (y0 - y0.mean(axis=1, keepdims=True))).sum(axis=1) / variance
    log_coefficient = y0.mean(axis=1) - exponent * x0.mean(axis=1)
    return np.where(degenerate, np.nan, exponent), np.where(degenerate, np.nan, log_coefficient), degenerate


def undetermined_exponent_reason(law: BudgetLaw) -> str | None:
    """Why σ*(F)'s exponent is not determined, or None when it is. Not determined: the law's fit
    failed (no finite exponent), its fitted budgets span less than ×`NARROW_BUDGET_SPAN` (thresholds
    crossed at nearly the same step give nearly the same F*), or every fitted σ* lies at an end of
    the σ grid, a bound rather than an optimum, so that the fitted exponent measures the grid (0 when
    they all sit at the same end)."""
    fitted = [point for point in law.points if not point.held_out]
    if not fitted or not np.isfinite(law.exponent):
        return "the law could not be fitted"
    budgets = [point.budget for point in fitted]
    if max(budgets) < NARROW_BUDGET_SPAN * min(budgets):
        return (
            f"the fitted budgets F*(J) span only ×{max(budgets) / min(budgets):.3g} (thresholds the runs cross at nearly "
            "the same step give nearly the same F*)"
        )
    if all(point.at_grid_edge for point in fitted):
        ends = sorted({f"{point.sigma:.3g}" for point in fitted}, key=float)
        return (
            f"every fitted σ* lies at an end of the σ grid (σ = {', '.join(ends)}): each is a bound, not an optimum, "
            "so the σ grid's range decides the law; runs beyond that end would place σ*"
        )
    return None


def fit_budget_law(curves: list[FrontierCurve], delta: float, model_size: float) -> BudgetLaw | None:
    """Fit σ*(F) from the frontier curves of one scope (one curve per threshold).

    Returns None when fewer than HELD_OUT + 2 thresholds have curves (two to fit, two held out).
    """
    if len(curves) < HELD_OUT + 2:
        return None
    optima = [budget_optima(curve.sigma, curve.compute, curve.data, delta) for curve in curves]
    order = np.argsort([float(optimum.budget) for optimum in optima], kind="stable")
    budgets = np.array([float(optima[index].budget) for index in order])
    sigmas = np.array([float(optima[index].sigma) for index in order])
    fitted = slice(0, len(order) - HELD_OUT)
    exponent, log_coefficient, _ = log_linear_fit(np.log10(budgets[fitted]), np.log10(sigmas[fitted]))
    with np.errstate(over="ignore", invalid="ignore"):
        coefficient = float(np.power(10.0, log_coefficient[0]))
        predicted = coefficient * budgets ** exponent[0]
    relative_error = np.abs(predicted - sigmas) / sigmas
    points = []
    for position, index in enumerate(order):
        curve, optimum = curves[index], optima[index]
        points.append(
            BudgetPoint(
                threshold=float(curve.threshold),
                sigma=float(optimum.sigma),
                budget=float(optimum.budget),
                compute=float(curve.compute[optimum.index]),
                data=float(curve.data[optimum.index]),
                held_out=position >= len(order) - HELD_OUT,
                at_grid_edge=bool(optimum.at_grid_edge),
            )
        )
    return BudgetLaw(
        scope=curves[0].scope,
        delta=float(delta),
        model_size=float(model_size),
        coefficient=coefficient,
        exponent=float(exponent[0]),
        held_out_relative_error=tuple(float(error) for error in relative_error[-HELD_OUT:]),
        points=tuple(points),
    )


def resampled_budget_laws(budgets: np.ndarray, sigmas: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The σ*(F) fit on each resample.

    Args:
        budgets: shape (R, J), F*(J) per resample (NaN or inf where that resample's laws failed).
        sigmas: shape (R, J), σ*(J) per resample.

    Returns:
        (coefficients, exponents, degenerate): shapes (R,), (R,) and the number of resamples that
        could not be fitted (a failed law, or all fitted budgets equal); those are NaN. Each
        resample is fitted like `fit_budget_law`, its two largest budgets held out.
    """
    n_resamples, n_thresholds = budgets.shape
    if n_thresholds < HELD_OUT + 2:
        return np.full(n_resamples, np.nan), np.full(n_resamples, np.nan), 0
    finite = np.isfinite(budgets).all(axis=1) & np.isfinite(sigmas).all(axis=1)
    order = np.argsort(np.where(finite[:, None], budgets, 0.0), axis=1)[:, : n_thresholds - HELD_OUT]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_budgets = np.log10(np.take_along_axis(budgets, order, axis=1))
        log_sigmas = np.log10(np.take_along_axis(sigmas, order, axis=1))
    exponents, log_coefficients, degenerate = log_linear_fit(log_budgets, log_sigmas)
    with np.errstate(over="ignore"):
        coefficients = 10.0**log_coefficients
    return coefficients, exponents, int(degenerate.sum())
