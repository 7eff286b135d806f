"""The compute-optimal allocation over UTD σ and model size N (Fu, Rybkin et al. 2025, arXiv
2508.14881; their `compute_optimal_budget` in `scripts/experiments/utd_x_width_x_bs/plot_utils.py`).

Reaching threshold J with N critic parameters at UTD σ costs

    F_J(σ, N) = C + δ·D = 10 · N · B*(σ, N) · σ · D_J(σ, N) + δ · D_J(σ, N)   FLOPs

(`frontier.compute_flops`: both papers' 10·N·B per gradient step, σ·D_J steps; N the critic's
parameter count). The optimum (σ*, N*) of a threshold minimises F_J over a log box around the trained
(σ, N) (`SearchBox`): the argmin of a `ALLOCATION_GRID_POINTS`² grid, refined by bounded L-BFGS-B in
(log σ, log N). The authors minimise the same F by L-BFGS-B from the middle of the trained range
without bounds and with B = 256 fixed (their TODO); here B is the fitted B*(σ, N), and the box is
ours: an optimum on its boundary is flagged (`at_grid_edge`), a bound rather than an optimum.

Over the thresholds the optima trace the compute-optimal path, fitted as power laws of the budget,
σ*(F) and N*(F), like σ*(F) of the first paper (least squares in log–log, the `HELD_OUT` largest
budgets held out when at least `HELD_OUT` + 2 thresholds have optima). Each bootstrap resample's data
laws give their own optima (grid argmin only) and paths: the paths' intervals.

The one-axis strategies start where the compute-optimal path starts (its smallest-budget optimum,
σ₀ and N₀): scaling σ only keeps N = N₀ and picks the σ minimising F_J for every J; scaling N only
keeps σ = σ₀. Their data overhead is D along the strategy over D along the compute-optimal path,
minus 1, at the same budget (the path's largest budget; D interpolated in log–log between each
strategy's thresholds): how much more data one-axis scaling needs for the same total budget.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from rlscale.laws.bootstrap import summarize_scalar
from rlscale.laws.budget import HELD_OUT, log_linear_fit
from rlscale.laws.frontier import compute_flops
from rlscale.laws.results import AllocationPoint, JointDataLaw, PathLaw, SigmaNAllocation, StrategyPoint

MODEL_SIZE_GRID_EXTENSION = 4.0
"""The N box spans [min N / this, max N · this] around the trained sizes."""
ALLOCATION_GRID_POINTS = 160
"""Points per axis of the log (σ, N) grid of every allocation (point laws and resamples)."""
STRATEGY_GRID_POINTS = 2000
"""Points of the 1-D log grid of the one-axis strategies."""
EDGE_TOLERANCE = 1e-6
"""An optimum within this distance (in log) of the box's boundary is at its edge."""
RESAMPLE_CHUNK = 16
"""Resamples evaluated on the grid at once (bounds the memory of a (chunk, G, G) surface)."""

BatchLaw = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""B*(σ, N), broadcast over its arguments."""


@dataclass(frozen=True)
class SearchBox:
    """The (σ, N) box the optima are searched in: log-spaced grids over `sigma` and `model_size`."""

    sigma: tuple[float, float]
    model_size: tuple[float, float]

    @classmethod
    def around(cls, utds: Sequence[float], sizes: Sequence[float], sigma_extension: float) -> "SearchBox":
        """[min σ / ext, max σ · ext] × [min N / MODEL_SIZE_GRID_EXTENSION, max N · MODEL_SIZE_GRID_EXTENSION]."""
        return cls(
            (min(utds) / sigma_extension, max(utds) * sigma_extension),
            (min(sizes) / MODEL_SIZE_GRID_EXTENSION, max(sizes) * MODEL_SIZE_GRID_EXTENSION),
        )

    def grids(self, points: int = ALLOCATION_GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
        """(σ grid (points, 1), N grid (1, points)), log-spaced, to broadcast into a surface."""
        return np.geomspace(*self.sigma, points)[:, None], np.geomspace(*self.model_size, points)[None, :]

    def log_bounds(self) -> list[tuple[float, float]]:
        return [(math.log(self.sigma[0]), math.log(self.sigma[1])), (math.log(self.model_size[0]), math.log(self.model_size[1]))]

    def at_edge(self, sigma: float, model_size: float) -> bool:
        """Either coordinate lies at an end of its range."""
        return self.at_sigma_edge(sigma) or self.at_model_size_edge(model_size)

    def at_sigma_edge(self, sigma: float) -> bool:
        return _at_end(sigma, self.log_bounds()[0])

    def at_model_size_edge(self, model_size: float) -> bool:
        return _at_end(model_size, self.log_bounds()[1])


def _at_end(value: float, log_range: tuple[float, float]) -> bool:
    """`value` lies within EDGE_TOLERANCE (in log) of an end of `log_range`."""
    return min(abs(math.log(value) - end) for end in log_range) < EDGE_TOLERANCE


def budget_flops(sigma, model_size, data, batch_size, delta: float):
    """F = 10·N·B·σ·D + δ·D, elementwise (broadcast)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return compute_flops(np.asarray(model_size, dtype=float), batch_size, sigma, data) + delta * np.asarray(data, dtype=float)


