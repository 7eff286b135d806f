"""Suite-wide set-up: one persistent XLA compilation cache for the whole test session.

Set before any test module imports JAX, and inherited by every subprocess the tests start (`rlscale
sweep` runs, Ray workers), so a program compiled once in the session is loaded, not recompiled, by
every later process that builds it. The cache starts empty in each session (CI runs a fresh clone).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CACHE_VARIABLE = "JAX_COMPILATION_CACHE_DIR"
SESSION_CACHE = Path(os.environ.get(CACHE_VARIABLE) or tempfile.mkdtemp(prefix="rlscale-test-xla-cache-"))
_OWNS_CACHE = CACHE_VARIABLE not in os.environ
os.environ[CACHE_VARIABLE] = str(SESSION_CACHE)


@pytest.fixture(scope="session")
def compile_cache() -> Path:
    """The session's persistent XLA compilation cache directory."""
    return SESSION_CACHE


def pytest_sessionfinish(session, exitstatus):
    if _OWNS_CACHE:
        shutil.rmtree(SESSION_CACHE, ignore_errors=True)
