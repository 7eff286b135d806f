"""The data-efficiency law D_J(σ) = D_min + (β_J / σ)^α_J.

Fitted per threshold J, per env and for all envs together, by least squares: on log(D) by default
(`loss="log"`: every σ weighs by its relative error), or on D itself (`loss="linear"`: the mean
squared error qscaled's `fit_powerlaw` minimizes on the App. D normalized times). A brute-force grid
search over (D_min, α, amplitude) is followed by a bound-clipped Levenberg–Marquardt refinement from
the best `TOP_STARTS` grid points (the same batched iteration refits every bootstrap resample). Positivity: D_min ∈ [0, min D], α ∈ [ALPHA_MIN, ALPHA_MAX], β > 0 by construction.
Internally the power term is parameterized by its amplitude A at the reference σ_ref (the
geometric mean of the fitted σ): (β/σ)^α = A · (σ_ref/σ)^α, i.e. β = σ_ref · A^(1/α); this keeps
the search well conditioned. Times are divided by their median first (the fit is scale-equivariant).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA_MIN = 0.01
ALPHA_MAX = 10.0
MIN_POINTS = 3
LOSSES = ("log", "linear")
# Brute-force start grid (in units of the median time): D_min as fractions of the smallest time,
# α log-spaced, log amplitude from 1e-3 of the smallest time to 10x the largest.
GRID_D_MIN_FRACTIONS = np.linspace(0.0, 0.98, 25)
GRID_ALPHAS = np.geomspace(0.02, 5.0, 40)
GRID_AMPLITUDE_POINTS = 40
GRID_AMPLITUDE_LOW = 1e-3
GRID_AMPLITUDE_HIGH = 10.0
TOP_STARTS = 4
"""Refinements from the best grid points; the lowest loss wins."""
LOG_AMPLITUDE_BOUND = 30.0
"""Bound of |log A − log(min time)| (times in units of their median)."""
RESAMPLE_ITERATIONS = 60
"""Levenberg–Marquardt iterations of every fit."""
LM_INITIAL_DAMPING = 1e-3
LM_DAMPING_DOWN, LM_DAMPING_UP = 3.0, 4.0
LM_DAMPING_MIN, LM_DAMPING_MAX = 1e-9, 1e9


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


def _residual(predicted: np.ndarray, times: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """(residual, d residual / d predicted), elementwise: log(pred / D) for "log", pred − D for "linear"."""
    if loss == "log":
        return np.log(predicted) - np.log(times), 1.0 / predicted
    return predicted - times, np.ones_like(predicted)


def _grid_starts(log_ratio: np.ndarray, times: np.ndarray, loss: str) -> np.ndarray:
    """The `TOP_STARTS` best (d_min, α, log A) of the brute-force grid, shape (TOP_STARTS, 3)."""
    times_min = float(times.min())
    d_min_grid = times_min * GRID_D_MIN_FRACTIONS
    log_amplitude_grid = np.log(times_min) + np.linspace(
        np.log(GRID_AMPLITUDE_LOW), np.log(times.max() / times_min * GRID_AMPLITUDE_HIGH), GRID_AMPLITUDE_POINTS
    )
    power = np.exp(log_amplitude_grid[None, :, None] + GRID_ALPHAS[:, None, None] * log_ratio[None, None, :])
    predicted = d_min_grid[:, None, None, None] + power[None]
    grid_loss = np.mean(_residual(predicted, times, loss)[0] ** 2, axis=-1)
    best = np.argsort(grid_loss, axis=None)[:TOP_STARTS]
    d_index, alpha_index, amplitude_index = np.unravel_index(best, grid_loss.shape)
    return np.stack([d_min_grid[d_index], GRID_ALPHAS[alpha_index], log_amplitude_grid[amplitude_index]], axis=1)


def fit_data_law(
    sigmas: np.ndarray, times: np.ndarray, start: DataLawParams | None = None, loss: str = "log"
) -> DataLawParams | None:
    """Fit D(σ) = D_min + (β/σ)^α to finite, positive `times` (shape (n,)) at `sigmas` (shape (n,)).

    Levenberg–Marquardt from the `TOP_STARTS` best points of the brute-force grid (or from `start`);
    the lowest loss wins. `loss` is "log" (least squares on log D) or "linear" (on D). Returns None
    when fewer than `MIN_POINTS` distinct σ have a finite time. `rms_log_residual` is reported in
    log space whatever the loss.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    times = np.asarray(times, dtype=float)
    usable = np.isfinite(times) & (times > 0)
    sigmas, times = sigmas[usable], times[usable]
    if len(np.unique(sigmas)) < MIN_POINTS:
        return None
    problem = _Problem.of(sigmas, times[None, :])
    if start is None:
        starts = _grid_starts(problem.log_ratio[0], problem.times[0], loss)
    else:
        starts = problem.start_from(start)
    params, total = _levenberg_marquardt(problem.repeated(len(starts)), starts, RESAMPLE_ITERATIONS, loss)
    d_min, alpha, log_amplitude = params[int(np.argmin(total))]
    log_residual = np.log(d_min + np.exp(log_amplitude + alpha * problem.log_ratio[0])) - np.log(problem.times[0])
    d_min_steps, beta, alpha = problem.to_law(np.array([[d_min, alpha, log_amplitude]]))
    return DataLawParams(
        d_min=float(d_min_steps[0]),
        beta=float(beta[0]),
        alpha=float(alpha[0]),
        rms_log_residual=float(np.sqrt(np.mean(log_residual**2))),
    )