@dataclass(frozen=True)
class Optimum:
    """argmin of F over the box (or along one axis): σ, N, F, C, D and B* there."""

    sigma: float
    model_size: float
    budget: float
    compute: float
    data: float
    batch_size: float
    at_grid_edge: bool


def _optimum_at(law: JointDataLaw, batch_law: BatchLaw, delta: float, sigma: float, model_size: float, at_edge: bool) -> Optimum:
    data = float(law.predict(sigma, model_size))
    batch = float(batch_law(np.asarray(sigma), np.asarray(model_size)))
    compute = float(compute_flops(model_size, batch, sigma, data))
    return Optimum(float(sigma), float(model_size), compute + delta * data, compute, data, batch, bool(at_edge))


def joint_optimum(law: JointDataLaw, batch_law: BatchLaw, delta: float, box: SearchBox) -> Optimum | None:
    """The (σ*, N*) minimising F_J over `box` (None when F is nowhere finite): grid argmin, then
    bounded L-BFGS-B on log F in (log σ, log N)."""
    sigma_grid, size_grid = box.grids()
    budget = budget_flops(sigma_grid, size_grid, law.predict(sigma_grid, size_grid), batch_law(sigma_grid, size_grid), delta)
    budget = np.where(np.isfinite(budget), budget, np.inf)
    if not np.isfinite(budget).any():
        return None
    row, column = np.unravel_index(int(np.argmin(budget)), budget.shape)

    def log_budget(x: np.ndarray) -> float:
        sigma, size = np.exp(x)
        value = float(budget_flops(sigma, size, law.predict(sigma, size), batch_law(np.asarray(sigma), np.asarray(size)), delta))
        return math.log(value) if value > 0 and math.isfinite(value) else math.inf

    start = np.log([float(sigma_grid[row, 0]), float(size_grid[0, column])])
    result = minimize(log_budget, start, method="L-BFGS-B", bounds=box.log_bounds())
    best = result.x if result.fun <= log_budget(start) else start
    sigma, size = (float(value) for value in np.exp(best))
    return _optimum_at(law, batch_law, delta, sigma, size, box.at_edge(sigma, size))


