"""Summaries of bootstrap samples: median and a central interval (default 5–95%)."""

from __future__ import annotations

import warnings

import numpy as np

DEFAULT_INTERVAL: tuple[float, float] = (5.0, 95.0)


def summarize(
    samples: np.ndarray, axis: int = 0, interval: tuple[float, float] = DEFAULT_INTERVAL
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and (low, high) percentiles of `samples` along `axis`.

    NaN samples (a fit that failed on that resample) are ignored; +inf samples (a threshold
    never reached) count as the largest values, so a median or bound can be +inf. All-NaN
    slices give NaN.

    Returns:
        (median, low, high), each `samples`' shape without `axis`.
    """
    data = np.moveaxis(np.asarray(samples, dtype=float), axis, 0)
    capped = np.where(np.isposinf(data), np.finfo(float).max, data)
    if data.shape[0] == 0:
        empty = np.full(data.shape[1:], np.nan)
        return empty, empty.copy(), empty.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        quantiles = np.nanpercentile(capped, [50.0, interval[0], interval[1]], axis=0)
    quantiles = np.where(quantiles >= 1e300, np.inf, quantiles)
    return quantiles[0], quantiles[1], quantiles[2]


def summarize_scalar(samples: np.ndarray, interval: tuple[float, float] = DEFAULT_INTERVAL) -> tuple[float, float, float]:
    """`summarize` for a 1-D array of samples, as Python floats (median, low, high)."""
    samples = np.asarray(samples, dtype=float)
    if samples.size == 0 or np.isnan(samples).all():
        return (float("nan"),) * 3
    median, low, high = summarize(samples, axis=0, interval=interval)
    return float(median), float(low), float(high)
