"""Every env suite through the real CLI: a tiny `rlscale sweep` that checkpoints mid-run, is SIGKILLed
after its first checkpoint, is resumed by running the same command again, and ends with the rows and
the final state of an uninterrupted run, bit for bit (CPU), under both config axes for pure JAX.

The physics suites' env states are what broke checkpoints before (MJX `Data` holds zero-size
arrays, integer and bool leaves). Every case is slow-marked (`make test-slow`): the default suite
kills and resumes pure-JAX sweeps in test_faults.py, and trains no physics suite.
"""

from __future__ import annotations

import signal

import pytest
from reliability_helpers import assert_trees_identical, eval_rows, final_states, run_sweep_process

# One compiled group of 2 configs (different η and seed), 3 evaluations, a checkpoint at each.
SUITE_SWEEP = {
    "utd": [1.0],
    "batch_size": [16],
    "learning_rate": [1e-3, 3e-4],
    "seeds": [0],
    "env_steps": 300,
    "eval_interval": 100,
    "eval_episodes": 1,
    "num_envs": 4,
    "learning_starts": 100,
    "buffer_capacity": 400,
    "hidden_width": 16,
    "hidden_depth": 1,
    "checkpoint_every_env_steps": 100,
    "checkpoint_every_seconds": 0.0,
}
SUITES = [
    # config_axis auto: map on this CPU. The default suite kills and resumes pure-JAX sweeps in
    # test_faults.py (a killed writer, rows past its checkpoint: the same rows and final states).
    pytest.param({"env": "pendulum"}, id="jax", marks=pytest.mark.slow),
    pytest.param({"env": "pendulum", "config_axis": "vmap"}, id="jax-vmap", marks=pytest.mark.slow),
    pytest.param({"env": "dmc/cartpole-swingup"}, id="dmc-mjx", marks=pytest.mark.slow),
    pytest.param(
        {"env": "brax/inverted_pendulum", "env_options": {"backend": "generalized"}},
        id="brax-generalized",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        {"env": "brax/inverted_pendulum", "env_options": {"backend": "mjx"}},
        id="brax-mjx",
        marks=pytest.mark.slow,
    ),
]
# The second evaluation's rows are fsync'ed, its checkpoint not yet written: the first is on disk.
KILL_AFTER_FIRST_CHECKPOINT = "eval_rows_written:2"


@pytest.mark.parametrize("suite", SUITES)
def test_sweep_killed_after_first_checkpoint_resumes_to_the_uninterrupted_run(suite, tmp_path, compile_cache):
    values = {**SUITE_SWEEP, **suite}
    reference = tmp_path / "reference"
    result = run_sweep_process(values, reference, compile_cache)
    assert result.returncode == 0, result.stderr[-3000:]

    resumed = tmp_path / "resumed"
    result = run_sweep_process(values, resumed, compile_cache, kill_at=KILL_AFTER_FIRST_CHECKPOINT)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    assert len(eval_rows(resumed)) == 4  # two evaluations of 2 configs; one checkpoint
    result = run_sweep_process(values, resumed, compile_cache)
    assert result.returncode == 0, result.stderr[-3000:]

    rows = eval_rows(resumed)
    assert rows == eval_rows(reference)
    assert [row["env_step"] for row in rows] == [100, 100, 200, 200, 300, 300]
    # Learning started after 100 env steps: 200 updates per config at utd 1 by the end.
    assert [row["grad_step"] for row in rows[-2:]] == [200, 200]
    assert all(row["diverged_at_env_step"] is None for row in rows)
    for state, uninterrupted in zip(final_states(resumed, values), final_states(reference, values)):
        assert_trees_identical(state, uninterrupted)
