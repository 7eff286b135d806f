"""App. D of Rybkin et al. (2025): one data law from several envs.

Per env e, its times to threshold D_e(σ, J) are divided by that env's median m_e over every (σ, J)
it reaches; the normalized times are averaged over envs at each (σ, J); the law c + (σ/b)^(−a) is
fitted per J to those means, and everything is rescaled by M, the median over envs of m_e, so the
pooled law reads in env steps of a typical env (qscaled `core/fitted/data_efficiency.py`,
`compute_normalized_times`). Fitting the rescaled means M · mean_e(D_e / m_e) is the same as
fitting the normalized means and rescaling: the law is scale-equivariant (d_min → M·d_min,
β → M^(1/α)·β).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PooledTimes:
    """The App. D pooling of E envs' times.

    Attributes:
        times: shape (..., n_σ, n_J): M · mean over envs of D_e / m_e, in env steps; +inf where some
            env does not reach J at σ (or has no run there), NaN where an env median is undefined.
        env_medians: shape (..., E): m_e.
        scale: shape (...): M.
    """

    times: np.ndarray
    env_medians: np.ndarray
    scale: np.ndarray


def pool_env_times(times: np.ndarray) -> PooledTimes:
    """Pool per-env times of shape (..., E, n_σ, n_J) (+inf: not reached or not run; leading axes,
    e.g. bootstrap resamples, are pooled independently)."""
    times = np.asarray(times, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nanmedian(np.where(np.isfinite(times), times, np.nan), axis=(-2, -1))
        scale = np.nanmedian(medians, axis=-1)
        with np.errstate(invalid="ignore"):
            pooled = (times / medians[..., None, None]).mean(axis=-3) * scale[..., None, None]
    return PooledTimes(times=pooled, env_medians=medians, scale=scale)
