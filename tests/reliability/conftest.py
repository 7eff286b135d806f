"""Fixtures of the reliability suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import TINY_SWEEP, run_sweep_process


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, compile_cache) -> Path:
    """TINY_SWEEP run once, uninterrupted: what every killed, stopped or failed run must end as."""
    out = tmp_path_factory.mktemp("reference") / "run"
    result = run_sweep_process(TINY_SWEEP, out, compile_cache)
    assert result.returncode == 0, result.stderr[-3000:]
    return out
