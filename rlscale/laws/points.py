"""The D_J points a data law is fitted to: per (env, σ) or (env, σ, N), the times of the config the
point stands for (the one nearest the hyperparameter laws), or the fastest config's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlscale.laws.crossings import ThresholdTimes


@dataclass(frozen=True)
class ConfigPoints:
    """One env's D_J points. keys: (n,) tuples of the point's key values (σ, or σ and N); point:
    (n, J); resampled: (R, n, J); batch_size, learning_rate: (n, J), the config each point stands for."""

    keys: list[tuple[float, ...]]
    point: np.ndarray
    resampled: np.ndarray
    batch_size: np.ndarray
    learning_rate: np.ndarray


def config_points(
    configs: pd.DataFrame,
    times: ThresholdTimes,
    env: str,
    chosen: Mapping[tuple, int] | None,
    keys: tuple[str, ...] = ("utd",),
) -> ConfigPoints | None:
    """The points of `env`, one per distinct value of the `keys` columns (ascending): the times of
    the config `chosen[(env, *key values)]` (a point without one is left out), or with `chosen`
    None the minimum over the point's configs of the point time and of each resample (per
    threshold). None when no point has a config."""
    labels, point, resampled, batch, rate = [], [], [], [], []
    for values, group in configs[configs["env"] == env].groupby(list(keys), sort=True):
        values = tuple(float(value) for value in np.atleast_1d(values))
        if chosen is None:
            indices = group.index.to_numpy()
            fastest = indices[np.argmin(times.point[indices], axis=0)]
            point.append(times.point[indices].min(axis=0))
            resampled.append(times.bootstrap[:, indices].min(axis=1))
        else:
            index = chosen.get((str(env), *values))
            if index is None:
                continue
            fastest = np.full(len(times.thresholds), index)
            point.append(times.point[index])
            resampled.append(times.bootstrap[:, index])
        labels.append(values)
        batch.append(configs["batch_size"].to_numpy()[fastest])
        rate.append(configs["learning_rate"].to_numpy()[fastest])
    if not labels:
        return None
    return ConfigPoints(labels, np.stack(point), np.stack(resampled, axis=1), np.stack(batch), np.stack(rate))
