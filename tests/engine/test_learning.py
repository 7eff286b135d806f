"""Learning: a default-style SAC config solves pendulum swing-up within a couple of CPU minutes (make test-slow)."""

import numpy as np
import pytest

from rlscale.config import SweepConfig
from rlscale.run.runner import run_sweep
from rlscale.run.store import read_evals

# Random policies score about -1200 on pendulum; a swung-up, balanced pendulum scores about -150.
SOLVED_RETURN = -300.0


@pytest.mark.slow
def test_sac_solves_pendulum(tmp_path):
    config = SweepConfig(
        env="pendulum",
        utd=[1.0],
        batch_size=[128],
        learning_rate=[1e-3],
        seeds=[0, 1],
        env_steps=7000,
        eval_interval=1000,
        learning_starts=1000,
        buffer_capacity=10000,
        hidden_width=64,
    )
    results = run_sweep(config, tmp_path)
    evals = read_evals(tmp_path)
    assert len(evals) == 2 * 7
    first = evals[evals.env_step == 1000]["return"].to_numpy()
    last = evals[evals.env_step >= 6000].groupby("seed")["return"].max().to_numpy()
    assert np.all(first < -700), first
    assert np.all(last > SOLVED_RETURN), last
    assert results[0].grad_steps == [6000, 6000]
