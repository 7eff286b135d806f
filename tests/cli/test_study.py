"""`rlscale study`: the study config, the sweeps each stage derives, and (slow) a whole study on
pendulum killed with SIGKILL mid-way and continued by re-running the same command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rlscale.laws.grid_edges import ExtensionConfig, GridExtension, GridLimits
from rlscale.laws.results import BaselineConfig, Proposal, ProposedConfig, Recommendation
from rlscale.study import (
    STAGE_NAMES,
    GridExtensionSettings,
    HoldoutSettings,
    StudyConfig,
    StudyError,
    extension_sweep_values,
    holdout_sweep_values,
    rounded_env_steps,
    stage2_sweep_values,
)

GRID = {"env": "pendulum", "utd": [1.0, 2.0], "batch_size": [32], "learning_rate": [1e-3], "seeds": [0, 1],
        "env_steps": 500, "eval_interval": 250, "hidden_width": 16}


def test_every_problem_of_a_study_config_is_reported_at_once():
    with pytest.raises(StudyError) as raised:
        StudyConfig.from_dict({
            "grdi": {}, "fit": {"bootstrap": "many", "color": 1},
            "stage2": {"utd": [0, 2], "seeds": [1], "baseline_utd": -1, "extra": 1},
            "holdout": {"budget_factor": 0, "utd": 100},
        })
    message = str(raised.value)
    for fragment in ("unknown table [grdi]", "[grid] is missing", "[fit] bootstrap has the wrong type", "[fit] unknown key 'color'",
                     "[stage2] utd must be a list of σ in (0, 64]", "[stage2] seeds needs at least 2", "[stage2] baseline_utd",
                     "[stage2] unknown key 'extra'", "[holdout] budget_factor must be a positive number",
                     "[holdout] utd must be a σ in (0, 64]"):
        assert fragment in message, fragment


def test_the_fingerprint_changes_with_the_config():
    study = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2, 4], "seeds": [0, 1]}})
    other = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2, 8], "seeds": [0, 1]}})
    assert study.fingerprint() != other.fingerprint()
    assert study.fingerprint() == StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2, 4], "seeds": [0, 1]}}).fingerprint()
    # The extension's budget may change between sittings; its other settings may not.
    raised = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2, 4], "seeds": [0, 1]},
                                    "grid_extension": {"max_rounds": 3, "max_new_runs": 50}})
    assert raised.fingerprint() != study.fingerprint() and raised.fingerprint(budget=False) == study.fingerprint(budget=False)
    shared = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2, 4], "seeds": [0, 1]}, "grid_extension": {"edge_share": 0.3}})
    assert shared.fingerprint(budget=False) != study.fingerprint(budget=False)


def test_grid_extension_settings_are_checked_and_default_to_two_rounds():
    with pytest.raises(StudyError) as raised:
        StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]},
                               "grid_extension": {"max_rounds": -1, "max_new_runs": "all", "edge_share": 0, "limit": 3}})
    for fragment in ("max_rounds must be an integer >= 0", "max_new_runs must be an integer >= 0", "edge_share must be in (0, 1]",
                     "unknown key 'limit'"):
        assert fragment in str(raised.value), fragment
    plain = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]}})
    # The fingerprint rlscale gave this config before [grid_extension] and [holdout] utd existed: a
    # study directory written then still resumes.
    assert StudyConfig.from_dict({"grid": {"env": "pendulum"}, "stage2": {"utd": [1, 2], "seeds": [0, 1]}}).fingerprint() == "33702a2f553971de"
    held_out = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]}, "holdout": {"utd": 8}})
    assert held_out.holdout.utd == 8.0 and plain.holdout.utd is None
    assert plain.grid_extension == GridExtensionSettings(max_rounds=2, max_new_runs=None, limits=GridLimits())
    explicit = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]}, "grid_extension": {"max_rounds": 2}})
    assert explicit.fingerprint() == plain.fingerprint()  # a study written before the extension keeps its directory
    changed = StudyConfig.from_dict({"grid": GRID, "stage2": {"utd": [1, 2], "seeds": [0, 1]}, "grid_extension": {"max_rounds": 0}})
    assert changed.fingerprint() != plain.fingerprint()


def test_an_extension_round_runs_only_within_its_limits():
    settings = GridExtensionSettings(max_rounds=2, max_new_runs=None)
    extension = GridExtension("extend", configs=(ExtensionConfig("pendulum", 1.0, 16, 1e-3), ExtensionConfig("pendulum", 2.0, 16, 1e-3)))
    assert settings.next_round(extension, round_number=1, runs_added=0, grid_runs=8, runs_per_config=2) == (extension, None)
    assert settings.next_round(extension, round_number=3, runs_added=4, grid_runs=8, runs_per_config=2)[1] == "max_rounds = 2 reached"
    assert settings.next_round(GridExtension("bracketed"), 1, 0, 8, 2)[1] == "the optimum is bracketed"
    assert "leaves the limits" in settings.next_round(GridExtension("limits"), 1, 0, 8, 2)[1]
    # A round that would pass the cap (the grid's 8 runs by default) runs the σ whose new configs fit:
    # σ = 1 (both σ share no edge share here: the smaller σ first); none fitting stops the extension.
    cut, stop = settings.next_round(extension, round_number=2, runs_added=5, grid_runs=8, runs_per_config=2)
    assert stop is None and cut.configs == extension.configs[:1] and [item.utd for item in cut.deferred] == [2.0]
    cut, stop = GridExtensionSettings(max_new_runs=7).next_round(extension, 2, 6, grid_runs=100, runs_per_config=2)
    assert cut.status == "budget" and not cut.configs
    assert stop == "the budget cap: the smallest σ addition needs 2 runs, 1 are left under max_new_runs = 7"
    values = extension_sweep_values(extension, {**GRID, "batch_size": [32, 64]})
    assert values["configs"] == [{"utd": 1.0, "batch_size": 16, "learning_rate": 1e-3}, {"utd": 2.0, "batch_size": 16, "learning_rate": 1e-3}]
    assert values["seeds"] == [0, 1] and values["env_steps"] == 500 and "batch_size" not in values and "utd" not in values


def test_stage_sweeps_replace_the_grid_axes():
    proposal = Proposal(
        env="pendulum", threshold=700.0, sizing_scope="pendulum", env_steps_margin=1.5,
        configs=(ProposedConfig(1.0, 32, 2e-3, "law", 30.0, 1240.0), ProposedConfig(4.0, 16, 1e-3, "law", 20.0, 610.0),
                 ProposedConfig(4.0, 32, 3e-3, "baseline", 32.0, 610.0)),
        baseline=BaselineConfig("pendulum", 2.0, 32, 3e-3),
    )
    values = stage2_sweep_values(proposal, GRID, (0, 1, 2), None, 250)
    assert values["configs"] == [{"utd": 1.0, "batch_size": 32, "learning_rate": 2e-3}, {"utd": 4.0, "batch_size": 16, "learning_rate": 1e-3},
                                 {"utd": 4.0, "batch_size": 32, "learning_rate": 3e-3}]
    assert values["env_steps"] == 1250 and values["seeds"] == [0, 1, 2]
    assert "utd" not in values and "batch_size" not in values and values["hidden_width"] == 16
    assert rounded_env_steps(1.0, 250) == 250 and rounded_env_steps(1251.0, 250) == 1500
    recommendation = Recommendation(
        budget=1e10, scope="pendulum", env="pendulum", delta=1.0, model_size=1.0, utd=2.7182818, utd_interval=(2.0, 3.0),
        batch_size=48, batch_size_continuous=45.2, batch_size_interval=(32, 64), learning_rate=0.00123456789,
        learning_rate_interval=(1e-3, 2e-3), threshold=700.0, threshold_source="given", data=1000.0, data_interval=(800.0, 1300.0),
        compute=1.0, compute_interval=(1.0, 1.0), extrapolated=False, fitted_budget_range=(1.0, 2.0), notes=(),
    )
    held_out = holdout_sweep_values(recommendation, values, HoldoutSettings(seeds=(0, 1, 2, 3)), 250)
    assert held_out["configs"] == [{"utd": 2.718, "batch_size": 48, "learning_rate": 0.001235}]
    assert held_out["env_steps"] == 2000 and held_out["seeds"] == [0, 1, 2, 3]


STUDY = """
[grid]
env = "pendulum"
utd = [2.0, 3.0, 4.0]
batch_size = [32]
learning_rate = [3e-3, 1e-2]
seeds = [0, 1]
env_steps = 1500
eval_interval = 250
eval_episodes = 2
learning_starts = 250
buffer_capacity = 1500
hidden_width = 32
max_wasted_fraction = 1.0

