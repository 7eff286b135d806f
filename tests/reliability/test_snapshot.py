"""`rlscale snapshot`: a copy of a run directory without checkpoint arrays resumes elsewhere and ends
with the uninterrupted run's rows; a study directory is copied with each of its sweeps that way."""

from __future__ import annotations

import errno
import json
import shutil
import signal

import pytest

from reliability_helpers import TINY_SWEEP, eval_rows, run_sweep_process, start_stopped_sweep

import rlscale.run.snapshot as snapshot_module
from rlscale.cli import main
from rlscale.run.checkpoint import CHECKPOINT_DIR, MANIFEST_FILE

# TINY_SWEEP checkpoints at every evaluation: 4 in group 0, then group 1's; killed right after its
# 6th manifest replacement, group 0 is done and group 1 has trained 500 of 1,000 env steps.
KILLED_IN_GROUP_1 = "manifest_replaced:6"
ROWS_PER_GROUP = 8


def _manifest(run_dir) -> dict:
    return json.loads((run_dir / CHECKPOINT_DIR / MANIFEST_FILE).read_text())


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory, compile_cache):
    """TINY_SWEEP killed in group 1 (group 0 done; group 1 checkpointed at 500 of 1,000 env steps)."""
    out = tmp_path_factory.mktemp("interrupted") / "run"
    result = run_sweep_process(TINY_SWEEP, out, compile_cache, kill_at=KILLED_IN_GROUP_1)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    return out


def test_snapshot_of_an_interrupted_sweep_resumes_to_the_uninterrupted_rows(reference_run, interrupted_run, tmp_path, compile_cache, capsys):
    copy = tmp_path / "copy"
    source_rows = (interrupted_run / "evals.jsonl").read_bytes()

    assert main(["snapshot", str(interrupted_run), str(copy)]) == 0
    printed = capsys.readouterr().out
    assert f".: 1 finished group(s), {ROWS_PER_GROUP} rows; unfinished group(s) [1] left out with their 4 rows" in printed
    assert (interrupted_run / "evals.jsonl").read_bytes() == source_rows  # the source is left as it was
    assert [path.name for path in (copy / CHECKPOINT_DIR).iterdir()] == [MANIFEST_FILE]  # no arrays
    manifest = _manifest(copy)
    assert manifest["format"] == 4 and manifest["rows_written"] == ROWS_PER_GROUP
    assert list(manifest["groups"]) == ["0"]
    assert manifest["groups"]["0"]["checkpoint"] is None and manifest["groups"]["0"]["counters"]["grad_steps"]
    assert not (copy / "writer.lock").exists() and not (copy / "evals.parquet").exists()

    resumed = run_sweep_process(TINY_SWEEP, copy, compile_cache)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert eval_rows(copy) == eval_rows(reference_run)


def test_snapshot_of_a_study_copies_its_files_each_sweep_and_superseded_rows_whole(reference_run, interrupted_run, tmp_path, capsys):
    study, copy = tmp_path / "study", tmp_path / "copy"
    shutil.copytree(reference_run, study / "grid")
    # A run directory written before snapshots existed (format 3: every entry names its checkpoint).
    manifest = _manifest(study / "grid") | {"format": 3}
    (study / "grid" / CHECKPOINT_DIR / MANIFEST_FILE).write_text(json.dumps(manifest))
    shutil.copytree(interrupted_run, study / "superseded_1" / "stage2")
    (study / "study_state.json").write_text('{"study": "x", "stages": {"grid_sweep": {"done": true}}}\n')
    (study / "grid_fit").mkdir()
    (study / "grid_fit" / "fit.json").write_text("{}\n")
    (study / "writer.lock").write_text("")

    assert main(["snapshot", str(study), str(copy)]) == 0
    printed = capsys.readouterr().out
    assert "grid: 2 finished group(s), 16 rows" in printed
    assert "superseded_1/stage2: superseded, its 12 rows kept as a record" in printed
    assert (copy / "study_state.json").read_text() == (study / "study_state.json").read_text()
    assert (copy / "grid_fit" / "fit.json").exists() and not (copy / "writer.lock").exists()
    assert (copy / "grid" / "evals.jsonl").read_bytes() == (study / "grid" / "evals.jsonl").read_bytes()
    assert (copy / "grid" / "evals.parquet").exists()  # a finished sweep keeps its Parquet copy
    grid_manifest = _manifest(copy / "grid")
    assert grid_manifest["format"] == 4
    assert [entry["checkpoint"] for entry in grid_manifest["groups"].values()] == [None, None]
    assert not list((copy / "grid" / CHECKPOINT_DIR).glob("group-*"))
    superseded = copy / "superseded_1" / "stage2"
    rows = (superseded / "evals.jsonl").read_text().splitlines()
    assert len(rows) == 12 and rows == (interrupted_run / "evals.jsonl").read_text().splitlines()[:12]
    assert not (superseded / CHECKPOINT_DIR).exists()


def test_a_failed_copy_leaves_no_destination(reference_run, tmp_path, monkeypatch, capsys):
    copy = tmp_path / "copy"

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshot_module.shutil, "copy2", disk_full)
    assert main(["snapshot", str(reference_run), str(copy)]) == 3
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_snapshot_refusals_name_the_problem_and_write_nothing(reference_run, tmp_path, compile_cache, capsys):
    assert main(["snapshot", str(tmp_path / "missing"), str(tmp_path / "a")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["snapshot", str(tmp_path / "plain"), str(tmp_path / "a")]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    taken = tmp_path / "taken"
    (taken / "file").mkdir(parents=True)
    assert main(["snapshot", str(reference_run), str(taken)]) == 2
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert main(["snapshot", str(reference_run), str(reference_run / "inside")]) == 2
    assert "inside" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (reference_run / "inside").exists()

    live = tmp_path / "live"
    process = start_stopped_sweep(TINY_SWEEP, live, compile_cache, stop_at="eval_rows_written:1")
    try:
        assert main(["snapshot", str(live), str(tmp_path / "b")]) == 2
        refusal = capsys.readouterr().err
        assert "being written by another process" in refusal and "before copying" in refusal
        assert "use another --out" not in refusal
        assert not (tmp_path / "b").exists()
    finally:
        process.kill()
        process.wait()
