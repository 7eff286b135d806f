"""`rlscale recommend` and `rlscale plot` driven as subprocesses on a small synthetic sweep."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rlscale.laws import FitOptions
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep
from rlscale.run.fit_files import fit_run_directory


def _rlscale(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run_directory(tmp_path_factory):
    """A run directory with one env's evals.jsonl (4 σ × 3 B × 3 η × 3 seeds) and its fit in fit/."""
    runs = tmp_path_factory.mktemp("runs")
    laws = SyntheticLaws(
        batch_beta={"env-a": 512.0**2},
        learning_rate_beta={"env-a": 1e-3 ** (1 / 0.3)},
        tau_d_min={"env-a": 20_000.0},
        tau_beta={"env-a": 40.0},
        tau_scale={"env-a": 10_000.0},
    )
    table = synthetic_sweep(
        laws, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(128, 256, 512), learning_rates=(2e-4, 5e-4, 1e-3), n_seeds=3, n_evals=60, seed=3
    )
    (runs / "evals.jsonl").write_text(table.to_json(orient="records", lines=True) + "\n")
    fit_run_directory(runs, runs / "fit", FitOptions(n_bootstrap=10))
    return runs


def test_recommend_table_and_json(run_directory):
    fit = json.loads((run_directory / "fit" / "fit.json").read_text())
    budgets = sorted(point["budget"] for point in fit["budget_law"]["points"])
    budget = f"{(budgets[0] * budgets[-1]) ** 0.5:.6g}"
    table = _rlscale("recommend", str(run_directory / "fit" / "fit.json"), "--budget", budget)
    assert table.returncode == 0, table.stderr
    for label in ("UTD σ*", "batch size B*", "learning rate η*", "data D", "compute C", "recommendation for env-a"):
        assert label in table.stdout
    as_json = _rlscale("recommend", str(run_directory / "fit"), "--budget", budget, "--env", "env-a", "--json")
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["env"] == "env-a" and result["batch_size"] % 16 == 0
    at_utd = _rlscale("recommend", str(run_directory / "fit"), "--utd", "16", "--json")
    assert at_utd.returncode == 0, at_utd.stderr
    predicted = json.loads(at_utd.stdout)
    assert predicted["utd"] == 16.0 and predicted["extrapolated_quantities"] and predicted["data"] > 0
    both = _rlscale("recommend", str(run_directory / "fit"), "--utd", "2", "--budget", budget)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert result["utd_interval"][0] <= result["utd"] <= result["utd_interval"][1]
    assert result["data"] > 0 and result["compute"] > 0


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["missing.json", "--budget", "1e16"], "no such file"),
        (["FIT", "--budget", "0"], "--budget must be a positive"),
        (["FIT", "--budget", "1e16", "--env", "walker-run"], "env 'walker-run' is not in the fit"),
    ],
)
def test_recommend_bad_input_exits_2_with_one_message(run_directory, tmp_path, arguments, message):
    arguments = [str(run_directory / "fit" / "fit.json") if item == "FIT" else item for item in arguments]
    if arguments[0] == "missing.json":
        arguments[0] = str(tmp_path / "missing.json")
    completed = _rlscale("recommend", *arguments)
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert completed.stderr.startswith("rlscale recommend: error:") and message in completed.stderr


def test_plot_writes_learning_curves_and_refits(run_directory, tmp_path):
    out = tmp_path / "figures"
    completed = _rlscale("plot", str(run_directory), "--out", str(out), "--band", "percentile")
    assert completed.returncode == 0, completed.stderr
    for name in ("learning_curves", "best_hparams", "data_efficiency", "pareto_frontier", "budget"):
        for extension in ("png", "svg"):
            assert (out / f"{name}.{extension}").stat().st_size > 0, name
    original = json.loads((run_directory / "fit" / "fit.json").read_text())
    redrawn = json.loads((out / "fit.json").read_text())
    assert redrawn["thresholds"] == original["thresholds"]
    assert redrawn["budget_law"]["exponent"] == pytest.approx(original["budget_law"]["exponent"])


def test_plot_bad_directory_exits_2(tmp_path):
    completed = _rlscale("plot", str(tmp_path / "nowhere"))
    assert completed.returncode == 2
    assert completed.stderr.startswith("rlscale plot: error:")
