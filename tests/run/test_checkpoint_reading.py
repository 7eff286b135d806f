"""SweepCheckpoints.open_for_reading: a reader beside a run directory's writer restores its
checkpoints without changing the directory (`adopt`, the writer's, clears what the manifest does not
name)."""

from __future__ import annotations

import numpy as np
import pytest

from rlscale.config import SweepConfig
from rlscale.run.checkpoint import RunDirectoryError, SweepCheckpoints
from rlscale.run.chunks import fresh_counters


def test_a_reader_restores_the_latest_checkpoint_and_leaves_everything_else(tmp_path):
    config = SweepConfig(env="pendulum", utd=[1.0], batch_size=[32], learning_rate=[3e-4], seeds=[0], env_steps=1000)
    writer = SweepCheckpoints(tmp_path)
    writer.start(config)
    state = {"weights": np.arange(6, dtype=np.float32).reshape(2, 3)}
    writer.save(0, 500, state, fresh_counters(1), rows_written=3, wall_time_s=1.0, done=False)
    debris = writer.root / "group-000" / "env-step-000000000750"  # a write the writer had not finished
    debris.mkdir()
    reader = SweepCheckpoints(tmp_path)
    reader.open_for_reading()
    restored, counters = reader.restore(0, state)
    np.testing.assert_array_equal(restored["weights"], state["weights"])
    assert counters == fresh_counters(1) and reader.rows_written == 3
    assert debris.is_dir()
    with pytest.raises(RunDirectoryError, match="has no checkpoint manifest"):
        SweepCheckpoints(tmp_path / "elsewhere").open_for_reading()
