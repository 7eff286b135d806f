"""Compute to reach a threshold, C_J(σ), and the data–compute Pareto frontier.

FLOP convention (the paper's): one gradient step on a batch of B transitions costs 10·N·B FLOPs
for an agent with N parameters (≈ 6·N·B for the critic's forward and backward passes plus the
actor's and target network's passes, rounded to 10). Reaching J takes σ·D_J(σ) gradient steps, so
C_J(σ) = 10 · N · B*(σ) · σ · D_J(σ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOPS_PER_PARAMETER_PER_SAMPLE = 10.0


def compute_flops(model_size: float, batch_size: np.ndarray, sigma: np.ndarray, data: np.ndarray) -> np.ndarray:
    """C = 10 · N · B · σ · D, elementwise over equal-shape arrays (any shape)."""
    return FLOPS_PER_PARAMETER_PER_SAMPLE * model_size * np.asarray(batch_size) * np.asarray(sigma) * np.asarray(data)


def pareto_mask(data: np.ndarray, compute: np.ndarray) -> np.ndarray:
    """Shape (n,) bool: the points (data[i], compute[i]) that no other point beats in both data and
    compute (lower is better in both, strictly better in at least one)."""
    data = np.asarray(data, dtype=float)
    compute = np.asarray(compute, dtype=float)
    no_worse = (data[None, :] <= data[:, None]) & (compute[None, :] <= compute[:, None])
    strictly_better = (data[None, :] < data[:, None]) | (compute[None, :] < compute[:, None])
    return ~(no_worse & strictly_better).any(axis=1)


@dataclass(frozen=True)
class FrontierCurve:
    """The data–compute trade-off for one (scope, threshold J) along a σ grid (G points).

    Attributes:
        scope: env name or "all".
        threshold: J.
        sigma: shape (G,), log-spaced UTD grid.
        batch_size: shape (G,), B*(σ) from the batch-size law.
        data: shape (G,), D_J(σ) from the data law (env steps).
        compute: shape (G,), C_J(σ) in FLOPs.
        on_frontier: shape (G,), Pareto-optimal points.
    """

    scope: str
    threshold: float
    sigma: np.ndarray
    batch_size: np.ndarray
    data: np.ndarray
    compute: np.ndarray
    on_frontier: np.ndarray

    def to_dict(self) -> dict:
        return {
            "scope": self.scope,
            "threshold": self.threshold,
            "utd": self.sigma.tolist(),
            "batch_size": self.batch_size.tolist(),
            "data": self.data.tolist(),
            "compute": self.compute.tolist(),
            "on_frontier": self.on_frontier.tolist(),
        }
