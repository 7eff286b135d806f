"""TD-overfitting through the command line: `rlscale sweep` rows carry the TD errors on the replay and
on the validation buffer and each model size's parameter counts, and `rlscale plot` draws the TD
errors against B per model size.

Both commands run in this process (`rlscale.cli.main`); as subprocesses they are tested in
tests/cli/test_sweep_cli.py (`sweep`) and tests/cli/test_recommend_plot.py (`plot`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from rlscale.agents import make_agent
from rlscale.agents.spec import NetworkConfig
from rlscale.cli import main
from rlscale.envs.registry import get_spec
from rlscale.laws.td_overfitting import td_error_summary
from rlscale_testing import toml_text

SWEEP = {
    "env": "pendulum",
    "utd": [1.0],
    "batch_size": [16, 48],
    "learning_rate": [1e-3],
    "seeds": [0],
    "model_sizes": [{"hidden_width": 8}, {"hidden_width": 16}],
    "env_steps": 400,
    "eval_interval": 200,
    "eval_episodes": 1,
    "learning_starts": 100,
    "buffer_capacity": 400,
}
DEPTH = 2
"""The sweep's hidden depth (SweepConfig's default)."""


def _parameter_count(width: int) -> int:
    """The whole SAC agent's parameters on pendulum (model_size_total)."""
    spec = get_spec("pendulum")
    return make_agent("sac", spec.observation_size, spec.action_size, NetworkConfig(width, DEPTH)).parameter_count()


def _twin_critic_count(width: int) -> int:
    """Parameters of SAC's two pendulum critics (obs 3 + action 1 in, DEPTH hidden layers of `width`,
    one output), weights and biases counted by hand: the paper's N (model_size)."""
    spec = get_spec("pendulum")
    sizes = [spec.observation_size + spec.action_size] + [width] * DEPTH + [1]
    return 2 * sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def _rows(run) -> list[dict]:
    return [json.loads(line) for line in (run / "evals.jsonl").read_text().splitlines()]


def test_sweep_rows_carry_td_errors_and_plot_draws_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths, as a user types them
    (tmp_path / "sweep.toml").write_text(toml_text(SWEEP))
    assert main(["sweep", "sweep.toml", "--out", "run", "--plain", "--no-fit"]) == 0
    rows = _rows(tmp_path / "run")
    assert len(rows) == 2 * 2 * 2  # 2 sizes x 2 batch sizes, 2 evaluations each
    for row in rows:
        assert isinstance(row["td_error_train"], float) and isinstance(row["td_error_validation"], float)
        assert row["td_error_train"] > 0 and row["td_error_validation"] > 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["validation_interval"] == 10

    # Model size is the outermost grid axis; model_size is the paper's N (the critics),
    # model_size_total the whole agent, in every row and in the manifest.
    widths = [size["hidden_width"] for size in SWEEP["model_sizes"]]
    sizes = pd.DataFrame(rows).groupby("config_id")[["model_size", "model_size_total"]].agg(lambda column: sorted(set(column)))
    assert [sizes.loc[config_id].tolist() for config_id in range(4)] == [
        [[_twin_critic_count(width)], [_parameter_count(width)]] for width in widths for _ in SWEEP["batch_size"]
    ]
    assert [entry["parameter_count"] for entry in manifest["model_sizes"]] == [_parameter_count(width) for width in widths]
    assert [entry["critic_parameter_count"] for entry in manifest["model_sizes"]] == [_twin_critic_count(width) for width in widths]
    assert _twin_critic_count(widths[0]) < _twin_critic_count(widths[1])
    assert manifest["model_size"].startswith("critic parameters")
    assert manifest["config"]["model_sizes"] == SWEEP["model_sizes"]

    assert main(["plot", "run", "--out", "figures"]) == 0
    for extension in ("png", "svg"):
        assert (tmp_path / "figures" / f"td_overfitting.{extension}").stat().st_size > 0
    # One point per (model size, B): the last evaluation of the config (10% of 2 rounds up to 1).
    summary = td_error_summary(pd.DataFrame(rows))
    assert len(summary) == 4 and summary["model_size"].nunique() == 2
    last = [row for row in rows if row["env_step"] == SWEEP["env_steps"]]
    expected = sorted((row["model_size"], row["batch_size"], row["td_error_validation"]) for row in last)
    measured = sorted(zip(summary["model_size"], summary["batch_size"], summary["td_error_validation"]))
    np.testing.assert_allclose(np.asarray(measured, float), np.asarray(expected, float))

    # The same command again finds every group done: the stored config (model sizes included) matches.
    assert main(["sweep", "sweep.toml", "--out", "run", "--plain", "--no-fit"]) == 0
    assert _rows(tmp_path / "run") == rows
