"""The protocol through the command line on pendulum: a grid fit → `rlscale propose` → `rlscale sweep
--dry-run` of the proposed file → `rlscale fit --hparam-laws` → `rlscale validate` (and `recommend` on
the result).

The grid fit comes from a small synthetic grid written as a pendulum table (raw returns). Stage 2 is
planned from the proposed file (σ ∈ {2, 3, 4} × 2 seeds of a 32×2 SAC for 1,500 env steps, one compiled
group) and its rows are drawn from the same synthetic laws as the grid's, at the proposed configs,
seeds and evaluation steps, with the critic's parameter count as a sweep's rows carry it: what this
file tests is the protocol's commands on such rows, not learning. Training a file of explicit
configs through `rlscale sweep` is tests/cli/test_shipped_configs.py's (fits/cpu_scale/extrapolation_config.toml).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tomllib

import pandas as pd
import pytest
import tomli_w

from rlscale import cli
from rlscale.laws.synthetic import SyntheticLaws, synthetic_runs, synthetic_sweep
from rlscale.laws.table import KNOWN_RETURN_BOUNDS

LOW, HIGH = KNOWN_RETURN_BOUNDS["pendulum"]
# B*(σ) ≈ 32·σ^-0.1 and η*(σ) ≈ 3e-3·σ^-0.3: what learns pendulum fast at this size.
PENDULUM_LAWS = SyntheticLaws(
    batch_alpha=0.1,
    batch_beta={"pendulum": 32.0**10},
    learning_rate_alpha=0.3,
    learning_rate_beta={"pendulum": 3e-3 ** (1 / 0.3)},
    tau_d_min={"pendulum": 300.0},
    tau_beta={"pendulum": 2.0},
    tau_scale={"pendulum": 500.0},
)
STAGE2_SETTINGS = {
    "eval_interval": 250,
    "eval_episodes": 2,
    "learning_starts": 250,
    "buffer_capacity": 1500,
    "hidden_width": 32,
    "max_wasted_fraction": 1.0,
}


def _main(*argv: str) -> int:
    return cli.main(list(argv))


def _raw_returns(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with its synthetic returns (0..1000) mapped onto pendulum's raw return range."""
    table["return"] = LOW + (HIGH - LOW) * table["return"] / 1000.0
    return table


def _stage2_rows(sweep: dict, model_size: int) -> pd.DataFrame:
    """The rows `rlscale sweep` would log for the stage-2 file `sweep`, drawn from PENDULUM_LAWS: every
    proposed config and seed at each evaluation (every eval_interval env steps up to env_steps), with
    `model_size` (the planned critic parameter count)."""
    configs = pd.DataFrame(
        [{"env": sweep["env"], **{key: config[key] for key in ("utd", "batch_size", "learning_rate")}} for config in sweep["configs"]]
    )
    rows = synthetic_runs(
        PENDULUM_LAWS, configs, n_seeds=len(sweep["seeds"]), n_evals=sweep["env_steps"] // sweep["eval_interval"],
        horizon=sweep["env_steps"], suite="pure_jax", seed=1, model_size=model_size,
    )
    return _raw_returns(rows.assign(seed=rows["seed"].map(dict(enumerate(sweep["seeds"]))), algo=sweep["algo"]))