def fit_data_law_resamples(
    sigmas: np.ndarray,
    resampled_times: np.ndarray,
    start: DataLawParams,
    iterations: int = RESAMPLE_ITERATIONS,
    loss: str = "log",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refit the law on every bootstrap resample at once, starting from the point fit `start`.

    The same least squares as `fit_data_law` (`loss`), minimized by the batched, bound-clipped
    Levenberg–Marquardt iteration (elementwise numpy over resamples).

    Args:
        sigmas: shape (n,).
        resampled_times: shape (R, n); +inf or NaN entries (threshold not reached in that
            resample) are left out of that resample's fit.
        start: the point fit.

    Returns:
        (d_min, beta, alpha), each shape (R,); NaN for resamples with fewer than `MIN_POINTS`
        finite times.
    """
    problem = _Problem.of(np.asarray(sigmas, dtype=float), np.asarray(resampled_times, dtype=float))
    params, _ = _levenberg_marquardt(problem, problem.start_from(start).repeat(problem.rows, 0), iterations, loss)
    enough = problem.valid.sum(axis=1) >= MIN_POINTS
    return tuple(np.where(enough, values, np.nan) for values in problem.to_law(params))


@dataclass(frozen=True)
class _Problem:
    """R least-squares problems in the internal units (times divided by their median `scale`).

    log_ratio: (R, n), log(σ_ref / σ); times: (R, n) scaled times (1 where invalid); valid: (R, n);
    lower, upper: (R, 3) bounds of (d_min, α, log A).
    """

    sigma_ref: float
    scale: float
    log_ratio: np.ndarray
    times: np.ndarray
    valid: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def rows(self) -> int:
        return self.times.shape[0]

    @classmethod
    def of(cls, sigmas: np.ndarray, times: np.ndarray) -> "_Problem":
        valid = np.isfinite(times) & (times > 0)
        scale = float(np.median(times[valid])) if valid.any() else 1.0
        scaled = np.where(valid, times, scale) / scale
        d_min_upper = np.where(valid, scaled, np.inf).min(axis=1)
        d_min_upper = np.where(np.isfinite(d_min_upper), d_min_upper, 1.0)
        log_low = np.log(np.where(valid, scaled, np.inf).min(axis=1).clip(max=1.0))
        rows = times.shape[0]
        sigma_ref = float(np.exp(np.mean(np.log(sigmas))))
        return cls(
            sigma_ref=sigma_ref,
            scale=scale,
            log_ratio=np.broadcast_to(np.log(sigma_ref / sigmas), times.shape),
            times=scaled,
            valid=valid,
            lower=np.stack([np.zeros(rows), np.full(rows, ALPHA_MIN), log_low - LOG_AMPLITUDE_BOUND], axis=1),
            upper=np.stack([d_min_upper, np.full(rows, ALPHA_MAX), log_low + LOG_AMPLITUDE_BOUND], axis=1),
        )

    def repeated(self, copies: int) -> "_Problem":
        """The first problem `copies` times (one per start)."""
        return _Problem(
            self.sigma_ref,
            self.scale,
            *(np.repeat(values[:1], copies, axis=0) for values in (self.log_ratio, self.times, self.valid, self.lower, self.upper)),
        )

    def start_from(self, law: DataLawParams) -> np.ndarray:
        """Shape (1, 3): `law` in internal units."""
        power_at_ref = max((law.beta / self.sigma_ref) ** law.alpha / self.scale, 1e-12)
        return np.array([[law.d_min / self.scale, np.clip(law.alpha, ALPHA_MIN, ALPHA_MAX), np.log(power_at_ref)]])

    def to_law(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(d_min, β, α) in env steps from internal (d_min, α, log A) rows (shape (R, 3))."""
        d_min, alpha, log_amplitude = params.T
        with np.errstate(over="ignore"):
            beta = self.sigma_ref * np.exp((log_amplitude + np.log(self.scale)) / alpha)
        return d_min * self.scale, beta, alpha


def _levenberg_marquardt(problem: _Problem, starts: np.ndarray, iterations: int, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Minimise each row's squared residuals (see `_residual`) from `starts` (R, 3), steps clipped
    to the bounds; returns the parameters (R, 3) and the final sums of squares (R,)."""

    def residuals_and_jacobian(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        power = np.exp(values[:, 2:3] + values[:, 1:2] * problem.log_ratio)
        residual, slope = _residual(values[:, 0:1] + power, problem.times, loss)
        residual = np.where(problem.valid, residual, 0.0)
        jacobian = np.stack([slope, power * problem.log_ratio * slope, power * slope], axis=2)
        return residual, jacobian * problem.valid[:, :, None]

    return batched_levenberg_marquardt(residuals_and_jacobian, starts, iterations, problem.lower, problem.upper)


def batched_levenberg_marquardt(
    residuals_and_jacobian, starts: np.ndarray, iterations: int, lower: np.ndarray | None = None, upper: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """R independent least-squares problems minimised at once by Levenberg–Marquardt.

    Args:
        residuals_and_jacobian: parameters (R, P) -> (residuals (R, n), Jacobian (R, n, P)); a
            residual left out of a problem is 0 with a zero Jacobian row.
        starts: shape (R, P).
        iterations: steps of every problem (a step that does not lower its sum is refused and the
            damping raised).
        lower, upper: shape (R, P) bounds each step is clipped to (None: unbounded).

    Returns:
        The parameters (R, P) and the final sums of squares (R,).
    """
    params = starts if lower is None else np.clip(starts, lower, upper)
    residual, jacobian = residuals_and_jacobian(params)
    total = (residual**2).sum(axis=1)
    damping = np.full(len(params), LM_INITIAL_DAMPING)
    identity = np.eye(params.shape[1])[None]
    for _ in range(iterations):
        normal = np.einsum("rni,rnj->rij", jacobian, jacobian)
        gradient = np.einsum("rni,rn->ri", jacobian, residual)
        diagonal = np.einsum("rii->ri", normal) + 1e-12
        damped = normal + damping[:, None, None] * identity * diagonal[:, :, None]
        step = -np.linalg.solve(damped, gradient[:, :, None])[:, :, 0]
        candidate = params + step if lower is None else np.clip(params + step, lower, upper)
        candidate_residual, candidate_jacobian = residuals_and_jacobian(candidate)
        candidate_total = (candidate_residual**2).sum(axis=1)
        better = candidate_total < total
        params = np.where(better[:, None], candidate, params)
        residual = np.where(better[:, None], candidate_residual, residual)
        jacobian = np.where(better[:, None, None], candidate_jacobian, jacobian)
        total = np.where(better, candidate_total, total)
        damping = np.where(better, damping / LM_DAMPING_DOWN, damping * LM_DAMPING_UP).clip(LM_DAMPING_MIN, LM_DAMPING_MAX)
    return params, total
