"""Suite-wide set-up: one persistent XLA compilation cache for the subprocesses of a test session,
one rlscale calibration cache (run/estimate.py) for the session and its subprocesses, and XLA's
backend optimizations turned off for the session and its subprocesses (TEST_XLA_FLAGS).

The suite's time is mostly XLA compiles of small programs; the speed of compiled code is measured
in benchmarks/, never in tests, so the tests compile with LLVM's optimization passes off (about a
third less time per compile) and with XLA:CPU's older loop emitters in place of its MLIR fusion
emitters (`--xla_cpu_use_fusion_emitters=false`: a 2×32-wide pendulum SAC group's train_chunk
compiles in 3.5-3.9 s instead of 6.0-6.4 s, three runs each, jaxlib 0.9.2; with the optimization
passes on, the same flag makes that compile 30 s, so the product keeps XLA's defaults). Every
comparison a test makes (group vs alone, resumed vs uninterrupted, engine vs NumPy reference) is
between programs compiled with the same flags.

Exported to every subprocess the tests start (`rlscale sweep` runs, Ray workers), so a program that
one of them compiled is loaded, not recompiled, by every later one. The test process itself does not
use it (its own in-memory caches serve it, and jaxlib 0.9.2 has been seen to crash serializing a
large CPU executable into the cache). The cache starts empty in each session (CI runs a fresh clone).
Under pytest-xdist (`make test`) the controller process makes the cache before it starts the
workers, which inherit it and share it; each worker keeps its own calibration cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import jax
import pytest

TEST_XLA_FLAGS = (
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    " --xla_cpu_use_fusion_emitters=false"
)
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()
CACHE_VARIABLE = "JAX_COMPILATION_CACHE_DIR"
SESSION_CACHE = Path(os.environ.get(CACHE_VARIABLE) or tempfile.mkdtemp(prefix="rlscale-test-xla-cache-"))
_OWNS_CACHE = CACHE_VARIABLE not in os.environ
os.environ[CACHE_VARIABLE] = str(SESSION_CACHE)
jax.config.update("jax_enable_compilation_cache", False)
CALIBRATION_VARIABLE = "RLSCALE_CACHE_DIR"
CALIBRATION_CACHE = Path(tempfile.mkdtemp(prefix="rlscale-test-calibration-"))
os.environ[CALIBRATION_VARIABLE] = str(CALIBRATION_CACHE)
# Sweeps run by the tests skip the calibration (seconds of compiles per new shape, for every tiny
# sweep); the tests of the estimate and of the auto axis choice turn it back on.
os.environ["RLSCALE_CALIBRATE"] = "0"


@pytest.fixture(scope="session")
def compile_cache() -> Path:
    """The session's persistent XLA compilation cache directory."""
    return SESSION_CACHE


def pytest_sessionfinish(session, exitstatus):
    if _OWNS_CACHE:
        shutil.rmtree(SESSION_CACHE, ignore_errors=True)
    shutil.rmtree(CALIBRATION_CACHE, ignore_errors=True)
