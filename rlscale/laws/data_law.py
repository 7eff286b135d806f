"""The data-efficiency law D_J(σ) = D_min + (β_J / σ)^α_J.

Fitted per threshold J, per env and for all envs together, by least squares on log(D) (so every
σ weighs by its relative error): a brute-force grid search over (D_min, α, amplitude) followed by
L-BFGS-B refinement from the best grid point. Positivity: D_min ∈ [0, min D], α ∈ [ALPHA_MIN,
ALPHA_MAX], β > 0 by construction. Internally the power term is parameterized by its amplitude A
at the reference σ_ref (the geometric mean of the fitted σ): (β/σ)^α = A · (σ_ref/σ)^α, i.e.
β = σ_ref · A^(1/α); this keeps the search well conditioned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

ALPHA_MIN = 0.01
ALPHA_MAX = 10.0
MIN_POINTS = 3


@dataclass(frozen=True)
class DataLawParams:
    """D(σ) = d_min + (beta / σ)^alpha; `rms_log_residual` is the root-mean-square of
    log(D_fit / D) over the fitted points."""

    d_min: float
    beta: float
    alpha: float
    rms_log_residual: float

    def predict(self, sigma: float | np.ndarray) -> float | np.ndarray:
        """D at UTD `sigma` (any shape)."""
        with np.errstate(over="ignore"):
            return self.d_min + (self.beta / np.asarray(sigma, dtype=float)) ** self.alpha

    def rescaled(self, factor: float) -> "DataLawParams":
        """The law of `factor` · D(σ): d_min · factor and β · factor^(1/α)."""
        with np.errstate(over="ignore"):
            beta = self.beta * factor ** (1.0 / self.alpha)
        return DataLawParams(
            d_min=self.d_min * factor,
            beta=float(beta),
            alpha=self.alpha,
            rms_log_residual=self.rms_log_residual,
        )


def _loss_and_gradient(
    params: np.ndarray, log_ratio: np.ndarray, log_times: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean squared log residual and its gradient in (d_min, α, log A).

    Args:
        params: (d_min, α, log A), d_min in the units of the times.
        log_ratio: shape (n,), log(σ_ref / σ).
        log_times: shape (n,), log D.
    """
    d_min, alpha, log_amplitude = params
    power = np.exp(log_amplitude + alpha * log_ratio)
    predicted = d_min + power
    residual = np.log(predicted) - log_times
    weight = 2.0 * residual / predicted / len(residual)
    gradient = np.array([weight.sum(), (weight * power * log_ratio).sum(), (weight * power).sum()])
    return float(np.mean(residual**2)), gradient


def _grid_start(log_ratio: np.ndarray, log_times: np.ndarray, times_min: float) -> np.ndarray:
    """Best (d_min, α, log A) on a brute-force grid; each argument as in `_loss_and_gradient`."""
    d_min_grid = times_min * np.linspace(0.0, 0.98, 25)
    alpha_grid = np.geomspace(0.02, 5.0, 40)
    log_amplitude_grid = np.log(times_min) + np.linspace(np.log(1e-3), np.log(np.exp(log_times.max() - np.log(times_min)) * 10.0), 40)
    power = np.exp(log_amplitude_grid[None, :, None] + alpha_grid[:, None, None] * log_ratio[None, None, :])
    predicted = d_min_grid[:, None, None, None] + power[None]
    loss = np.mean((np.log(predicted) - log_times) ** 2, axis=-1)
    d_index, alpha_index, amplitude_index = np.unravel_index(np.argmin(loss), loss.shape)
    return np.array([d_min_grid[d_index], alpha_grid[alpha_index], log_amplitude_grid[amplitude_index]])


