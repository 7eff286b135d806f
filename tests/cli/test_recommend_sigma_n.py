"""`rlscale fit`, `rlscale recommend` and `rlscale validate` on a synthetic sweep of several model sizes:
the joint (σ, N) laws, and N* with the SAC critic width that gives it on pendulum.

The commands run in this process (`rlscale.cli.main`, output and exit status as a subprocess would
give them); `validate` also once as a subprocess (`fit` and `recommend` run as subprocesses in
tests/laws/test_fit_paper_defaults.py and tests/cli/test_recommend_plot.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess
import sys

import pytest

from rlscale_testing import PENDULUM_WIDTHS, pendulum_sigma_n_laws, pendulum_sigma_n_table

from rlscale.cli import main
from rlscale.laws.recommend_sigma_n import recommend_sigma_n
from rlscale.laws.results import SigmaNFit
from rlscale.run.critic_width import critic_parameter_count, with_critic_width
from rlscale.run.fit_files import load_fit

DELTA = 1e9
"""FLOPs per env step that puts the true optima (σ* 3–8, N* 5k–9k) inside the trained range."""


def _rlscale(*args: str) -> subprocess.CompletedProcess:
    """`rlscale ARGS` in this process: its exit status, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main(list(args))
        except SystemExit as exit:  # argparse's usage errors
            status = exit.code
    return subprocess.CompletedProcess(args, status, stdout.getvalue(), stderr.getvalue())