def resampled_optima(
    law: JointDataLaw, batch_law: BatchLaw, delta: float, box: SearchBox
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each bootstrap refit's optimum on the grid (with the point B* law).

    Returns:
        (σ*, N*, F*, D at the optimum), each shape (R,); NaN (F: +inf) where the refit failed.
    """
    sigma_grid, size_grid = box.grids()
    batch = batch_law(sigma_grid, size_grid)
    n_resamples = law.resamples.shape[0]
    sigma, size, budget, data = (np.full(n_resamples, np.nan) for _ in range(4))
    budget[:] = np.inf
    for start in range(0, n_resamples, RESAMPLE_CHUNK):
        chunk = slice(start, min(start + RESAMPLE_CHUNK, n_resamples))
        surface = dataclasses.replace(law, resamples=law.resamples[chunk]).predict_resamples(sigma_grid, size_grid)
        flops = budget_flops(sigma_grid[None], size_grid[None], surface, batch[None], delta)
        flops = np.where(np.isfinite(flops), flops, np.inf).reshape(len(flops), -1)
        best = np.argmin(flops, axis=1)
        finite = np.isfinite(flops[np.arange(len(best)), best])
        rows, columns = np.unravel_index(best, (sigma_grid.shape[0], size_grid.shape[1]))
        sigma[chunk] = np.where(finite, sigma_grid[rows, 0], np.nan)
        size[chunk] = np.where(finite, size_grid[0, columns], np.nan)
        budget[chunk] = np.where(finite, flops[np.arange(len(best)), best], np.inf)
        data[chunk] = np.where(finite, surface.reshape(len(flops), -1)[np.arange(len(best)), best], np.nan)
    return sigma, size, budget, data


def axis_optimum(
    law: JointDataLaw, batch_law: BatchLaw, delta: float, box: SearchBox, sigma: float | None = None, model_size: float | None = None
) -> Optimum | None:
    """The cheapest way to reach J along one axis: with `model_size` fixed, over σ in the box (or
    with `sigma` fixed, over N): dense log-grid argmin refined by a bounded scalar minimisation."""
    if (sigma is None) == (model_size is None):
        raise ValueError("fix exactly one of sigma and model_size")
    low, high = box.sigma if sigma is None else box.model_size

    def point(x: np.ndarray):
        return (np.exp(x), model_size) if sigma is None else (sigma, np.exp(x))

    def log_budget(x) -> np.ndarray:
        s, n = point(np.asarray(x, dtype=float))
        flops = budget_flops(s, n, law.predict(s, n), batch_law(np.asarray(s), np.asarray(n)), delta)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isfinite(flops) & (flops > 0), np.log(flops), np.inf)

    grid = np.linspace(math.log(low), math.log(high), STRATEGY_GRID_POINTS)
    values = log_budget(grid)
    if not np.isfinite(values).any():
        return None
    index = int(np.argmin(values))
    bracket = (grid[max(index - 1, 0)], grid[min(index + 1, len(grid) - 1)])
    result = minimize_scalar(lambda x: float(log_budget(x)), bounds=bracket, method="bounded")
    best = float(result.x) if result.fun <= values[index] else float(grid[index])
    at_edge = min(abs(best - grid[0]), abs(best - grid[-1])) < EDGE_TOLERANCE
    s, n = point(np.asarray(best))
    return _optimum_at(law, batch_law, delta, float(s), float(n), at_edge)


def path_law(
    quantity: str, budgets: np.ndarray, values: np.ndarray, fitted: np.ndarray, interval, at_end: Callable[[float], bool]
) -> PathLaw | None:
    """value*(F) = coefficient · F^exponent fitted on the `fitted` points (shape (J,) each), with the
    resampled fits (budgets, values of shape (R, J), the same thresholds held out); `at_end(value)`:
    whether a value lies at an end of the quantity's search range."""
    point_budgets, point_values = budgets[0], values[0]
    exponent, log_coefficient, degenerate = log_linear_fit(np.log10(point_budgets[fitted])[None], np.log10(point_values[fitted])[None])
    if degenerate[0]:
        return None
    coefficient = 10.0 ** float(log_coefficient[0])
    held_out = ~fitted
    predicted = coefficient * point_budgets[held_out] ** float(exponent[0])
    errors = np.abs(predicted - point_values[held_out]) / point_values[held_out]
    order = np.argsort(point_budgets[held_out])
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled_exponents, resampled_logs, resampled_degenerate = log_linear_fit(
            np.log10(budgets[1:, fitted]), np.log10(values[1:, fitted])
        )
    resampled_coefficients = 10.0 ** resampled_logs
    coefficient_summary = summarize_scalar(resampled_coefficients, interval)
    exponent_summary = summarize_scalar(resampled_exponents, interval)
    return PathLaw(
        quantity=quantity,
        coefficient=coefficient,
        exponent=float(exponent[0]),
        held_out_relative_error=tuple(float(error) for error in errors[order]),
        coefficient_median=coefficient_summary[0],
        coefficient_ci=coefficient_summary[1:],
        exponent_median=exponent_summary[0],
        exponent_ci=exponent_summary[1:],
        degenerate_resamples=int(resampled_degenerate.sum()),
        coefficient_resamples=resampled_coefficients,
        exponent_resamples=resampled_exponents,
        at_search_edge=all(at_end(float(value)) for value in point_values[fitted]),
    )


def _interpolated_data(points: Sequence[StrategyPoint | AllocationPoint], budget: float) -> float:
    """D at budget F along points (any order), linear in log–log; NaN outside their budgets."""
    ordered = sorted(points, key=lambda point: point.budget)
    budgets = np.log([point.budget for point in ordered])
    if not budgets[0] <= math.log(budget) <= budgets[-1]:
        return math.nan
    return float(np.exp(np.interp(math.log(budget), budgets, np.log([point.data for point in ordered]))))


def _strategy_point(threshold: float, optimum: Optimum | None) -> StrategyPoint | None:
    if optimum is None:
        return None
    return StrategyPoint(threshold, optimum.sigma, optimum.model_size, optimum.budget, optimum.data, optimum.at_grid_edge)


def _edge_notes(scope: str, points: Sequence[AllocationPoint], box: SearchBox) -> list[str]:
    """One note per axis and end of the search box that optima lie at (within EDGE_TOLERANCE in
    log, as `SearchBox.at_edge`), naming the thresholds there in ascending J (bounds, not optima)."""
    notes = []
    ordered = sorted(points, key=lambda point: point.threshold)
    for name, value_of, (low, high) in (
        ("σ*", lambda point: point.utd, box.sigma),
        ("N*", lambda point: point.model_size, box.model_size),
    ):
        for end, bound in (("bottom", low), ("top", high)):
            thresholds = [f"{point.threshold:g}" for point in ordered if abs(math.log(value_of(point) / bound)) < EDGE_TOLERANCE]
            if thresholds:
                notes.append(
                    f"(σ, N) allocation '{scope}': {name} lies at the {end} of the search box [{low:.4g}, {high:.4g}] at "
                    f"J = {', '.join(thresholds)} (a bound there, not an optimum)"
                )
    return notes


def allocate(
    scope: str,
    laws: Sequence[JointDataLaw],
    batch_law: BatchLaw,
    delta: float,
    box: SearchBox,
    trained_utds: Sequence[float],
    trained_sizes: Sequence[float],
    interval: tuple[float, float],
) -> tuple[SigmaNAllocation | None, list[str]]:
    """The allocation of one scope from its joint data laws (one per threshold) and B*(σ, N);
    None (with a note) when fewer than 2 thresholds have an optimum."""
    notes = []
    optima = []
    for law in sorted(laws, key=lambda item: item.threshold):
        optimum = joint_optimum(law, batch_law, delta, box)
        if optimum is not None:
            optima.append((law, optimum))
    if len(optima) < 2:
        return None, [f"(σ, N) allocation for scope '{scope}' not computed: fewer than 2 thresholds have a finite optimum"]
    optima.sort(key=lambda item: item[1].budget)
    n_held_out = HELD_OUT if len(optima) >= HELD_OUT + 2 else 0
    if not n_held_out:
        notes.append(
            f"(σ, N) paths for scope '{scope}': {len(optima)} thresholds, fitted on all of them (no held-out check; "
            f"it needs {HELD_OUT + 2})"
        )
    fitted = np.arange(len(optima)) < len(optima) - n_held_out
    resampled = [resampled_optima(law, batch_law, delta, box) for law, _ in optima]
    budgets = np.vstack([[optimum.budget for _, optimum in optima], np.stack([item[2] for item in resampled], axis=1)])
    sigmas = np.vstack([[optimum.sigma for _, optimum in optima], np.stack([item[0] for item in resampled], axis=1)])
    sizes = np.vstack([[optimum.model_size for _, optimum in optima], np.stack([item[1] for item in resampled], axis=1)])
    points = tuple(
        AllocationPoint(
            law.threshold, optimum.sigma, optimum.model_size, optimum.batch_size, optimum.budget, optimum.compute, optimum.data,
            held_out=not bool(fitted[index]), at_grid_edge=optimum.at_grid_edge,
        )
        for index, (law, optimum) in enumerate(optima)
    )
    notes.extend(_edge_notes(scope, points, box))
    base = optima[0][1]
    utd_only = [_strategy_point(law.threshold, axis_optimum(law, batch_law, delta, box, model_size=base.model_size)) for law, _ in optima]
    size_only = [_strategy_point(law.threshold, axis_optimum(law, batch_law, delta, box, sigma=base.sigma)) for law, _ in optima]
    utd_only = tuple(point for point in utd_only if point is not None)
    size_only = tuple(point for point in size_only if point is not None)
    overhead_budget = points[-1].budget
    joint_data = points[-1].data
    return (
        SigmaNAllocation(
            scope=scope,
            delta=float(delta),
            utd_range=box.sigma,
            model_size_range=box.model_size,
            trained_utds=tuple(float(value) for value in sorted(set(trained_utds))),
            trained_model_sizes=tuple(float(value) for value in sorted(set(trained_sizes))),
            points=points,
            utd_path=path_law("utd", budgets, sigmas, fitted, interval, box.at_sigma_edge),
            model_size_path=path_law("model_size", budgets, sizes, fitted, interval, box.at_model_size_edge),
            base_utd=base.sigma,
            base_model_size=base.model_size,
            utd_only=utd_only,
            model_size_only=size_only,
            utd_only_data_overhead=_interpolated_data(utd_only, overhead_budget) / joint_data - 1.0,
            model_size_only_data_overhead=_interpolated_data(size_only, overhead_budget) / joint_data - 1.0,
            overhead_budget=overhead_budget,
        ),
        notes,
    )