def fit_data_law(
    sigmas: np.ndarray, times: np.ndarray, start: DataLawParams | None = None
) -> DataLawParams | None:
    """Fit D(σ) = D_min + (β/σ)^α to finite, positive `times` (shape (n,)) at `sigmas` (shape (n,)).

    With `start`, the grid search is skipped and L-BFGS-B starts from it (used for bootstrap
    resamples). Returns None when fewer than `MIN_POINTS` distinct σ have a finite time.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    times = np.asarray(times, dtype=float)
    usable = np.isfinite(times) & (times > 0)
    sigmas, times = sigmas[usable], times[usable]
    if len(np.unique(sigmas)) < MIN_POINTS:
        return None
    scale = float(np.median(times))
    scaled = times / scale
    sigma_ref = float(np.exp(np.mean(np.log(sigmas))))
    log_ratio = np.log(sigma_ref / sigmas)
    log_times = np.log(scaled)
    times_min = float(scaled.min())
    if start is None:
        initial = _grid_start(log_ratio, log_times, times_min)
    else:
        power_at_ref = max((start.beta / sigma_ref) ** start.alpha / scale, 1e-12)
        initial = np.array([min(start.d_min / scale, times_min * 0.98), np.clip(start.alpha, ALPHA_MIN, ALPHA_MAX), np.log(power_at_ref)])
    bounds = [(0.0, times_min), (ALPHA_MIN, ALPHA_MAX), (np.log(times_min) - 30.0, np.log(times_min) + 30.0)]
    result = minimize(_loss_and_gradient, initial, args=(log_ratio, log_times), jac=True, method="L-BFGS-B", bounds=bounds)
    d_min, alpha, log_amplitude = result.x
    with np.errstate(over="ignore"):
        beta = sigma_ref * np.exp((log_amplitude + np.log(scale)) / alpha)
    return DataLawParams(
        d_min=float(d_min * scale),
        beta=float(beta),
        alpha=float(alpha),
        rms_log_residual=float(np.sqrt(result.fun)),
    )


def fit_data_law_resamples(
    sigmas: np.ndarray, resampled_times: np.ndarray, start: DataLawParams, iterations: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refit the law on every bootstrap resample at once, starting from the point fit `start`.

    The same log-space least squares as `fit_data_law`, minimized by a batched, bound-clipped
    Levenberg–Marquardt iteration (elementwise numpy over resamples: thousands of tiny
    L-BFGS-B calls would dominate the fit's run time).

    Args:
        sigmas: shape (n,).
        resampled_times: shape (R, n); +inf or NaN entries (threshold not reached in that
            resample) are left out of that resample's fit.
        start: the point fit.

    Returns:
        (d_min, beta, alpha), each shape (R,); NaN for resamples with fewer than `MIN_POINTS`
        finite times.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    times = np.asarray(resampled_times, dtype=float)
    valid = np.isfinite(times) & (times > 0)
    n_resamples = times.shape[0]
    scale = float(np.median(times[valid])) if valid.any() else 1.0
    sigma_ref = float(np.exp(np.mean(np.log(sigmas))))
    log_ratio = np.log(sigma_ref / sigmas)[None, :]
    log_times = np.where(valid, np.log(np.where(valid, times, 1.0) / scale), 0.0)
    enough = valid.sum(axis=1) >= MIN_POINTS
    d_min_upper = np.where(valid, np.where(valid, times, np.inf) / scale, np.inf).min(axis=1)
    d_min_upper = np.where(np.isfinite(d_min_upper), d_min_upper, 1.0)
    lower = np.stack([np.zeros(n_resamples), np.full(n_resamples, ALPHA_MIN), np.full(n_resamples, -60.0)], axis=1)
    upper = np.stack([d_min_upper, np.full(n_resamples, ALPHA_MAX), np.full(n_resamples, 60.0)], axis=1)
    initial_amplitude = np.log(max((start.beta / sigma_ref) ** start.alpha / scale, 1e-12))
    params = np.clip(np.array([start.d_min / scale, start.alpha, initial_amplitude])[None, :].repeat(n_resamples, 0), lower, upper)

    def residuals_and_jacobian(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        power = np.exp(values[:, 2:3] + values[:, 1:2] * log_ratio)
        predicted = values[:, 0:1] + power
        residual = np.where(valid, np.log(predicted) - log_times, 0.0)
        jacobian = np.stack([1.0 / predicted, power * log_ratio / predicted, power / predicted], axis=2)
        return residual, jacobian * valid[:, :, None]

    residual, jacobian = residuals_and_jacobian(params)
    loss = (residual**2).sum(axis=1)
    damping = np.full(n_resamples, 1e-3)
    for _ in range(iterations):
        normal = np.einsum("rni,rnj->rij", jacobian, jacobian)
        gradient = np.einsum("rni,rn->ri", jacobian, residual)
        diagonal = np.einsum("rii->ri", normal) + 1e-12
        damped = normal + damping[:, None, None] * np.eye(3)[None] * diagonal[:, :, None]
        step = -np.linalg.solve(damped, gradient[:, :, None])[:, :, 0]
        candidate = np.clip(params + step, lower, upper)
        candidate_residual, candidate_jacobian = residuals_and_jacobian(candidate)
        candidate_loss = (candidate_residual**2).sum(axis=1)
        better = candidate_loss < loss
        params = np.where(better[:, None], candidate, params)
        residual = np.where(better[:, None], candidate_residual, residual)
        jacobian = np.where(better[:, None, None], candidate_jacobian, jacobian)
        loss = np.where(better, candidate_loss, loss)
        damping = np.where(better, damping / 3.0, damping * 4.0).clip(1e-9, 1e9)
    d_min, alpha, log_amplitude = params.T
    with np.errstate(over="ignore"):
        beta = sigma_ref * np.exp((log_amplitude + np.log(scale)) / alpha)
    nan = np.full(n_resamples, np.nan)
    return (
        np.where(enough, d_min * scale, nan),
        np.where(enough, beta, nan),
        np.where(enough, alpha, nan),
    )
