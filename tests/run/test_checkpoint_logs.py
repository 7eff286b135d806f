"""A failed checkpoint write is reported once, by the runner: orbax's writer tasks of the same save
that failed with nobody awaiting them are not reported again by asyncio when they are collected."""

from __future__ import annotations

import asyncio
import gc
import logging

import numpy as np
import orbax.checkpoint as ocp
import pytest

from rlscale.run.checkpoint import ASYNCIO_LOGGER, UNRETRIEVED_TASK_MESSAGE, save_state


def _orbax_error(tmp_path) -> Exception:
    """A real exception raised inside orbax (a restore of a checkpoint that is not there)."""
    try:
        ocp.PyTreeCheckpointer().restore(tmp_path / "absent")
    except Exception as error:  # whatever orbax raises for it
        return error
    pytest.fail("orbax restored a checkpoint that does not exist")


def _own_error() -> Exception:
    try:
        raise ValueError("not orbax's")
    except ValueError as error:
        return error


def _collect_unretrieved_task(error: Exception) -> None:
    """Run a task that fails with `error`, never await its result, and let it be collected."""

    async def fail():
        raise error

    loop = asyncio.new_event_loop()
    task = loop.create_task(fail())
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    del task
    gc.collect()


def _asyncio_reports(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ASYNCIO_LOGGER]


def test_unretrieved_orbax_writer_task_is_not_reported_after_a_save(tmp_path, caplog):
    save_state(tmp_path / "checkpoint", {"weights": np.ones(3, np.float32)})
    with caplog.at_level(logging.ERROR, logger=ASYNCIO_LOGGER):
        _collect_unretrieved_task(_orbax_error(tmp_path))
        assert _asyncio_reports(caplog) == []
        _collect_unretrieved_task(_own_error())
        reports = _asyncio_reports(caplog)
    assert len(reports) == 1 and reports[0].startswith(UNRETRIEVED_TASK_MESSAGE)
