"""What the time-to-threshold estimator depends on: the runs' horizon.

The paper's time to threshold is the first crossing of an isotonic fit of a config's *whole*
seed-mean curve, so evaluations long after the crossing move it: a dip after the first raw crossing
pools with it and pushes the fitted crossing later. A grid's horizon (`env_steps`) is therefore part
of its result. Two measurements, both reported in fit.json's `horizon`:

- `crossing_dependence`: per config reaching the selection threshold J, its isotonic crossing over
  its raw first crossing, both by the fit's crossing rule. The raw first crossing is the crossing
  of the curve cut at its first logged step at or above J (`cut_curve_crossings`): by the logged
  rule exactly that step, since every earlier point lies below J; by the interpolated rule a point
  between it and the step before. A ratio of 1 means later data did not move the crossing; it is
  never below 1.
- `truncated_table`: the rows up to a fraction of each env's horizon; `fit.py` refits the laws on
  it at the full fit's thresholds (`HorizonCut`), so a law that moves with the cut depends on how
  long the grid ran, not only on how fast configs learned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlscale.laws.crossings import LOGGED, ConfigCurves, first_crossing_steps, monotone_rows
from rlscale.laws.results import CrossingDependence

RATIO_PERCENTILES = (50.0, 90.0)
"""Percentiles of the isotonic / raw crossing ratio reported."""
DEFAULT_HORIZON_CUTS = (0.5, 0.75)
"""Fractions of the horizon at which a study refits its grid."""


def cut_curve_crossings(curves: ConfigCurves, threshold: float, rule: str = LOGGED) -> np.ndarray:
    """Shape (C,): where each config's seed-mean curve cut at its first logged step at or above
    `threshold` crosses it, by the crossing `rule` (+inf: never reached). The cut curve's isotonic fit
    keeps that step's value (every earlier point lies below J), so by the logged rule this is that
    step; by the interpolated rule the crossing lies between it and the step before on that fit,
    never later than the whole curve's crossing."""
    crossings = np.full(len(curves.steps), np.inf)
    for index, (steps, returns) in enumerate(zip(curves.steps, curves.returns)):
        mean = returns.mean(axis=0)
        reached = np.flatnonzero(mean >= threshold)
        if len(reached):
            cut = reached[0] + 1
            crossings[index] = first_crossing_steps(monotone_rows(mean[None, :cut]), steps[:cut], np.array([float(threshold)]), rule)[0, 0]
    return crossings


def crossing_dependence(curves: ConfigCurves, isotonic_crossings: np.ndarray, threshold: float, rule: str = LOGGED) -> CrossingDependence:
    """Compare each config's isotonic crossing of `threshold` (shape (C,), +inf: never) with its raw
    first crossing by the same crossing `rule` (module docstring)."""
    raw = cut_curve_crossings(curves, threshold, rule)
    reached = np.isfinite(isotonic_crossings) & np.isfinite(raw) & (raw > 0)
    ratios = isotonic_crossings[reached] / raw[reached]
    median, p90 = (np.percentile(ratios, RATIO_PERCENTILES) if len(ratios) else (math.nan, math.nan))
    return CrossingDependence(
        threshold=float(threshold),
        n_reached=int(reached.sum()),
        n_moved=int((ratios > 1.0).sum()),
        ratio_median=float(median),
        ratio_p90=float(p90),
    )


def truncated_table(table: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, int]:
    """The rows of `table` up to `fraction` of each env's largest env step, and the largest env step
    kept (over envs)."""
    horizon = table.groupby("env", observed=True)["env_step"].transform("max")
    kept = table[table["env_step"] <= fraction * horizon]
    return kept, int(kept["env_step"].max()) if len(kept) else 0
