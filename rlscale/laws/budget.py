"""The compute-optimal UTD under a budget: σ*(F) = a · F^b with F = C + δ·D.

For each threshold J, σ*(J) minimises F_J(σ) = C_J(σ) + δ·D_J(σ) over the frontier's σ grid and
F*(J) is that minimum. σ*(F) is fitted by least squares of log10 σ* on log10 F*, holding out the
two largest budgets; their relative prediction errors |σ̂ − σ*| / σ* are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlscale.laws.frontier import FrontierCurve

HELD_OUT = 2


@dataclass(frozen=True)
class BudgetPoint:
    """The optimum for one threshold: σ*(J), F*(J), its C and D, and whether it was held out of
    the fit; `at_grid_edge` flags a σ* on the end of the σ grid (a lower/upper bound only)."""

    threshold: float
    sigma: float
    budget: float
    compute: float
    data: float
    held_out: bool
    at_grid_edge: bool

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "utd": self.sigma,
            "budget": self.budget,
            "compute": self.compute,
            "data": self.data,
            "held_out": self.held_out,
            "at_grid_edge": self.at_grid_edge,
        }


@dataclass(frozen=True)
class BudgetLaw:
    """σ*(F) = coefficient · F^exponent for one scope.

    Attributes:
        scope: env name or "all".
        delta: cost of one environment step in FLOPs.
        model_size: N, the agent's parameter count.
        coefficient, exponent: a and b (NaN when fewer than two points remain for the fit).
        held_out_relative_error: |σ̂(F) − σ*| / σ* for the held-out (largest-F) points, ascending F.
        points: one per threshold, ascending F.
        coefficient_median, coefficient_ci, exponent_median, exponent_ci: over bootstrap resamples
            of the data laws (the same procedure on each resample's laws; NaN without resamples).
    """

    scope: str
    delta: float
    model_size: float
    coefficient: float
    exponent: float
    held_out_relative_error: tuple[float, ...]
    points: tuple[BudgetPoint, ...]
    coefficient_median: float = float("nan")
    coefficient_ci: tuple[float, float] = (float("nan"), float("nan"))
    exponent_median: float = float("nan")
    exponent_ci: tuple[float, float] = (float("nan"), float("nan"))

    def predict(self, budget: float | np.ndarray) -> float | np.ndarray:
        """σ*(F) for budget(s) F in FLOPs."""
        return self.coefficient * np.asarray(budget, dtype=float) ** self.exponent

    def to_dict(self) -> dict:
        return {
            "scope": self.scope,
            "delta": self.delta,
            "model_size": self.model_size,
            "coefficient": self.coefficient,
            "exponent": self.exponent,
            "held_out_relative_error": list(self.held_out_relative_error),
            "coefficient_median": self.coefficient_median,
            "coefficient_ci": list(self.coefficient_ci),
            "exponent_median": self.exponent_median,
            "exponent_ci": list(self.exponent_ci),
            "points": [point.to_dict() for point in self.points],
        }


def fit_budget_law(curves: list[FrontierCurve], delta: float, model_size: float) -> BudgetLaw | None:
    """Fit σ*(F) from the frontier curves of one scope (one curve per threshold).

    Returns None when fewer than HELD_OUT + 2 thresholds have curves (two to fit, two held out).
    """
    if len(curves) < HELD_OUT + 2:
        return None
    optima = []
    for curve in curves:
        budget = curve.compute + delta * curve.data
        best = int(np.argmin(budget))
        optima.append(
            (float(budget[best]), curve, best, best in (0, len(curve.sigma) - 1))
        )
    optima.sort(key=lambda item: item[0])
    budgets = np.array([item[0] for item in optima])
    sigmas = np.array([float(item[1].sigma[item[2]]) for item in optima])
    fitted = slice(0, len(optima) - HELD_OUT)
    exponent, log_coefficient = np.polyfit(np.log10(budgets[fitted]), np.log10(sigmas[fitted]), 1)
    predicted = 10.0**log_coefficient * budgets ** exponent
    relative_error = np.abs(predicted - sigmas) / sigmas
    points = tuple(
        BudgetPoint(
            threshold=float(curve.threshold),
            sigma=float(sigmas[index]),
            budget=float(budgets[index]),
            compute=float(curve.compute[grid_index]),
            data=float(curve.data[grid_index]),
            held_out=index >= len(optima) - HELD_OUT,
            at_grid_edge=bool(at_edge),
        )
        for index, (_, curve, grid_index, at_edge) in enumerate(optima)
    )
    return BudgetLaw(
        scope=curves[0].scope,
        delta=float(delta),
        model_size=float(model_size),
        coefficient=float(10.0**log_coefficient),
        exponent=float(exponent),
        held_out_relative_error=tuple(float(error) for error in relative_error[-HELD_OUT:]),
        points=points,
    )


def resampled_budget_laws(budgets: np.ndarray, sigmas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The σ*(F) fit on each resample.

    Args:
        budgets: shape (R, J), F*(J) per resample (NaN or inf where that resample's laws failed).
        sigmas: shape (R, J), σ*(J) per resample.

    Returns:
        (coefficients, exponents), each shape (R,), fitted like `fit_budget_law` (the two largest
        budgets of each resample held out); NaN for resamples with a non-finite budget.
    """
    n_resamples, n_thresholds = budgets.shape
    coefficients = np.full(n_resamples, np.nan)
    exponents = np.full(n_resamples, np.nan)
    if n_thresholds < HELD_OUT + 2:
        return coefficients, exponents
    for resample in range(n_resamples):
        budget, sigma = budgets[resample], sigmas[resample]
        if not (np.isfinite(budget).all() and np.isfinite(sigma).all()):
            continue
        order = np.argsort(budget)[: n_thresholds - HELD_OUT]
        exponent, log_coefficient = np.polyfit(np.log10(budget[order]), np.log10(sigma[order]), 1)
        coefficients[resample], exponents[resample] = 10.0**log_coefficient, exponent
    return coefficients, exponents
