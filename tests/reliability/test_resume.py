"""Kill -9 at several points (including inside a checkpoint write), resume, and end bit-identical to
an uninterrupted run: the same parameters, optimizer states, replay and validation buffers and eval
rows (their TD errors included)."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
from pathlib import Path

import pytest

from reliability_helpers import (
    TINY_SWEEP,
    assert_trees_identical,
    eval_rows,
    final_states,
    run_sweep_process,
)
from rlscale_testing import toml_text

from rlscale.cli import main

# Each run of the sequence continues the previous one in the same directory and is SIGKILLed at
# the n-th time it reaches the named point (see rlscale/run/checkpoint.py:fault_point). Checkpoints
# are written at every evaluation (env steps 250..1000 of group 0, then of group 1).
KILL_SEQUENCE = (
    "checkpoint_state_written:2",  # group 0, env step 500: orbax state written, no counters/manifest
    "eval_rows_written:2",  # group 0, env step 750: rows fsync'ed, no checkpoint (then a torn row)
    "checkpoint_files_written:3",  # group 1, env step 250: files complete, manifest not replaced
    "manifest_replaced:2",  # group 1, env step 500: manifest replaced, old checkpoint not deleted
)
TORN_ROW = '{"config_id": 0, "group": 0, "suite": "jax", "env": "pend'


@pytest.mark.slow
def test_killed_and_resumed_sweep_matches_uninterrupted_run(reference_run, tmp_path, compile_cache):
    out = tmp_path / "run"
    for kill_at in KILL_SEQUENCE:
        result = run_sweep_process(TINY_SWEEP, out, compile_cache, kill_at=kill_at)
        assert result.returncode == -signal.SIGKILL, (kill_at, result.stderr[-3000:])
        if kill_at.startswith("eval_rows_written"):
            with open(out / "evals.jsonl", "a") as handle:
                handle.write(TORN_ROW)
    result = run_sweep_process(TINY_SWEEP, out, compile_cache)
    assert result.returncode == 0, result.stderr[-3000:]

    assert eval_rows(out) == eval_rows(reference_run)
    assert all(row["td_error_validation"] is not None for row in eval_rows(out))
    for resumed, uninterrupted in zip(final_states(out, TINY_SWEEP), final_states(reference_run, TINY_SWEEP)):
        assert_trees_identical(resumed, uninterrupted)
        # The checkpoints hold each config's validation envs and buffer (never trained on).
        assert resumed.validation is not None and (resumed.validation.replay.size > 0).all()
    # Only the named checkpoints remain: debris of the interrupted writes was removed.
    assert sorted(p.name for p in (out / "checkpoints").glob("group-*/*")) == ["env-step-000000001000"] * 2


def test_finished_sweep_run_again_changes_nothing(reference_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    # The Parquet copy is rewritten and the writer lock names the latest writer; nothing else changes.
    rewritten = ("evals.parquet", "writer.lock")
    before = _tree_digest(out, exclude=rewritten)
    assert _sweep_command(TINY_SWEEP, out, "--resume") == 0
    assert _tree_digest(out, exclude=rewritten) == before
    # The checkpoint interval may change between a run and its resumption.
    assert _sweep_command({**TINY_SWEEP, "checkpoint_every_seconds": 60.0}, out) == 0
    assert _tree_digest(out, exclude=rewritten) == before


def test_corrupted_checkpoint_is_reported_before_anything_changes(reference_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    files = [path for path in (out / "checkpoints" / "group-001").rglob("*") if path.is_file()]
    victim = max(files, key=lambda path: path.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    before = _tree_digest(out)
    assert _sweep_command(TINY_SWEEP, out) == 2
    stderr = capsys.readouterr().err
    assert "group-001" in stderr and "group 1 is corrupted: sha256" in stderr
    assert _tree_digest(out) == before


def test_directory_holding_a_different_sweep_is_refused(reference_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    before = _tree_digest(out)
    assert _sweep_command({**TINY_SWEEP, "learning_rate": [1e-3, 5e-4]}, out) == 2
    stderr = capsys.readouterr().err
    assert "holds a different sweep" in stderr
    assert "learning_rate: stored [0.001, 0.0003], given [0.001, 0.0005]" in stderr
    assert _tree_digest(out) == before


def test_resume_without_checkpoint_is_refused(tmp_path, capsys):
    assert _sweep_command(TINY_SWEEP, tmp_path / "empty", "--resume") == 2
    assert "--resume" in capsys.readouterr().err
    assert not (tmp_path / "empty").exists()


def test_rows_missing_from_evals_file_are_reported(reference_run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    lines = (out / "evals.jsonl").read_text().splitlines(keepends=True)
    (out / "evals.jsonl").write_text("".join(lines[:5]))
    assert _sweep_command(TINY_SWEEP, out) == 2
    assert "holds 5 complete rows but 16 were recorded as written" in capsys.readouterr().err


def _sweep_command(values: dict, out: Path, *flags: str) -> int:
    """`rlscale sweep` in this process (no compile happens for finished or refused sweeps)."""
    config_path = out.parent / f"{out.name}.toml"
    config_path.write_text(toml_text(values))
    return main(["sweep", str(config_path), "--out", str(out), "--plain", "--no-fit", *flags])


def _tree_digest(root: Path, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in exclude
    }


def test_manifest_records_rows_and_checksums(reference_run):
    manifest = json.loads((reference_run / "checkpoints" / "state.json").read_text())
    assert manifest["rows_written"] == len(eval_rows(reference_run)) == 16
    assert all(entry["done"] and len(entry["sha256"]) == 64 for entry in manifest["groups"].values())
