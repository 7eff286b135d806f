"""Fixtures of the reliability suite."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def compile_cache(tmp_path_factory) -> Path:
    """A persistent XLA compilation cache shared by the suite's sweep subprocesses."""
    return tmp_path_factory.mktemp("xla-cache")
