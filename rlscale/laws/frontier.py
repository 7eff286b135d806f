"""Compute to reach a threshold, C_J(σ), and the data–compute Pareto frontier.

FLOP convention (the paper's): one gradient step on a batch of B transitions costs 10·N·B FLOPs
for an agent with N parameters (≈ 6·N·B for the critic's forward and backward passes plus the
actor's and target network's passes, rounded to 10). Reaching J takes σ·D_J(σ) gradient steps, so
C_J(σ) = 10 · N · B*(σ) · σ · D_J(σ).
"""

from __future__ import annotations

import numpy as np

FLOPS_PER_PARAMETER_PER_SAMPLE = 10.0


def compute_flops(model_size: float, batch_size: np.ndarray, sigma: np.ndarray, data: np.ndarray) -> np.ndarray:
    """C = 10 · N · B · σ · D, elementwise over equal-shape arrays (any shape)."""
    return FLOPS_PER_PARAMETER_PER_SAMPLE * model_size * np.asarray(batch_size) * np.asarray(sigma) * np.asarray(data)


def pareto_mask(data: np.ndarray, compute: np.ndarray) -> np.ndarray:
    """Shape (n,) bool: the points (data[i], compute[i]) that no other point beats in both data and
    compute (lower is better in both, strictly better in at least one). O(n log n): a point is beaten
    by one with strictly less data and no more compute, or with equal data and less compute."""
    data = np.asarray(data, dtype=float)
    compute = np.asarray(compute, dtype=float)
    levels, level_of = np.unique(data, return_inverse=True)
    least_compute = np.full(len(levels), np.inf)
    np.minimum.at(least_compute, level_of, compute)
    least_with_less_data = np.concatenate([[np.inf], np.minimum.accumulate(least_compute)[:-1]])
    beaten = (least_with_less_data[level_of] <= compute) | (least_compute[level_of] < compute)
    return ~beaten
