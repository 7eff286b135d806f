"""`rlscale fit` and `rlscale recommend` as subprocesses on a synthetic sweep of several model sizes:
the joint (σ, N) laws, and N* with the SAC critic width that gives it on pendulum."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from rlscale.laws.recommend_sigma_n import recommend_sigma_n
from rlscale.laws.results import SigmaNFit
from rlscale.laws.synthetic import SyntheticSigmaNLaws, synthetic_sigma_n_sweep
from rlscale.run.critic_width import critic_parameter_count
from rlscale.run.fit_files import load_fit
from rlscale.run.critic_width import with_critic_width

WIDTHS = (16, 32, 64, 128)
DELTA = 1e9
"""FLOPs per env step that puts the true optima (σ* 3–8, N* 5k–9k) inside the trained range."""


def _rlscale(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def fit_directory(tmp_path_factory):
    """evals.jsonl of SAC on pendulum at widths 16..128 (model_size: the critic's parameter count),
    one config per (σ, N) at the true B*, η*, fitted by `rlscale fit` into fit/."""
    runs = tmp_path_factory.mktemp("sigma_n_runs")
    sizes = tuple(float(critic_parameter_count("sac", "pendulum", width, 2)) for width in WIDTHS)
    one = lambda value: {"pendulum": value}  # noqa: E731
    laws = SyntheticSigmaNLaws(
        c=one(5000.0), a=one(0.6), b=one(2000.0), batch_a=one(1000.0), batch_b=one(2000.0), learning_rate_beta=one(1e-3 ** (1 / 0.3))
    )
    table = synthetic_sigma_n_sweep(
        laws, utds=(1.0, 2.0, 4.0, 8.0, 16.0), model_sizes=sizes, batch_sizes=None, learning_rates=None, n_seeds=4, n_evals=200,
        suite="jax", seed=4,
    )
    table = table.assign(algo="sac", agent_options="{}", return_low=0.0, return_high=1000.0)
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
    assert result["hidden_depth"] == 2 and result["hidden_width"] > max(WIDTHS)
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
