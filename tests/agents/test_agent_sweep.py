"""Agent options from a sweep file through the real CLI: validated before anything runs, recorded
in the manifest and the rows, and BRO's resets written into its rows as `reset_env_steps`."""

import json
import subprocess
import sys

import pandas as pd
import pytest

BRO_SWEEP = """
env = "pendulum"
algo = "bro"
utd = [1.0, 2.0]
batch_size = [16]
learning_rate = 1e-3
seeds = [0]
env_steps = 400
eval_interval = 200
eval_episodes = 1
learning_starts = 100
buffer_capacity = 1000
hidden_width = 8
hidden_depth = 1
max_wasted_fraction = 1.0

[agent]
actor_hidden_width = 8
critic_quantiles = 4
optimistic_exploration = false  # halves the compile; resets are what this sweep checks
reset_schedule = "env_steps"
reset_at_env_steps = [150, 250]
"""


def _rlscale(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "rlscale.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )


def test_bad_agent_option_is_one_message_before_anything_runs(tmp_path):
    (tmp_path / "bro.toml").write_text(BRO_SWEEP)
    result = _rlscale(
        "sweep", "bro.toml", "--out", "run", "--set", "agent.reset_schedule=weekly",
        "--set", "agent.resets=true", "--set", "num_envs=0", cwd=tmp_path,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "agent.reset_schedule must be one of ('gradient_steps', 'env_steps', 'none'), got 'weekly'" in result.stderr
    assert "agent: unknown option 'resets'" in result.stderr
    assert not (tmp_path / "run").exists()


def test_agent_options_and_resets_reach_manifest_and_rows(tmp_path):
    (tmp_path / "bro.toml").write_text(BRO_SWEEP)
    result = _rlscale("sweep", "bro.toml", "--out", "run", "--plain", "--no-fit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["agent"]["reset_at_env_steps"] == [150, 250]
    # The manifest holds every option the agent ran with: the preset and the sweep's [agent].
    options = manifest["agent_options"]
    assert options["reset_schedule"] == "env_steps" and options["critic_quantiles"] == 4
    assert options["initial_kl_weight"] == 0.25 and options["dual_learning_rate"] == 3e-5
    assert manifest["config"]["tau"] == 0.005

    rows = [json.loads(line) for line in (tmp_path / "run" / "evals.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert json.loads(row["agent_options"])["reset_at_env_steps"] == [150, 250]
        expected = [150] if row["env_step"] == 200 else [150, 250]
        assert row["reset_env_steps"] == expected
    assert pd.read_parquet(tmp_path / "run" / "evals.parquet")["reset_env_steps"].map(list).tolist() == [
        row["reset_env_steps"] for row in rows
    ]


@pytest.mark.slow
def test_the_engine_resets_before_it_evaluates_at_the_reset_step(tmp_path):
    """What the fit's reset filter assumes by default (`ResetSchedule.at_reset_step="after"`): a reset at env
    step 200 is already in the row of the evaluation logged at 200 (the step's updates, the reset among them,
    run before the evaluation)."""
    (tmp_path / "bro.toml").write_text(BRO_SWEEP)
    result = _rlscale(
        "sweep", "bro.toml", "--out", "run", "--plain", "--no-fit", "--set", "utd=[1.0]",
        "--set", "agent.reset_at_env_steps=[200]", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "run" / "evals.jsonl").read_text().splitlines()]
    assert [(row["env_step"], row["reset_env_steps"]) for row in rows] == [(200, [200]), (400, [200])]
