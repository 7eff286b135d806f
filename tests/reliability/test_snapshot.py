"""`rlscale snapshot`: a copy of a run directory without checkpoint arrays resumes elsewhere and ends
with the uninterrupted run's rows; a study directory is copied with each of its sweeps that way."""

from __future__ import annotations

import json
import shutil
import signal

from reliability_helpers import TINY_SWEEP, eval_rows, run_sweep_process, start_stopped_sweep

from rlscale.cli import main
from rlscale.run.checkpoint import CHECKPOINT_DIR, MANIFEST_FILE

# TINY_SWEEP checkpoints at every evaluation: 4 in group 0, then group 1's; killed right after its
# 6th manifest replacement, group 0 is done and group 1 has trained 500 of 1,000 env steps.
KILLED_IN_GROUP_1 = "manifest_replaced:6"
ROWS_PER_GROUP = 8


def _manifest(run_dir) -> dict:
    return json.loads((run_dir / CHECKPOINT_DIR / MANIFEST_FILE).read_text())


def test_snapshot_of_an_interrupted_sweep_resumes_to_the_uninterrupted_rows(reference_run, tmp_path, compile_cache, capsys):
    source, copy = tmp_path / "run", tmp_path / "copy"
    result = run_sweep_process(TINY_SWEEP, source, compile_cache, kill_at=KILLED_IN_GROUP_1)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    source_rows = (source / "evals.jsonl").read_bytes()

    assert main(["snapshot", str(source), str(copy)]) == 0
    printed = capsys.readouterr().out
    assert f".: 1 finished group(s), {ROWS_PER_GROUP} rows; unfinished group(s) [1] left out with their 4 rows" in printed
    assert (source / "evals.jsonl").read_bytes() == source_rows  # the source is left as it was
    assert [path.name for path in (copy / CHECKPOINT_DIR).iterdir()] == [MANIFEST_FILE]  # no arrays
    manifest = _manifest(copy)
    assert manifest["format"] == 4 and manifest["rows_written"] == ROWS_PER_GROUP
    assert list(manifest["groups"]) == ["0"]
    assert manifest["groups"]["0"]["checkpoint"] is None and manifest["groups"]["0"]["counters"]["grad_steps"]
    assert not (copy / "writer.lock").exists() and not (copy / "evals.parquet").exists()

    resumed = run_sweep_process(TINY_SWEEP, copy, compile_cache)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert eval_rows(copy) == eval_rows(reference_run)


def test_snapshot_of_a_study_copies_its_files_and_each_sweep(reference_run, tmp_path, capsys):
    study, copy = tmp_path / "study", tmp_path / "copy"
    shutil.copytree(reference_run, study / "grid")
    (study / "study_state.json").write_text('{"study": "x", "stages": {"grid_sweep": {"done": true}}}\n')
    (study / "grid_fit").mkdir()
    (study / "grid_fit" / "fit.json").write_text("{}\n")
    (study / "writer.lock").write_text("")

    assert main(["snapshot", str(study), str(copy)]) == 0
    assert "grid: 2 finished group(s), 16 rows" in capsys.readouterr().out
    assert (copy / "study_state.json").read_text() == (study / "study_state.json").read_text()
    assert (copy / "grid_fit" / "fit.json").exists() and not (copy / "writer.lock").exists()
    assert (copy / "grid" / "evals.jsonl").read_bytes() == (study / "grid" / "evals.jsonl").read_bytes()
    assert (copy / "grid" / "evals.parquet").exists()  # a finished sweep keeps its Parquet copy
    assert [entry["checkpoint"] for entry in _manifest(copy / "grid")["groups"].values()] == [None, None]
    assert not list((copy / "grid" / CHECKPOINT_DIR).glob("group-*"))


def test_snapshot_refusals_name_the_problem_and_write_nothing(reference_run, tmp_path, compile_cache, capsys):
    assert main(["snapshot", str(tmp_path / "missing"), str(tmp_path / "a")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert main(["snapshot", str(tmp_path / "plain"), str(tmp_path / "a")]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    taken = tmp_path / "taken"
    (taken / "file").mkdir(parents=True)
    assert main(["snapshot", str(reference_run), str(taken)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["snapshot", str(reference_run), str(reference_run / "inside")]) == 2
    assert "inside" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (reference_run / "inside").exists()

    live = tmp_path / "live"
    process = start_stopped_sweep(TINY_SWEEP, live, compile_cache, stop_at="eval_rows_written:1")
    try:
        assert main(["snapshot", str(live), str(tmp_path / "b")]) == 2
        assert "being written by another process" in capsys.readouterr().err
        assert not (tmp_path / "b").exists()
    finally:
        process.kill()
        process.wait()