@pytest.fixture(scope="module")
def protocol(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocol")
    grid = synthetic_sweep(
        PENDULUM_LAWS, utds=(1.0, 2.0, 4.0), batch_sizes=(16, 32, 64), learning_rates=(1e-3, 3e-3, 1e-2),
        n_seeds=3, n_evals=100, suite="pure_jax", seed=0,
    )
    _raw_returns(grid).to_csv(root / "grid.csv", index=False)
    assert _main("fit", str(root / "grid.csv"), "--out", str(root / "grid_fit"), "--bootstrap", "10",
                 "--thresholds", "300", "500", "700", "--selection-threshold", "700") == 0
    settings = [f"--set={key}={value}" for key, value in STAGE2_SETTINGS.items()]
    assert _main("propose", str(root / "grid_fit"), "--utd", "2", "3", "4", "--seeds", "0", "1", "--env-steps", "1500",
                 "--out", str(root / "stage2.toml"), *settings) == 0
    plan = io.StringIO()
    with contextlib.redirect_stdout(plan):
        assert _main("sweep", str(root / "stage2.toml"), "--out", str(root / "stage2"), "--dry-run") == 0
    groups = [json.loads(line) for line in plan.getvalue().splitlines() if line.startswith("{")]
    assert [group["configs"] for group in groups] == [6] and not (root / "stage2").exists()
    (root / "stage2").mkdir()
    rows = _stage2_rows(tomllib.loads((root / "stage2.toml").read_text()), groups[0]["critic_parameter_count"])
    (root / "stage2" / "evals.jsonl").write_text(rows.to_json(orient="records", lines=True) + "\n")
    assert _main("fit", str(root / "stage2"), "--hparam-laws", str(root / "grid_fit" / "fit.json"), "--out", str(root / "stage2_fit"),
                 "--bootstrap", "20") == 0
    fit = json.loads((root / "stage2_fit" / "fit.json").read_text())
    threshold = fit["selection_threshold"]
    assert _main("validate", str(root / "stage2_fit"), str(root / "stage2"), "--threshold", str(threshold),
                 "--out", str(root / "validation")) == 0
    return root


def test_propose_writes_explicit_configs_at_the_laws(protocol):
    grid = json.loads((protocol / "grid_fit" / "fit.json").read_text())
    sweep = tomllib.loads((protocol / "stage2.toml").read_text())
    assert [config["utd"] for config in sweep["configs"]] == [2.0, 3.0, 4.0]
    law = grid["batch_size_law"]
    for config in sweep["configs"]:
        assert config["batch_size"] % 16 == 0
        continuous = 10 ** (law["intercept"]["pendulum"] + law["slope"] * math.log10(config["utd"]))
        assert abs(config["batch_size"] - continuous) <= 8
    assert sweep["seeds"] == [0, 1] and sweep["env_steps"] == 1500 and sweep["hidden_width"] == 32
    assert (protocol / "stage2.toml").read_text().startswith("# Stage 2 of the protocol")
    proposal = json.loads((protocol / "stage2.proposal.json").read_text())
    assert proposal["env"] == "pendulum" and len(proposal["configs"]) == 3


def test_propose_takes_the_grid_of_a_study_toml(protocol, tmp_path, capsys):
    """--base STUDY.toml: stage 2 copies the settings of the study's [grid] (not its grid axes) with
    its [stage2] set applied, as the study's own stage 2 does."""
    grid = {"env": "pendulum", "utd": [1.0, 2.0, 4.0], "batch_size": [16, 32, 64], "learning_rate": [1e-3, 3e-3, 1e-2],
            "seeds": [0, 1, 2], "env_steps": 4000, "eval_interval": 250, "hidden_width": 48}
    study = tmp_path / "study.toml"
    study.write_text(tomli_w.dumps({"grid": grid, "stage2": {"utd": [2.0, 3.0], "seeds": [0, 1], "set": {"eval_episodes": 3}}}))
    assert _main("propose", str(protocol / "grid_fit"), "--utd", "2", "3", "--seeds", "0", "1", "--env-steps", "1500",
                 "--base", str(study), "--out", str(tmp_path / "stage2.toml")) == 0
    sweep = tomllib.loads((tmp_path / "stage2.toml").read_text())
    assert sweep["hidden_width"] == 48 and sweep["eval_interval"] == 250 and sweep["env_steps"] == 1500 and sweep["eval_episodes"] == 3
    assert [config["utd"] for config in sweep["configs"]] == [2.0, 3.0] and sweep["seeds"] == [0, 1]
    study.write_text(tomli_w.dumps({"grid": grid, "stage3": {}}))
    assert _main("propose", str(protocol / "grid_fit"), "--utd", "2", "--seeds", "0", "1", "--base", str(study),
                 "--out", str(tmp_path / "bad.toml")) == 2
    assert "unknown table [stage3]" in capsys.readouterr().err
    assert not (tmp_path / "bad.toml").exists()


def test_fit_with_hparam_laws_takes_the_grid_laws(protocol):
    grid = json.loads((protocol / "grid_fit" / "fit.json").read_text())
    fit = json.loads((protocol / "stage2_fit" / "fit.json").read_text())
    assert fit["stage"] == "hparam_laws" and fit["data_points"] == "law"
    assert fit["batch_size_law"]["alpha"] == grid["batch_size_law"]["alpha"]
    assert fit["learning_rate_law"]["intercept"] == grid["learning_rate_law"]["intercept"]
    sweep = tomllib.loads((protocol / "stage2.toml").read_text())
    proposed = {(config["utd"], config["batch_size"], config["learning_rate"]) for config in sweep["configs"]}
    for law in fit["data_law"]:
        if law["scope"] == "pendulum":
            assert {(point["utd"], point["batch_size"], point["learning_rate"]) for point in law["points"]} <= proposed
    assert any("stage 2" in note for note in fit["notes"])
    for name in ("data_efficiency", "pareto_frontier", "budget"):
        assert (protocol / "stage2_fit" / f"{name}.png").stat().st_size > 0


def test_validate_reports_both_intervals(protocol):
    validation = json.loads((protocol / "validation" / "validation.json").read_text())
    assert len(validation["configs"]) == 3
    for record in validation["configs"]:
        assert record["scope"] == "pendulum" and record["seeds"] == 2
        assert record["predicted"] > 0 and len(record["predicted_interval"]) == 2 and len(record["measured_interval"]) == 2
    assert (protocol / "validation" / "validation.png").stat().st_size > 0


def test_recommend_reads_the_stage2_fit(protocol, capsys):
    fit = json.loads((protocol / "stage2_fit" / "fit.json").read_text())
    assert fit["budget_law"] is not None, fit["notes"]
    budget = max(point["budget"] for point in fit["budget_law"]["points"])
    assert _main("recommend", str(protocol / "stage2_fit"), "--budget", f"{budget:.6g}", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["threshold"] <= max(fit["thresholds"])


def test_bad_input_is_one_message(protocol, tmp_path, capsys):
    assert _main("propose", str(protocol / "grid_fit"), "--utd", "0", "--seeds", "0", "1", "--out", str(tmp_path / "x.toml")) == 2
    assert "--utd needs values in (0, 64]" in capsys.readouterr().err
    assert _main("propose", str(protocol / "grid_fit"), "--utd", "1", "--seeds", "0", "1", "--baseline-utd", "3",
                 "--out", str(tmp_path / "x.toml")) == 2
    assert "--baseline-utd must be one of [1.0, 2.0, 4.0]" in capsys.readouterr().err
    assert _main("validate", str(protocol / "stage2_fit"), str(protocol / "stage2"), "--threshold", "123") == 2
    assert "no data law at J=123" in capsys.readouterr().err
    assert _main("fit", str(protocol / "stage2"), "--hparam-laws", str(tmp_path / "none.json"), "--out", str(tmp_path / "f")) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists()
