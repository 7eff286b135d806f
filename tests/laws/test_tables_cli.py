"""Reading tables (run directories, live jsonl, CSV, Parquet) and the `rlscale fit` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from rlscale.laws import FitInputError
from rlscale.cli import main
from rlscale.run.tables import load_runs


def _write_jsonl(table: pd.DataFrame, path, torn_tail: bool = False) -> None:
    text = table.to_json(orient="records", lines=True)
    if not text.endswith("\n"):
        text += "\n"
    if torn_tail:
        text += '{"suite": "dmc", "env": "env-a", "ut'
    path.write_text(text)


def _run_cli(*args: str) -> int:
    return main(["fit", *args])


def test_run_directory_with_subdirectories_and_torn_line(tmp_path, small_sweep):
    first = small_sweep[small_sweep["env"] == "env-a"]
    second = small_sweep[small_sweep["env"] == "env-b"]
    _write_jsonl(first, tmp_path / "evals.jsonl", torn_tail=True)
    (tmp_path / "shard1").mkdir()
    _write_jsonl(second, tmp_path / "shard1" / "evals.jsonl")
    second.iloc[:10].to_parquet(tmp_path / "shard1" / "evals.parquet")
    table = load_runs(tmp_path)
    assert len(table) == len(small_sweep)
    assert set(table["env"]) == {"env-a", "env-b"}


def test_csv_gzip_parquet_and_jsonl_files(tmp_path, small_sweep):
    small_sweep.to_csv(tmp_path / "t.csv.gz", index=False)
    small_sweep.to_parquet(tmp_path / "t.parquet")
    _write_jsonl(small_sweep, tmp_path / "t.jsonl")
    for name in ("t.csv.gz", "t.parquet", "t.jsonl"):
        table = load_runs(tmp_path / name)
        assert len(table) == len(small_sweep)
        assert table["return"].sum() == pytest.approx(small_sweep["return"].sum())


def test_parquet_run_directory(tmp_path, small_sweep):
    small_sweep.to_parquet(tmp_path / "evals.parquet")
    assert len(load_runs(tmp_path)) == len(small_sweep)


def test_unreadable_inputs_are_named(tmp_path):
    with pytest.raises(FitInputError, match="no such file"):
        load_runs(tmp_path / "missing.csv")
    with pytest.raises(FitInputError, match="holds no evals.jsonl"):
        load_runs(tmp_path)
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(FitInputError, match="unsupported table file"):
        load_runs(tmp_path / "t.txt")
    (tmp_path / "evals.jsonl").write_text('{"a": 1')
    with pytest.raises(FitInputError, match="no rows yet"):
        load_runs(tmp_path)


def test_fit_command_writes_json_and_figures(tmp_path, small_sweep, capsys):
    small_sweep.to_csv(tmp_path / "sweep.csv", index=False)
    out = tmp_path / "out"
    assert _run_cli(str(tmp_path / "sweep.csv"), "--out", str(out), "--bootstrap", "10", "--model-size", "2e5", "--delta", "5e9") == 0
    result = json.loads((out / "fit.json").read_text())
    assert result["budget_law"]["model_size"] == 2e5 and result["budget_law"]["delta"] == 5e9
    assert result["n_bootstrap"] == 10
    for name in ("best_hparams", "data_efficiency", "pareto_frontier", "budget"):
        assert (out / f"{name}.png").stat().st_size > 1000
        assert (out / f"{name}.svg").stat().st_size > 1000
    assert "B*(σ)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda table: table.drop(columns=["seed"]), "missing required column(s): seed"),
        (lambda table: table.assign(**{"return": float("nan")}), "column 'return' has"),
        (lambda table: table[table["seed"] == 0], "only one seed"),
        (lambda table: table[table["utd"] == 1.0], "single UTD ratio"),
        (lambda table: table.assign(**{"return": 1.0}), "no threshold is reached"),
    ],
)
def test_bad_input_exits_2_with_one_message(tmp_path, small_sweep, capsys, mutate, message):
    mutate(small_sweep).to_csv(tmp_path / "bad.csv", index=False)
    assert _run_cli(str(tmp_path / "bad.csv"), "--out", str(tmp_path / "out"), "--bootstrap", "5") == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out" / "fit.json").exists()


def test_bad_normalize_option(tmp_path, small_sweep, capsys):
    small_sweep.to_csv(tmp_path / "sweep.csv", index=False)
    assert _run_cli(str(tmp_path / "sweep.csv"), "--out", str(tmp_path / "o"), "--normalize", "env-a=1") == 2
    assert "ENV=LOW,HIGH" in capsys.readouterr().err


def test_watch_refits_when_the_table_grows(tmp_path, small_sweep):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    early = small_sweep[small_sweep["env_step"] <= small_sweep["env_step"].quantile(0.3)]
    _write_jsonl(early, run_dir / "evals.jsonl")
    script = (
        "import sys; from rlscale.cli import main; "
        f"sys.exit(main(['fit', {str(run_dir)!r}, '--out', {str(tmp_path / 'out')!r}, '--bootstrap', '5', "
        "'--watch', '--interval', '0.2', '--max-refits', '2', '--timeout', '60']))"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fit_json = tmp_path / "out" / "fit.json"
    import time

    deadline = time.monotonic() + 40
    while not fit_json.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    first = fit_json.read_text() if fit_json.exists() else ""
    _write_jsonl(small_sweep, run_dir / "evals.jsonl")
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert stdout.count("[fit ") == 2
    assert json.loads(fit_json.read_text())["n_rows"] == len(small_sweep)
    assert first and json.loads(first)["n_rows"] < len(small_sweep)


def test_laws_and_fit_command_never_import_jax():
    code = "import sys, rlscale.laws, rlscale.laws.plots, rlscale.commands.fit, rlscale.run.fit_files, rlscale.run.tables; print('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_fit_speed_benchmark_runs():
    from benchmarks.fit_speed import run

    report = run("tiny")
    assert report["fit_seconds"] > 0 and report["configs"] == 2 * 4 * 3 * 3


def test_fit_of_one_env_of_a_multi_env_table(tmp_path, small_sweep, capsys):
    """`--env` fits one env's rows of a table holding several: the same fit as that env's rows alone."""
    small_sweep.to_csv(tmp_path / "both.csv", index=False)
    small_sweep[small_sweep["env"] == "env-b"].to_csv(tmp_path / "one.csv", index=False)
    common = ["--bootstrap", "5", "--thresholds", "500", "700"]
    assert _run_cli(str(tmp_path / "both.csv"), "--out", str(tmp_path / "selected"), "--env", "env-b", *common) == 0
    assert _run_cli(str(tmp_path / "one.csv"), "--out", str(tmp_path / "alone"), *common) == 0
    selected = json.loads((tmp_path / "selected" / "fit.json").read_text())
    alone = json.loads((tmp_path / "alone" / "fit.json").read_text())
    assert selected["envs"] == ["env-b"]
    assert selected["batch_size_law"] == alone["batch_size_law"]
    assert selected["data_law"] == alone["data_law"]
    capsys.readouterr()
    assert _run_cli(str(tmp_path / "both.csv"), "--out", str(tmp_path / "none"), "--env", "env-c", *common) == 2
    error = capsys.readouterr().err
    assert "envs ['env-c'] have no rows" in error and "'env-a', 'env-b'" in error
    assert not (tmp_path / "none").exists()


def test_several_tables_are_fitted_as_one(tmp_path, small_sweep, capsys):
    """`rlscale fit A B`: a grid split over two run directories (a study's grid and an extension
    round, here split by σ) gives the fit of the whole table; a missing one is named."""
    low = small_sweep["utd"] <= small_sweep["utd"].median()
    (tmp_path / "grid").mkdir()
    (tmp_path / "grid_round_1").mkdir()
    _write_jsonl(small_sweep[low], tmp_path / "grid" / "evals.jsonl")
    small_sweep[~low].to_parquet(tmp_path / "grid_round_1" / "evals.parquet")
    small_sweep.to_csv(tmp_path / "whole.csv", index=False)
    common = ["--bootstrap", "5", "--thresholds", "500", "700"]
    assert _run_cli(str(tmp_path / "grid"), str(tmp_path / "grid_round_1"), "--out", str(tmp_path / "both"), *common) == 0
    assert _run_cli(str(tmp_path / "whole.csv"), "--out", str(tmp_path / "whole"), *common) == 0
    both = json.loads((tmp_path / "both" / "fit.json").read_text())
    whole = json.loads((tmp_path / "whole" / "fit.json").read_text())
    assert both["n_rows"] == whole["n_rows"] == len(small_sweep) and both["utds"] == whole["utds"]
    for key in ("best_hparams", "batch_size_law", "learning_rate_law", "data_law"):
        assert both[key] == whole[key], key
    capsys.readouterr()
    assert _run_cli(str(tmp_path / "grid"), str(tmp_path / "grid_round_2"), "--out", str(tmp_path / "missing"), *common) == 2
    assert "grid_round_2" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
