"""Shared fixtures: small synthetic sweeps drawn from known laws."""

from __future__ import annotations

import pandas as pd
import pytest

from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

TRUE_LAWS = SyntheticLaws()


@pytest.fixture(scope="session")
def true_laws() -> SyntheticLaws:
    return TRUE_LAWS


@pytest.fixture(scope="session")
def recovery_sweep() -> pd.DataFrame:
    """2 envs × 6 σ × 5 B × 5 η × 6 seeds × 1000 evals."""
    return synthetic_sweep(TRUE_LAWS, utds=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0), n_evals=1000, n_seeds=6, seed=1)


@pytest.fixture()
def small_sweep() -> pd.DataFrame:
    """A quick sweep for I/O and CLI tests: 2 envs × 4 σ × 3 B × 3 η × 3 seeds × 120 evals."""
    return synthetic_sweep(
        TRUE_LAWS,
        utds=(1.0, 2.0, 4.0, 8.0),
        batch_sizes=(128, 256, 512),
        learning_rates=(2e-4, 5e-4, 1e-3),
        n_seeds=3,
        n_evals=120,
        seed=2,
    )