def _rlscale_process(*args: str) -> subprocess.CompletedProcess:
    """`rlscale ARGS` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def fit_directory(tmp_path_factory):
    """evals.jsonl of SAC on pendulum at widths 16..128 (model_size: the critic's parameter count),
    one config per (σ, N) at the true B*, η*, fitted by `rlscale fit` into fit/."""
    runs = tmp_path_factory.mktemp("sigma_n_runs")
    table = pendulum_sigma_n_table()
    sizes = tuple(sorted(table["model_size"].unique()))
    (runs / "evals.jsonl").write_text(table.to_json(orient="records", lines=True) + "\n")
    completed = _rlscale(
        "fit", str(runs), "--out", str(runs / "fit"), "--bootstrap", "10", "--delta", str(DELTA), "--thresholds", "300", "400", "500", "600", "700"
    )
    assert completed.returncode == 0, completed.stderr
    assert "compute-optimal paths" in completed.stdout and "(σ, N) laws" in completed.stdout
    return runs / "fit", sizes


def test_fit_writes_the_joint_laws_and_their_figures(fit_directory):
    directory, sizes = fit_directory
    fit = json.loads((directory / "fit.json").read_text())
    assert fit["model_sizes_sigma_n"] == list(sizes) and fit["algo"] == "sac"
    assert {law["scope"] for law in fit["data_law_sigma_n"]} == {"pendulum", "all"}
    assert all(allocation["delta"] == DELTA for allocation in fit["allocation_sigma_n"])
    for name in ("sigma_n_data_law", "sigma_n_batch_size", "sigma_n_allocation"):
        assert (directory / f"{name}.png").stat().st_size > 0, name


def test_recommend_gives_a_model_bigger_than_trained_and_its_critic_width(fit_directory):
    directory, sizes = fit_directory
    fit = json.loads((directory / "fit.json").read_text())
    [allocation] = [item for item in fit["allocation_sigma_n"] if item["scope"] == "pendulum"]
    path = allocation["model_size_path"]
    target = 3 * max(sizes)
    budget = f"{(target / path['coefficient']) ** (1 / path['exponent']):.8g}"
    completed = _rlscale("recommend", str(directory), "--budget", budget, "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["model_size"] == pytest.approx(target, rel=1e-6)
    assert result["model_size_interval"][0] <= result["model_size"] <= result["model_size_interval"][1]
    assert any(item.startswith("N* (above the largest trained model size") for item in result["extrapolated_quantities"])
    assert result["hidden_depth"] == 2 and result["hidden_width"] > max(PENDULUM_WIDTHS)
    assert result["width_model_size"] == critic_parameter_count("sac", "pendulum", result["hidden_width"], 2)
    assert result["width_model_size"] == pytest.approx(target, rel=0.02)
    assert result["batch_size"] % 16 == 0 and result["learning_rate"] > 0 and result["utd"] > 0
    table = _rlscale("recommend", str(directory / "fit.json"), "--budget", budget)
    assert table.returncode == 0, table.stderr
    for label in ("(σ, N) recommendation for pendulum", "model size N*", f"width {result['hidden_width']} (depth 2", "UTD σ*", "trained N"):
        assert label in table.stdout


def test_recommend_refuses_a_bad_depth(fit_directory):
    directory, _ = fit_directory
    completed = _rlscale("recommend", str(directory), "--budget", "1e13", "--hidden-depth", "0")
    assert completed.returncode == 2
    assert completed.stderr.startswith("rlscale recommend: error: --hidden-depth must be an integer >= 1")


def test_a_width_for_an_env_outside_the_registry_is_a_short_note(fit_directory):
    directory, _ = fit_directory
    fit = load_fit(directory)
    recommendation = dataclasses.replace(recommend_sigma_n(fit, 1e13), env="env-x")
    notes = with_critic_width(recommendation, fit, None, None).notes
    assert notes[-1].startswith("no hidden width: env 'env-x' is unknown; `rlscale envs` lists them")
    assert with_critic_width(recommendation, dataclasses.replace(fit, sigma_n=SigmaNFit()), None, None).notes[-1] == (
        "no hidden width: the agent (pass --algo) is unknown"
    )


def test_validate_checks_a_model_bigger_than_trained_against_the_joint_law(fit_directory, tmp_path):
    directory, sizes = fit_directory
    sigma, threshold = 4.0, 700.0
    held_out = pendulum_sigma_n_table(widths=(2 * max(PENDULUM_WIDTHS),), utds=(sigma,), seed=9)
    [size] = held_out["model_size"].unique()
    runs = tmp_path / "held_out"
    runs.mkdir()
    (runs / "evals.jsonl").write_text(held_out.to_json(orient="records", lines=True) + "\n")
    completed = _rlscale_process("validate", str(directory), str(runs), "--threshold", f"{threshold:g}", "--json")
    assert completed.returncode == 0, completed.stderr
    [record] = json.loads(completed.stdout)["configs"]
    law = load_fit(directory).sigma_n.data_law_for(threshold, "pendulum")
    assert record["data_law"] == "D_J(σ, N)" and record["model_size"] == size > max(sizes)
    assert record["predicted"] == pytest.approx(float(law.predict(sigma, size)), rel=1e-9)
    assert record["predicted_interval"][0] <= record["predicted"] <= record["predicted_interval"][1]
    truth = float(pendulum_sigma_n_laws().time_to_threshold("pendulum", threshold, sigma, size))
    assert record["measured"] == pytest.approx(truth, rel=0.15)
    table = _rlscale("validate", str(directory), str(runs), "--threshold", f"{threshold:g}")
    assert table.returncode == 0, table.stderr
    assert f"N={size:.4g}" in table.stdout and "D_J(σ, N) of scope pendulum" in table.stdout and "extrapolated in N" in table.stdout
    assert (runs / "validation.png").stat().st_size > 0


def test_recommend_for_a_model_size_chooses_its_utd_among_the_swept_ones(fit_directory):
    directory, sizes = fit_directory
    size = 2 * max(sizes)
    completed = _rlscale("recommend", str(directory), "--model-size", f"{size:g}", "--json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    fit = load_fit(directory)
    law = fit.sigma_n.data_law_for(700.0, "pendulum")
    assert result["model_size"] == size and result["model_size_interval"] == [size, size] and result["threshold"] == 700.0
    assert 1.0 <= result["utd"] <= 16.0 and result["utd_interval"][0] <= result["utd"] <= result["utd_interval"][1]
    assert result["data"] == pytest.approx(float(law.predict(result["utd"], size)), rel=1e-9)
    assert result["extrapolated_quantities"] == [f"N (above the largest trained model size N={max(sizes):.4g})"]
    assert result["hidden_width"] > max(PENDULUM_WIDTHS) and result["width_model_size"] == pytest.approx(size, rel=0.02)
    allocation = fit.sigma_n.allocation_for("pendulum")
    utds = [result["utd"] * factor for factor in (0.9, 1.1) if 1.0 <= result["utd"] * factor <= 16.0]
    batch = lambda sigma: float(fit.sigma_n.batch_size_law_sigma_n.predict("pendulum", sigma, size))  # noqa: E731
    cost = lambda sigma: (10 * size * batch(sigma) * sigma + allocation.delta) * float(law.predict(sigma, size))  # noqa: E731
    assert all(cost(result["utd"]) <= cost(sigma) for sigma in utds)
    text = _rlscale("recommend", str(directory), "--model-size", f"{size:g}", "--threshold", "500")
    assert text.returncode == 0 and "threshold J" in text.stdout and "500.0" in text.stdout
    refused = _rlscale("recommend", str(directory), "--model-size", "0")
    assert refused.returncode == 2 and "--model-size must be a positive number" in refused.stderr
