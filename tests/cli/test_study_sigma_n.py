"""`rlscale study` with model sizes in its grid: the (σ, N) protocol's config, its recommendation of a
model bigger than any trained from a grid with known laws (through the CLI, `--until recommend`),
and (slow) a whole (σ, N) study on pendulum killed with SIGKILL mid-way and continued by re-running
the same command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib

import pytest
from rlscale_testing import PENDULUM_WIDTHS, pendulum_sigma_n_table, toml_text, unknown_study_files

from rlscale.laws.results import SigmaNRecommendation
from rlscale.run.critic_width import critic_parameter_count
from rlscale.study import (
    DEFAULT_MODEL_SIZE_FACTOR,
    SIGMA_N_STAGE_NAMES,
    SIGMA_N_STAGES,
    STAGES,
    HoldoutSettings,
    StudyConfig,
    StudyError,
    sigma_n_holdout_sweep_values,
)

GRID = {"env": "pendulum", "utd": [1.0, 2.0], "batch_size": [32], "learning_rate": [1e-3], "seeds": [0, 1], "env_steps": 500,
        "eval_interval": 250, "hidden_depth": 2, "model_sizes": [{"hidden_width": 8}, {"hidden_width": 16}]}


def _study(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", "study", *command], capture_output=True, text=True, timeout=900)


def test_a_grid_with_model_sizes_makes_a_sigma_n_study():
    study = StudyConfig.from_dict({"grid": GRID, "holdout": {"seeds": [0, 1]}})
    assert study.sigma_n and study.stages == SIGMA_N_STAGES and study.stage2 is None
    assert study.holdout.model_size_factor == DEFAULT_MODEL_SIZE_FACTOR
    one_size = {**GRID, "model_sizes": [{"hidden_width": 8}]}
    sigma_only = StudyConfig.from_dict({"grid": one_size, "stage2": {"utd": [1, 2], "seeds": [0, 1]}})
    assert not sigma_only.sigma_n and sigma_only.stages == STAGES and sigma_only.holdout.model_size_factor is None
    assert study.fingerprint() != StudyConfig.from_dict({"grid": GRID, "holdout": {"model_size_factor": 3}}).fingerprint()


def test_every_problem_of_a_sigma_n_study_config_is_reported_at_once():
    with pytest.raises(StudyError) as raised:
        StudyConfig.from_dict({
            "grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]}, "fit": {"model_size": 1000},
            "holdout": {"budget_factor": 2, "utd": 4, "model_size_factor": 1},
        })
    message = str(raised.value)
    for fragment in ("[stage2] does not apply", "[fit] model_size cannot be set", "[holdout] budget_factor does not apply",
                     "[holdout] utd does not apply", "[holdout] model_size_factor must be a number > 1"):
        assert fragment in message, fragment
    with pytest.raises(StudyError, match="model_size_factor applies only to a study whose grid has two or more model_sizes"):
        StudyConfig.from_dict({"grid": {**GRID, "model_sizes": []}, "stage2": {"utd": [1, 2], "seeds": [0, 1]},
                               "holdout": {"model_size_factor": 2}})


def test_the_held_out_run_trains_the_recommended_width():
    recommendation = SigmaNRecommendation(
        budget=1e12, scope="pendulum", env="pendulum", delta=1.0, model_size=9000.0, model_size_interval=(8000.0, 10000.0),
        utd=3.14159, utd_interval=(2.0, 4.0), batch_size=48, batch_size_continuous=47.0, batch_size_interval=(40.0, 60.0),
        learning_rate=0.00123456, learning_rate_interval=(1e-3, 2e-3), threshold=700.0, threshold_source="given", data=1200.0,
        data_interval=(1000.0, 1500.0), compute=1.0, compute_interval=(1.0, 1.0), extrapolated=True, extrapolated_quantities=(),
        fitted_budget_range=(1.0, 2.0), trained_model_sizes=(100.0, 1000.0), notes=(), hidden_width=60, hidden_depth=2,
        width_model_size=8951.0,
    )
    values = sigma_n_holdout_sweep_values(recommendation, GRID, HoldoutSettings(seeds=(0, 1, 2)), 250)
    assert "model_sizes" not in values and values["hidden_width"] == 60 and values["hidden_depth"] == 2
    assert values["configs"] == [{"utd": 3.142, "batch_size": 48, "learning_rate": 0.001235}]
    assert values["seeds"] == [0, 1, 2] and values["env_steps"] == 2250  # 1.5 × 1500, rounded up to 250


def _synthetic_study(tmp_path):
    """A (σ, N) study whose grid already ran: its rows are a synthetic SAC pendulum sweep with known
    laws (widths 16–128, one config per (σ, N) at the true B*, η*), the state file records the grid stages."""
    table = pendulum_sigma_n_table()
    grid = {
        "env": "pendulum", "algo": "sac", "utd": sorted(table["utd"].unique().tolist()), "batch_size": [64], "learning_rate": [1e-3],
        "seeds": [0, 1, 2, 3], "env_steps": int(table["env_step"].max()) // 100 * 100, "eval_interval": 100, "hidden_depth": 2,
        "model_sizes": [{"hidden_width": width} for width in PENDULUM_WIDTHS],
    }
    values = {"grid": grid, "fit": {"bootstrap": 10, "delta": 1e9, "thresholds": [300, 400, 500, 600, 700], "horizon_cuts": []},
              "holdout": {"seeds": [0, 1], "model_size_factor": 2.5}}
    config = tmp_path / "study.toml"
    config.write_text(toml_text(values))
    out = tmp_path / "study"
    (out / "grid").mkdir(parents=True)
    (out / "grid" / "evals.jsonl").write_text(table.to_json(orient="records", lines=True) + "\n")
    done = {"done": True, "seconds": 0.0}
    state = {"study": StudyConfig.from_dict(values).fingerprint(), "stages": {"grid_sweep": done, "grid_extend": done}}
    (out / "study_state.json").write_text(json.dumps(state))
    return config, out, table


def test_a_sigma_n_study_recommends_a_model_bigger_than_any_trained(tmp_path):
    config, out, table = _synthetic_study(tmp_path)
    completed = _study([str(config), "--out", str(out), "--until", "recommend", "--plain"])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "grid_sweep: done, skipped" in completed.stdout and "done up to recommend" in completed.stdout
    state = json.loads((out / "study_state.json").read_text())
    assert set(state["stages"]) == {"grid_sweep", "grid_extend", "grid_fit", "recommend"}
    largest = float(table["model_size"].max())
    choice = state["holdout_choice"]
    assert choice["largest_trained_model_size"] == largest and choice["target_model_size"] == pytest.approx(2.5 * largest)
    assert choice["threshold"] == 700.0 and choice["depth_source"] == "the grid's"
    holdout = tomllib.loads((out / "holdout.toml").read_text())
    width = holdout["hidden_width"]
    size = critic_parameter_count("sac", "pendulum", width, 2)
    assert width > max(PENDULUM_WIDTHS) and holdout["hidden_depth"] == 2 and "model_sizes" not in holdout
    assert size == pytest.approx(2.5 * largest, rel=0.02)
    assert abs(size - 2.5 * largest) <= min(abs(critic_parameter_count("sac", "pendulum", other, 2) - 2.5 * largest) for other in (width - 1, width + 1))
    recommendation = json.loads((out / "recommendation.json").read_text())
    assert recommendation["model_size"] == size == recommendation["width_model_size"] and recommendation["threshold"] == 700.0
    assert recommendation["extrapolated_quantities"] == [f"N (above the largest trained model size N={largest:.4g})"]
    assert min(table["utd"]) <= recommendation["utd"] <= max(table["utd"])
    assert holdout["configs"] == [{"utd": float(f"{recommendation['utd']:.4g}"), "batch_size": recommendation["batch_size"],
                                   "learning_rate": float(f"{recommendation['learning_rate']:.4g}")}]
    report = (out / "REPORT.md").read_text()
    for fragment in ("## Stage 2: the joint (σ, N) laws (grid fit)", "N\\*(F) =", "## Stage 3: a model bigger than any trained",
                     f"Hidden width {width} × depth 2: N = {size}", "| holdout_sweep |", "not yet"):
        assert fragment in report, fragment
    for figure in ("sigma_n_data_law", "sigma_n_batch_size", "sigma_n_allocation"):
        assert (out / "grid_fit" / f"{figure}.png").stat().st_size > 0
    assert unknown_study_files(out) == set()
    stage2 = _study([str(config), "--out", str(out), "--until", "propose"])
    assert stage2.returncode == 2 and "--until propose: this study has no such stage" in stage2.stderr


TINY_STUDY = """
[grid]
env = "pendulum"
utd = [2.0, 4.0]
batch_size = [32]
learning_rate = [3e-3]
seeds = [0, 1]
env_steps = 1500
eval_interval = 250
eval_episodes = 2
learning_starts = 250
buffer_capacity = 1500
hidden_depth = 2
model_sizes = [{hidden_width = 8}, {hidden_width = 16}, {hidden_width = 32}]
max_wasted_fraction = 1.0
config_axis = "map"

