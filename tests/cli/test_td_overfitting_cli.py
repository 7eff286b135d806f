"""TD-overfitting through the command line: `rlscale sweep` rows carry the TD errors on the replay and
on the validation buffer, and `rlscale plot` draws them against B per model size."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd

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


def _rlscale(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_sweep_rows_carry_td_errors_and_plot_draws_them(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(toml_text(SWEEP))
    swept = _rlscale("sweep", str(config), "--out", "run", "--plain", "--no-fit", cwd=tmp_path)
    assert swept.returncode == 0, swept.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "evals.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 2 * 2  # 2 sizes x 2 batch sizes, 2 evaluations each
    for row in rows:
        assert isinstance(row["td_error_train"], float) and isinstance(row["td_error_validation"], float)
        assert row["td_error_train"] > 0 and row["td_error_validation"] > 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["validation_interval"] == 10

    plotted = _rlscale("plot", "run", "--out", "figures", cwd=tmp_path)
    assert plotted.returncode == 0, plotted.stderr
    for extension in ("png", "svg"):
        assert (tmp_path / "figures" / f"td_overfitting.{extension}").stat().st_size > 0
    # One point per (model size, B): the last evaluation of the config (10% of 2 rounds up to 1).
    summary = td_error_summary(pd.DataFrame(rows))
    assert len(summary) == 4 and summary["model_size"].nunique() == 2
    last = [row for row in rows if row["env_step"] == SWEEP["env_steps"]]
    expected = sorted((row["model_size"], row["batch_size"], row["td_error_validation"]) for row in last)
    measured = sorted(zip(summary["model_size"], summary["batch_size"], summary["td_error_validation"]))
    np.testing.assert_allclose(np.asarray(measured, float), np.asarray(expected, float))