[grid_extension]
max_rounds = 1

[fit]
bootstrap = 10

[stage2]
utd = [2, 3, 4]
seeds = [0, 1]
env_steps = 1500

[holdout]
seeds = [0, 1]
env_steps = 1500
"""


def _study(config, out):
    return subprocess.Popen(
        [sys.executable, "-m", "rlscale.cli", "study", str(config), "--out", str(out), "--plain"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.mark.slow
def test_a_study_killed_mid_way_continues_where_it_stopped(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    out = tmp_path / "study"
    first = _study(config, out)
    state = out / "study_state.json"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and first.poll() is None:
        # Killed while the grid's first extension round trains (its evals.jsonl has rows).
        if state.exists() and (out / "grid_round_1" / "evals.jsonl").exists() and (out / "grid_round_1" / "evals.jsonl").stat().st_size:
            break
        time.sleep(0.5)
    assert first.poll() is None, first.stdout.read()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_before = set(json.loads(state.read_text())["stages"])
    assert done_before == {"grid_sweep"}
    assert json.loads(state.read_text())["grid_rounds"][0]["done"] is False
    second = _study(config, out)
    output, _ = second.communicate(timeout=1800)
    assert second.returncode == 0, output
    for name in done_before:
        assert f"{name}: done, skipped" in output
    stages = json.loads(state.read_text())["stages"]
    assert set(stages) == set(STAGE_NAMES) and all(stage["done"] for stage in stages.values())
    report = (out / "REPORT.md").read_text()
    assert "## Stage 4: held-out check" in report and (out / "validation" / "validation.json").exists()
    assert "## Stage 1: the grid extends itself" in report and "Stopped: " in report
    (round_,) = json.loads(state.read_text())["grid_rounds"]
    rows = [json.loads(line) for line in (out / "grid_round_1" / "evals.jsonl").read_text().splitlines()]
    keys = [(row["config_id"], row["env_step"]) for row in rows]
    assert round_["done"] and len(keys) == len(set(keys)) == round_["runs"] * 6  # every (run, eval) once
    # The round's training time counts the killed run's part too: its rows' clock resumed from the checkpoint.
    extend_row = next(line for line in report.splitlines() if line.startswith("| grid_extend |"))
    assert extend_row.split("|")[4].strip() == format(max(row["wall_time_s"] for row in rows), ".0f")
    # The same command once more does nothing but report; another config is refused.
    third = subprocess.run([sys.executable, "-m", "rlscale.cli", "study", str(config), "--out", str(out), "--plain"],
                           capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and third.stdout.count("done, skipped") == len(STAGE_NAMES)
    config.write_text(STUDY.replace("bootstrap = 10", "bootstrap = 11"))
    refused = subprocess.run([sys.executable, "-m", "rlscale.cli", "study", str(config), "--out", str(out)],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "holds a different study" in refused.stderr


def test_every_shipped_study_reads_and_its_grid_is_a_valid_sweep():
    from pathlib import Path

    from rlscale.config import SweepConfig
    from rlscale.run.study_runner import read_study

    repository = Path(__file__).resolve().parents[2]
    studies = sorted([*repository.glob("rlscale/configs/studies/*.toml"), *repository.glob("fits/**/studies/*.toml")])
    assert studies
    for path in studies:
        study = read_study(path)
        assert SweepConfig.from_dict(study.grid).run_configs()
        assert study.sigma_n or len(study.stage2.seeds) >= 2