[grid_extension]
max_rounds = 0

[fit]
thresholds = [100, 200, 300]
bootstrap = 10
delta = 3.748e6

[holdout]
seeds = [0, 1]
env_steps = 1500
"""


@pytest.mark.slow
def test_a_sigma_n_study_killed_mid_way_continues_where_it_stopped(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(TINY_STUDY)
    out = tmp_path / "study"
    first = subprocess.Popen([sys.executable, "-m", "rlscale.cli", "study", str(config), "--out", str(out), "--plain"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state = out / "study_state.json"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and first.poll() is None:
        if state.exists() and "grid_fit" in json.loads(state.read_text())["stages"]:
            break
        time.sleep(0.5)
    assert first.poll() is None, first.stdout.read()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_before = set(json.loads(state.read_text())["stages"])
    assert {"grid_sweep", "grid_extend", "grid_fit"} <= done_before
    second = _study([str(config), "--out", str(out), "--plain"])
    assert second.returncode == 0, second.stdout + second.stderr
    for name in done_before:
        assert f"{name}: done, skipped" in second.stdout
    stages = json.loads(state.read_text())["stages"]
    assert set(stages) == set(SIGMA_N_STAGE_NAMES) and all(stage["done"] for stage in stages.values())
    holdout = tomllib.loads((out / "holdout.toml").read_text())
    assert holdout["hidden_width"] > 32
    [record] = json.loads((out / "validation" / "validation.json").read_text())["configs"]
    trained = [json.loads(line)["model_size"] for line in (out / "grid" / "evals.jsonl").read_text().splitlines()]
    assert record["data_law"] == "D_J(σ, N)" and record["model_size"] > max(trained)
    report = (out / "REPORT.md").read_text()
    assert "## Stage 3: held-out check" in report and "D_J(σ, N)" in report
    again = _study([str(config), "--out", str(out), "--plain"])
    assert again.returncode == 0 and again.stdout.count("done, skipped") == len(SIGMA_N_STAGE_NAMES)
