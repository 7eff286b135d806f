"""The budget-optimal split of compute between the UTD σ and the model size N.

With laws fitted per model size (`FitResult.by_model_size`), each size N has its own data law
D_J,N(σ) and batch-size law B*_N(σ), so reaching a threshold J with size N at UTD σ costs

    F_N(σ) = C + δ·D = 10 · N · B*_N(σ) · σ · D_J,N(σ) + δ · D_J,N(σ)

FLOPs (frontier.py's convention; δ is the cost of one environment step, the same for every size).
For each J, `model_size_split` minimises F over a σ grid for every size and then over the sizes:
the smallest total budget F*(J), the (N, σ) that reaches it, and each size's own minimum, so one
can read how the compute should be split between updates per env step and parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rlscale.laws.budget import DENSE_GRID_POINTS, budget_optima
from rlscale.laws.frontier import compute_flops
from rlscale.laws.results import POOLED_SCOPE, ModelSizeSplit, SizeOptimum


@dataclass(frozen=True)
class SizeLaws:
    """The laws of one model size.

    Attributes:
        model_size: N, the agent's parameter count.
        data_law: threshold J -> D_J,N(σ) (env steps; array in, array out). A threshold missing
            here is one this size's data law could not be fitted at (e.g. it never reaches J).
        batch_size: B*_N(σ) (array in, array out).
    """

    model_size: float
    data_law: Mapping[float, Callable[[np.ndarray], np.ndarray]]
    batch_size: Callable[[np.ndarray], np.ndarray]


def size_optimum(laws: SizeLaws, threshold: float, delta: float, sigma_grid: np.ndarray) -> SizeOptimum | None:
    """The minimum of F_N(σ) over `sigma_grid` (shape (G,), ascending) for one size at J, or None
    when the size has no data law at J or no finite budget on the grid."""
    predict = _lookup(laws.data_law, threshold)
    if predict is None:
        return None
    sigma = np.asarray(sigma_grid, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        data = np.asarray(predict(sigma), dtype=float)
        batch = np.asarray(laws.batch_size(sigma), dtype=float)
        compute = compute_flops(laws.model_size, batch, sigma, data)
    optimum = budget_optima(sigma, compute, data, delta)
    if not np.isfinite(optimum.budget):
        return None
    best = int(optimum.index)
    return SizeOptimum(
        model_size=float(laws.model_size),
        utd=float(optimum.sigma),
        budget=float(optimum.budget),
        compute=float(compute[best]),
        data=float(data[best]),
        batch_size=float(batch[best]),
        at_grid_edge=bool(optimum.at_grid_edge),
    )


def model_size_split(
    sizes: Sequence[SizeLaws], thresholds: Sequence[float], delta: float, sigma_grid: np.ndarray
) -> list[ModelSizeSplit]:
    """Per threshold J (ascending): the (N, σ) minimising F = 10·N·B*_N(σ)·σ·D_J,N(σ) + δ·D_J,N(σ)
    over `sigma_grid` and `sizes` (ties: the smaller N). Thresholds no size has a law at are left
    out; a list with fewer than two sizes gives [] (there is nothing to split)."""
    if len(sizes) < 2:
        return []
    ordered = sorted(sizes, key=lambda laws: laws.model_size)
    splits = []
    for threshold in sorted(set(map(float, thresholds))):
        optima, missing = [], []
        for laws in ordered:
            optimum = size_optimum(laws, threshold, delta, sigma_grid)
            (optima if optimum is not None else missing).append(optimum if optimum is not None else float(laws.model_size))
        if not optima:
            continue
        best = min(optima, key=lambda item: (item.budget, item.model_size))
        splits.append(ModelSizeSplit(threshold, best, tuple(optima), tuple(missing)))
    return splits


def split_from_fits(
    by_model_size: Mapping[str, object],
    delta: float | None,
    sigma_grid_extension: float = 1.0,
    grid_points: int = DENSE_GRID_POINTS,
    scope: str = POOLED_SCOPE,
) -> list[ModelSizeSplit]:
    """`model_size_split` from `FitResult.by_model_size` (each value a FitResult): per size the
    data laws of `scope` (default the pooled "all" law) and the batch-size law (for "all", the mean
    over envs of B*(σ), as the frontier uses). The σ grid spans every
    size's UTDs widened by `sigma_grid_extension`. δ is one value for all sizes (the env step costs
    the same whatever the agent); [] when it or a size's N is unknown, or with fewer than two sizes."""
    fits = list(by_model_size.values())
    if len(fits) < 2 or delta is None or any(fit.model_size is None for fit in fits):
        return []
    utds = [utd for fit in fits for utd in fit.utds]
    grid = np.geomspace(min(utds) / sigma_grid_extension, max(utds) * sigma_grid_extension, grid_points)
    sizes = []
    thresholds: set[float] = set()
    for fit in fits:
        laws = {}
        for data_law in fit.data_law:
            if data_law.scope == scope:
                laws[float(data_law.threshold)] = data_law.predict
                thresholds.add(float(data_law.threshold))
        batch_law = fit.batch_size_law
        sizes.append(SizeLaws(float(fit.model_size), laws, lambda sigma, law=batch_law: law.predict(scope, sigma)))
    return model_size_split(sizes, _merge_close(thresholds), float(delta), grid)


def _lookup(data_law: Mapping[float, Callable], threshold: float) -> Callable | None:
    for key, predict in data_law.items():
        if math.isclose(float(key), threshold, rel_tol=1e-9, abs_tol=1e-9):
            return predict
    return None


def _merge_close(values: set[float]) -> list[float]:
    merged: list[float] = []
    for value in sorted(values):
        if not merged or not math.isclose(merged[-1], value, rel_tol=1e-9, abs_tol=1e-9):
            merged.append(value)
    return merged
