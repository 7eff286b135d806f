"""The (σ, N) laws of Fu, Rybkin et al. (2025), *Compute-Optimal Scaling for Value-Based Deep RL*
(arXiv 2508.14881), fitted the way their code fits them (prestonfu/model_scaling,
`scripts/core/fitting.py`):

- data to reach J: D_J(σ, N) = c·(1 + (a/σ)^α + (b/N)^β)  (`fit_sum_of_powerlaw`, `log_loss=True`);
- best batch size: B*(σ, N) = a / (σ^α · (1 + (b/N)^c))  (`fit_inverse_power_product_log_normalize`,
  `log_loss=True`).

N is the critic's parameter count (the table's `model_size`). Both laws are least squares on the log
of the fitted quantity in the authors' parameterization: σ and N are mapped log-linearly onto
[0.5, 2] (`LogRescale`, their `_log_rescale`), the values are divided by their mean, and every
parameter is the softplus of an unconstrained raw value (so each is positive, and none is bounded
above); their L-BFGS-B starts from raw values 0. Here the same sum of squares is minimised by scipy's
trust-region least squares with the analytic Jacobian, from the authors' start and from a few more
(`EXPONENT_STARTS` × `COEFFICIENT_STARTS`): the lowest loss wins, so the extra starts can only lower
it (on the authors' published times every start reaches their optimum). The optional shared form fits
several thresholds at once with one (α, β) and per-threshold (c, a, b), weighting each threshold's
squared residuals by 1/n like their `sum_of_powerlaw_shared_exponent_log_loss` (a sum of per-group
means). Bootstrap refits start from the point fit.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.special import log_expit

from rlscale.laws.data_law import batched_levenberg_marquardt

RESCALE_LOW, RESCALE_HIGH = 0.5, 2.0
"""`LogRescale` maps [min x, max x] onto this range (the authors' `_log_rescale` defaults)."""
EXPONENT_STARTS = (0.5, 2.0)
"""Extra starts (besides the authors' raw 0, i.e. softplus(0) = ln 2 for every parameter): each
exponent in the rescaled coordinates takes each of these values..."""
COEFFICIENT_STARTS = (0.5, 1.5)
"""...and each scale (a, b, in the rescaled [0.5, 2] coordinates) each of these."""
LEAST_SQUARES_TOLERANCE = 1e-12
MAX_EVALUATIONS = 2000
DATA_LAW_PARAMETERS = 5
BATCH_LAW_PARAMETERS = 4
REFIT_ITERATIONS = 100
"""Levenberg–Marquardt steps of every bootstrap refit (batched over resamples, from the point fit)."""
MIN_RAW_EXPONENT = 1e-12
"""Exponents are floored here before the inverse softplus (an exponent of 0 has raw value −∞)."""
LOG_SOFTPLUS_LINEAR_BELOW = -30.0
"""Below this raw value softplus(u) = e^u to double precision, so log softplus(u) = u."""


def softplus(raw: np.ndarray) -> np.ndarray:
    """log(1 + e^raw), elementwise and without overflow (NaN stays NaN)."""
    with np.errstate(invalid="ignore"):
        return np.logaddexp(0.0, raw)


def _log_softplus(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log softplus(raw), d log softplus / d raw), elementwise, stable for very negative raw."""
    raw = np.asarray(raw, dtype=float)
    linear = raw < LOG_SOFTPLUS_LINEAR_BELOW
    value = np.where(linear, raw, np.log(softplus(np.where(linear, 0.0, raw))))
    slope = np.exp(log_expit(raw) - value)
    return value, slope


def inverse_softplus(value: float) -> float:
    """The raw value whose softplus is `value` (> 0)."""
    return float(value + math.log(-math.expm1(-value)))


def _raw_scale(value: float, rescale: "LogRescale") -> float:
    """The raw u of a scale `value` = exp(spread · log softplus(u) + shift) (the inverse of how
    `_joint_from_raw` and `_batch_from_raw` read a and b). A scale that underflowed to 0 (a law the
    data drove flat, e.g. one batch size at every (σ, N)) is floored at the smallest positive float;
    a very negative log softplus(u) is u itself (`LOG_SOFTPLUS_LINEAR_BELOW`)."""
    log_softplus = (math.log(max(value, sys.float_info.min)) - rescale.shift) / rescale.spread
    return log_softplus if log_softplus < LOG_SOFTPLUS_LINEAR_BELOW else inverse_softplus(math.exp(log_softplus))


@dataclass(frozen=True)
class LogRescale:
    """x ↦ exp((log x − shift) / spread): [min x, max x] onto [RESCALE_LOW, RESCALE_HIGH]."""

    shift: float
    spread: float

    @classmethod
    def of(cls, values: np.ndarray) -> "LogRescale":
        """The rescale of `values` (at least two distinct positive values)."""
        logs = np.log(np.asarray(values, dtype=float))
        spread = float((logs.max() - logs.min()) / math.log(RESCALE_HIGH / RESCALE_LOW))
        return cls(shift=float(logs.min() - spread * math.log(RESCALE_LOW)), spread=spread)

    def log_scaled(self, values: np.ndarray) -> np.ndarray:
        """log of the rescaled values (any shape)."""
        return (np.log(np.asarray(values, dtype=float)) - self.shift) / self.spread


@dataclass(frozen=True)
class JointDataLawParams:
    """D_J(σ, N) = c·(1 + (a/σ)^alpha + (b/N)^beta); `rms_log_residual` is the RMS of log(fit/data)."""

    c: float
    a: float
    alpha: float
    b: float
    beta: float
    rms_log_residual: float

    def predict(self, sigma, model_size):
        """D at UTD `sigma` and model size `model_size` (broadcast, any shape)."""
        return joint_data_law(sigma, model_size, self.c, self.a, self.alpha, self.b, self.beta)


def joint_data_law(sigma, model_size, c, a, alpha, b, beta):
    """c·(1 + (a/σ)^α + (b/N)^β), elementwise with numpy broadcasting."""
    sigma, model_size = np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return c * (1.0 + (a / sigma) ** alpha + (b / model_size) ** beta)


@dataclass(frozen=True)
class BatchSizeLawParams:
    """B*(σ, N) = a / (σ^alpha · (1 + (b/N)^c)); `rms_log_residual` is the RMS of log(fit/data)."""

    a: float
    alpha: float
    b: float
    c: float
    rms_log_residual: float

    def predict(self, sigma, model_size):
        """B* at UTD `sigma` and model size `model_size` (broadcast, any shape)."""
        return inverse_power_product(sigma, model_size, self.a, self.alpha, self.b, self.c)


def inverse_power_product(sigma, model_size, a, alpha, b, c):
    """a / (σ^α · (1 + (b/N)^c)), elementwise with numpy broadcasting."""
    sigma, model_size = np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return a / (sigma**alpha * (1.0 + (b / model_size) ** c))


@dataclass(frozen=True)
class _Scaled:
    """Points in the authors' coordinates: log of the rescaled σ and N (n,) each, log of the values
    divided by `value_scale` (G, n) (NaN: left out), and the rescales."""

    log_sigma: np.ndarray
    log_size: np.ndarray
    log_values: np.ndarray
    sigma_rescale: LogRescale
    size_rescale: LogRescale
    value_scale: float

    @classmethod
    def of(cls, sigmas: np.ndarray, sizes: np.ndarray, values: np.ndarray, value_scale: float | None = None) -> "_Scaled":
        sigmas, sizes = np.asarray(sigmas, dtype=float), np.asarray(sizes, dtype=float)
        values = np.atleast_2d(np.asarray(values, dtype=float))
        usable = np.isfinite(values) & (values > 0)
        if value_scale is None:
            value_scale = float(np.mean(values[usable]))
        sigma_rescale, size_rescale = LogRescale.of(sigmas), LogRescale.of(sizes)
        log_values = np.where(usable, np.log(np.where(usable, values, 1.0) / value_scale), np.nan)
        return cls(
            sigma_rescale.log_scaled(sigmas), size_rescale.log_scaled(sizes), log_values, sigma_rescale, size_rescale, value_scale
        )

    @property
    def usable(self) -> np.ndarray:
        return np.isfinite(self.log_values)


def _sigmoid(raw):
    return np.exp(log_expit(raw))


def _joint_terms(u, s, v, t, w, log_sigma, log_size, log_values):
    """Residual log D_fit − log D (broadcast shape) and its Jacobian (that shape + (5,)) with respect
    to the raw (u, s, v, t, w) of (a, α, b, β, c), in the rescaled coordinates."""
    log_a, dlog_a = _log_softplus(u)
    log_b, dlog_b = _log_softplus(v)
    log_c, dlog_c = _log_softplus(w)
    alpha, beta = softplus(s), softplus(t)
    log_p = alpha * (log_a - log_sigma)
    log_q = beta * (log_b - log_size)
    log_sum = np.logaddexp(0.0, np.logaddexp(log_p, log_q))
    share_p, share_q = np.exp(log_p - log_sum), np.exp(log_q - log_sum)
    residual = log_c + log_sum - log_values
    columns = (
        share_p * alpha * dlog_a,
        share_p * (log_a - log_sigma) * _sigmoid(s),
        share_q * beta * dlog_b,
        share_q * (log_b - log_size) * _sigmoid(t),
        np.broadcast_to(dlog_c, residual.shape),
    )
    return residual, np.stack(np.broadcast_arrays(*columns), axis=-1)


def _batch_terms(u, v, s, t, log_sigma, log_size, log_values):
    """Residual log B_fit − log B (broadcast shape) and its Jacobian (that shape + (4,)) with respect
    to the raw (u, v, s, t) of (a, b, c, α), in the rescaled coordinates."""
    log_a, dlog_a = _log_softplus(u)
    log_b, dlog_b = _log_softplus(v)
    c, alpha = softplus(s), softplus(t)
    log_q = c * (log_b - log_size)
    log_one_plus_q = np.logaddexp(0.0, log_q)
    share_q = np.exp(log_q - log_one_plus_q)
    residual = log_a - alpha * log_sigma - log_one_plus_q - log_values
    columns = (
        np.broadcast_to(dlog_a, residual.shape),
        -share_q * c * dlog_b,
        -share_q * (log_b - log_size) * _sigmoid(s),
        -log_sigma * _sigmoid(t),
    )
    return residual, np.stack(np.broadcast_arrays(*columns), axis=-1)


def _minimize(
    residuals: Callable[[np.ndarray], np.ndarray], jacobian: Callable[[np.ndarray], np.ndarray], starts: Sequence[np.ndarray]
) -> np.ndarray | None:
    """The raw parameters with the smallest sum of squared `residuals` over the least-squares runs
    from `starts` (None when every run failed)."""
    best_raw, best_cost = None, math.inf
    for start in starts:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = least_squares(
                residuals, np.asarray(start, dtype=float), jac=jacobian, method="trf", x_scale="jac",
                xtol=LEAST_SQUARES_TOLERANCE, ftol=LEAST_SQUARES_TOLERANCE, gtol=LEAST_SQUARES_TOLERANCE,
                max_nfev=MAX_EVALUATIONS,
            )
        if np.isfinite(result.cost) and result.cost < best_cost:
            best_raw, best_cost = result.x, float(result.cost)
    return best_raw


def _batched_refits(terms, scaled: _Scaled, start: np.ndarray, parameters: int, sigmas, sizes) -> np.ndarray:
    """Every row of `scaled.log_values` (R, n) refitted from the raw `start` (P,) at once; rows with
    too few usable points give NaN. Returns the raw parameters, shape (R, P)."""
    usable = scaled.usable
    enough = np.array([_enough_points(sigmas, sizes, row, parameters) for row in usable])
    log_values = np.where(usable, scaled.log_values, 0.0)

    def residuals_and_jacobian(raw: np.ndarray):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            residual, jacobian = terms(*(raw[:, k : k + 1] for k in range(raw.shape[1])), scaled.log_sigma, scaled.log_size, log_values)
        residual = np.where(usable, residual, 0.0)
        return residual, np.where(usable[:, :, None], jacobian, 0.0)

    starts = np.repeat(start[None, :], len(log_values), axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        raw, _ = batched_levenberg_marquardt(residuals_and_jacobian, starts, REFIT_ITERATIONS)
    return np.where(enough[:, None], raw, np.nan)


class _JointProblem:
    """The sum-of-power-laws least squares over G groups (thresholds) sharing the points' (σ, N).

    Raw parameters: (s, t) for (α, β) then (u, v, w) for (a, b, c) per group when `shared`; with one
    group, (u, s, v, t, w) in the authors' order. Residual: log D_fit − log D over the usable points,
    each group's weighted by 1/sqrt(n_g).
    """

    def __init__(self, scaled: _Scaled, shared: bool):
        self.scaled = scaled
        self.shared = shared
        self.usable = scaled.usable
        self.weights = 1.0 / np.sqrt(np.maximum(self.usable.sum(axis=1), 1))

    @property
    def groups(self) -> int:
        return self.scaled.log_values.shape[0]

    def _split(self, raw: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """Per group the raw (u, s, v, t, w)."""
        if not self.shared:
            return [tuple(raw)]
        return [(raw[2 + 3 * g], raw[0], raw[3 + 3 * g], raw[1], raw[4 + 3 * g]) for g in range(self.groups)]

    def _group_terms(self, raw_group, g: int):
        return _joint_terms(*raw_group, self.scaled.log_sigma, self.scaled.log_size, self.scaled.log_values[g])

    def residuals(self, raw: np.ndarray) -> np.ndarray:
        parts = []
        for g, raw_group in enumerate(self._split(raw)):
            residual, _ = self._group_terms(raw_group, g)
            parts.append(self.weights[g] * residual[self.usable[g]])
        return np.concatenate(parts)

    def jacobian(self, raw: np.ndarray) -> np.ndarray:
        blocks = []
        for g, raw_group in enumerate(self._split(raw)):
            _, columns = self._group_terms(raw_group, g)
            columns = self.weights[g] * columns[self.usable[g]]
            if not self.shared:
                blocks.append(columns)
                continue
            block = np.zeros((len(columns), len(raw)))
            block[:, 0], block[:, 1] = columns[:, 1], columns[:, 3]
            block[:, 2 + 3 * g], block[:, 3 + 3 * g], block[:, 4 + 3 * g] = columns[:, 0], columns[:, 2], columns[:, 4]
            blocks.append(block)
        return np.concatenate(blocks, axis=0)

    def starts(self) -> list[np.ndarray]:
        """The authors' start (every raw value 0) and the extra starts."""
        size = 2 + 3 * self.groups if self.shared else DATA_LAW_PARAMETERS
        starts = [np.zeros(size)]
        floors = [inverse_softplus(float(np.exp(np.nanmin(row))) / 2.0) for row in self.scaled.log_values]
        for exponent in EXPONENT_STARTS:
            for scale in COEFFICIENT_STARTS:
                exponent_raw, scale_raw = inverse_softplus(exponent), inverse_softplus(scale)
                if self.shared:
                    starts.append(np.array([exponent_raw, exponent_raw, *[v for floor in floors for v in (scale_raw, scale_raw, floor)]]))
                else:
                    starts.append(np.array([scale_raw, exponent_raw, scale_raw, exponent_raw, floors[0]]))
        return starts

    def to_params(self, raw: np.ndarray) -> list[JointDataLawParams]:
        """Per group the law in σ, N and env steps, with its RMS log residual."""
        laws = []
        for g, raw_group in enumerate(self._split(raw)):
            residual, _ = self._group_terms(raw_group, g)
            usable = residual[self.usable[g]]
            c, a, alpha, b, beta = (float(value) for value in _joint_from_raw(np.array(raw_group), self.scaled))
            laws.append(JointDataLawParams(c, a, alpha, b, beta, float(np.sqrt(np.mean(usable**2)))))
        return laws


def _joint_from_raw(raw: np.ndarray, scaled: _Scaled) -> tuple[np.ndarray, ...]:
    """(c, a, α, b, β) in σ, N and env steps from raw (..., 5) = (u, s, v, t, w)."""
    u, s, v, t, w = np.moveaxis(np.asarray(raw, dtype=float), -1, 0)
    sigma_rescale, size_rescale = scaled.sigma_rescale, scaled.size_rescale
    return (
        softplus(w) * scaled.value_scale,
        np.exp(sigma_rescale.spread * _log_softplus(u)[0] + sigma_rescale.shift),
        softplus(s) / sigma_rescale.spread,
        np.exp(size_rescale.spread * _log_softplus(v)[0] + size_rescale.shift),
        softplus(t) / size_rescale.spread,
    )


def _joint_to_raw(law: JointDataLawParams, scaled: _Scaled) -> np.ndarray:
    """The raw (u, s, v, t, w) of `law` in `scaled`'s coordinates (the inverse of `_joint_from_raw`)."""
    sigma_rescale, size_rescale = scaled.sigma_rescale, scaled.size_rescale
    return np.array(
        [
            _raw_scale(law.a, sigma_rescale),
            inverse_softplus(max(law.alpha * sigma_rescale.spread, MIN_RAW_EXPONENT)),
            _raw_scale(law.b, size_rescale),
            inverse_softplus(max(law.beta * size_rescale.spread, MIN_RAW_EXPONENT)),
            inverse_softplus(law.c / scaled.value_scale),
        ]
    )


def _enough_points(sigmas: np.ndarray, sizes: np.ndarray, usable: np.ndarray, parameters: int) -> bool:
    return bool(usable.sum() >= parameters and len(np.unique(sigmas[usable])) >= 2 and len(np.unique(sizes[usable])) >= 2)


def fit_joint_data_law(sigmas: np.ndarray, sizes: np.ndarray, times: np.ndarray) -> JointDataLawParams | None:
    """Fit D(σ, N) = c·(1 + (a/σ)^α + (b/N)^β) to finite, positive `times` (shape (n,)) at `sigmas`
    and `sizes` (shape (n,) each). None with fewer than 5 usable points or fewer than 2 distinct σ
    or N among them."""
    return fit_joint_data_laws(sigmas, sizes, np.asarray(times, dtype=float)[None, :], shared=False)[0]


def fit_joint_data_laws(
    sigmas: np.ndarray, sizes: np.ndarray, times: np.ndarray, shared: bool
) -> list[JointDataLawParams | None]:
    """One law per row of `times` (shape (G, n)): separately, or (`shared`) with one (α, β) for all
    rows whose points suffice (the others get None)."""
    sigmas, sizes = np.asarray(sigmas, dtype=float), np.asarray(sizes, dtype=float)
    times = np.atleast_2d(np.asarray(times, dtype=float))
    usable = np.isfinite(times) & (times > 0)
    enough = [_enough_points(sigmas, sizes, usable[g], DATA_LAW_PARAMETERS) for g in range(len(times))]
    laws: list[JointDataLawParams | None] = [None] * len(times)
    groups = [[g for g in range(len(times)) if enough[g]]] if shared else [[g] for g in range(len(times)) if enough[g]]
    for group in groups:
        if not group:
            continue
        columns = usable[group].any(axis=0)
        problem = _JointProblem(_Scaled.of(sigmas[columns], sizes[columns], times[group][:, columns]), shared=len(group) > 1)
        raw = _minimize(problem.residuals, problem.jacobian, problem.starts())
        if raw is not None:
            for g, law in zip(group, problem.to_params(raw)):
                laws[g] = law
    return laws


def refit_joint_data_laws(sigmas: np.ndarray, sizes: np.ndarray, resampled: np.ndarray, start: JointDataLawParams) -> np.ndarray:
    """The law refitted on every bootstrap resample at once, from the point fit `start`.

    Args:
        sigmas, sizes: shape (n,).
        resampled: shape (R, n) times (+inf or NaN: left out of that resample's fit).
        start: the point fit.

    Returns:
        Shape (R, 5): (c, a, alpha, b, beta) per resample; NaN where a resample has too few points.
    """
    sigmas, sizes = np.asarray(sigmas, dtype=float), np.asarray(sizes, dtype=float)
    scaled = _Scaled.of(sigmas, sizes, resampled, value_scale=start.c)
    raw = _batched_refits(_joint_terms, scaled, _joint_to_raw(start, scaled), DATA_LAW_PARAMETERS, sigmas, sizes)
    return np.stack(_joint_from_raw(raw, scaled), axis=-1)


def refit_shared_joint_data_laws(
    sigmas: np.ndarray, sizes: np.ndarray, resampled: np.ndarray, start: Sequence[JointDataLawParams | None]
) -> np.ndarray:
    """The shared-exponent laws refitted on every resample (one least squares per resample), from
    the point fit `start` (one law per group; None: not fitted, NaN refits).

    Args:
        resampled: shape (R, G, n).

    Returns:
        Shape (R, G, 5): (c, a, alpha, b, beta) per resample and group (NaN: too few points).
    """
    sigmas, sizes = np.asarray(sigmas, dtype=float), np.asarray(sizes, dtype=float)
    resampled = np.asarray(resampled, dtype=float)
    params = np.full((*resampled.shape[:2], DATA_LAW_PARAMETERS), np.nan)
    fitted = [g for g, law in enumerate(start) if law is not None]
    for r, times in enumerate(resampled):
        usable = np.isfinite(times) & (times > 0)
        group = [g for g in fitted if _enough_points(sigmas, sizes, usable[g], DATA_LAW_PARAMETERS)]
        if not group:
            continue
        scaled = _Scaled.of(sigmas, sizes, times[group], value_scale=start[group[0]].c)
        problem = _JointProblem(scaled, shared=len(group) > 1)
        raws = [_joint_to_raw(start[g], scaled) for g in group]
        if problem.shared:
            first = raws[0]
            raw_start = np.array([first[1], first[3], *[value for raw in raws for value in (raw[0], raw[2], raw[4])]])
        else:
            raw_start = raws[0]
        raw = _minimize(problem.residuals, problem.jacobian, [raw_start])
        if raw is not None:
            for g, law in zip(group, problem.to_params(raw)):
                params[r, g] = (law.c, law.a, law.alpha, law.b, law.beta)
    return params


def _batch_from_raw(raw: np.ndarray, scaled: _Scaled) -> tuple[np.ndarray, ...]:
    """(a, α, b, c) of B*(σ, N) from raw (..., 4) = (u, v, s, t)."""
    u, v, s, t = np.moveaxis(np.asarray(raw, dtype=float), -1, 0)
    sigma_rescale, size_rescale = scaled.sigma_rescale, scaled.size_rescale
    alpha_scaled = softplus(t)
    return (
        softplus(u) * scaled.value_scale * np.exp(alpha_scaled * sigma_rescale.shift / sigma_rescale.spread),
        alpha_scaled / sigma_rescale.spread,
        np.exp(size_rescale.spread * _log_softplus(v)[0] + size_rescale.shift),
        softplus(s) / size_rescale.spread,
    )


def _batch_to_raw(law: BatchSizeLawParams, scaled: _Scaled) -> np.ndarray:
    """The raw (u, v, s, t) of `law` in `scaled`'s coordinates (the inverse of `_batch_from_raw`)."""
    sigma_rescale, size_rescale = scaled.sigma_rescale, scaled.size_rescale
    alpha_scaled = max(law.alpha * sigma_rescale.spread, MIN_RAW_EXPONENT)
    a_scaled = law.a / scaled.value_scale / math.exp(alpha_scaled * sigma_rescale.shift / sigma_rescale.spread)
    return np.array(
        [
            inverse_softplus(a_scaled),
            _raw_scale(law.b, size_rescale),
            inverse_softplus(max(law.c * size_rescale.spread, MIN_RAW_EXPONENT)),
            inverse_softplus(alpha_scaled),
        ]
    )


def fit_batch_size_law(sigmas: np.ndarray, sizes: np.ndarray, values: np.ndarray) -> BatchSizeLawParams | None:
    """Fit B*(σ, N) = a / (σ^α · (1 + (b/N)^c)) to positive `values` (shape (n,)) at `sigmas` and
    `sizes`; None with fewer than 5 usable points or fewer than 2 distinct σ or N among them."""
    sigmas, sizes, values = (np.asarray(item, dtype=float) for item in (sigmas, sizes, values))
    usable = np.isfinite(values) & (values > 0)
    if not _enough_points(sigmas, sizes, usable, BATCH_LAW_PARAMETERS + 1):
        return None
    scaled = _Scaled.of(sigmas[usable], sizes[usable], values[usable])

    def residuals(raw):
        return _batch_terms(*raw, scaled.log_sigma, scaled.log_size, scaled.log_values[0])[0]

    def jacobian(raw):
        return _batch_terms(*raw, scaled.log_sigma, scaled.log_size, scaled.log_values[0])[1]

    starts = [np.zeros(BATCH_LAW_PARAMETERS)] + [
        np.array([0.0, inverse_softplus(scale), inverse_softplus(exponent), 0.0])
        for exponent in EXPONENT_STARTS
        for scale in COEFFICIENT_STARTS
    ]
    raw = _minimize(residuals, jacobian, starts)
    if raw is None:
        return None
    a, alpha, b, c = (float(value) for value in _batch_from_raw(raw, scaled))
    return BatchSizeLawParams(a, alpha, b, c, float(np.sqrt(np.mean(residuals(raw) ** 2))))


def refit_batch_size_law(sigmas: np.ndarray, sizes: np.ndarray, resampled: np.ndarray, start: BatchSizeLawParams) -> np.ndarray:
    """The law refitted on each resample's values (shape (R, n)) at once, from the point fit
    `start`. Returns shape (R, 4): (a, alpha, b, c) per resample (NaN: too few usable values)."""
    sigmas, sizes = np.asarray(sigmas, dtype=float), np.asarray(sizes, dtype=float)
    scaled = _Scaled.of(sigmas, sizes, resampled, value_scale=start.a)
    raw = _batched_refits(_batch_terms, scaled, _batch_to_raw(start, scaled), BATCH_LAW_PARAMETERS + 1, sigmas, sizes)
    return np.stack(_batch_from_raw(raw, scaled), axis=-1)
