"""Fixtures of the distributed suite: a shared XLA compilation cache, a local Ray cluster, and the
local executor's rows of the two-group sweep (the reference every executor must reproduce)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from distributed_helpers import REPO, TWO_GROUP_SWEEP

# A local-executor sweep in a fresh process: argv[1] the JSON config, argv[2] the run directory,
# argv[3] the compilation cache.
LOCAL_SWEEP_ENTRY = """
import json, sys
import jax
jax.config.update("jax_compilation_cache_dir", sys.argv[3])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
from rlscale.config import SweepConfig
from rlscale.run.executors import LocalExecutor
LocalExecutor().run(SweepConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2])
"""


@pytest.fixture(scope="session")
def local_run(tmp_path_factory, compile_cache) -> Path:
    """The run directory of the two-group sweep under the local executor."""
    out = tmp_path_factory.mktemp("local")
    completed = subprocess.run(
        [sys.executable, "-c", LOCAL_SWEEP_ENTRY, json.dumps(TWO_GROUP_SWEEP), str(out), str(compile_cache)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def ray_cluster():
    """A local two-CPU Ray cluster (its workers run the group tasks)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
