"""`rlscale study` on a study directory whose config changed only the grid extension's budget: a
raised budget that runs another round resumes the extension (a real pendulum sweep) and moves the
later stages' files aside; a change that runs nothing redoes nothing; any other change, or a second
study process on the same directory, is refused.

The grid's rows are synthetic (a known law whose optimum sits on the grid's edges, env "pendulum"),
written where the grid sweep would have written them, so only the new round trains."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rlscale.cli import main
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep
from rlscale.laws.table import KNOWN_RETURN_BOUNDS
from rlscale.run.study_runner import STATE_FILE, STOP_KEY, SUPERSEDING_KEY, read_study
from rlscale_testing import unknown_study_files
from rlscale.run.lock import RunDirectoryLock
from rlscale.run.store import EVALS_FILE

ENV = "pendulum"
LAWS = SyntheticLaws(
    batch_beta={ENV: 512.0**2}, learning_rate_beta={ENV: 1e-3 ** (1 / 0.3)}, tau_d_min={ENV: 20_000.0},
    tau_beta={ENV: 40.0}, tau_scale={ENV: 10_000.0},
)
"""B*(σ) = 512/√σ: far above the grid's batch sizes, so the optimum sits on B's top edge in every cell."""
STUDY = """
[grid]
env = "pendulum"
utd = [1.0, 2.0, 4.0]
batch_size = [16, 32]
learning_rate = [1e-3, 2e-3]
seeds = [0, 1]
env_steps = 500
eval_interval = 250
eval_episodes = 1
learning_starts = 100
buffer_capacity = 500
hidden_width = 16

[grid_extension]
{budget}

[fit]
bootstrap = 10
crossing = "interpolated"

[stage2]
utd = [1.0, 2.0, 4.0]
seeds = [0, 1]
env_steps = 500

[holdout]
seeds = [0, 1]
env_steps = 500
"""


def _study(tmp_path, budget: str, *flags: str) -> int:
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(budget=budget))
    return main(["study", str(config), "--out", str(tmp_path / "out"), "--plain", *flags])


def _state(out) -> dict:
    return json.loads((out / STATE_FILE).read_text())


@pytest.fixture
def proposed(tmp_path, capsys):
    """A study run up to its stage-2 proposal with no extension (max_rounds = 0) on synthetic grid
    rows: the grid sweep is recorded as done and its rows are the synthetic table (normalized
    returns 0..1000 mapped to pendulum's raw scale)."""
    out = tmp_path / "out"
    (out / "grid").mkdir(parents=True)
    table = synthetic_sweep(LAWS, utds=(1.0, 2.0, 4.0), batch_sizes=(16, 32), learning_rates=(1e-3, 2e-3), n_seeds=2)
    low, high = KNOWN_RETURN_BOUNDS[ENV]
    table["return"] = low + (high - low) * table["return"] / 1000.0  # pendulum's raw scale, as its rows are
    table["algo"] = "sac"
    (out / "grid" / EVALS_FILE).write_text(table.to_json(orient="records", lines=True))
    config = tmp_path / "study.toml"
    config.write_text(STUDY.format(budget="max_rounds = 0"))
    state = {"study": read_study(config).fingerprint(), "stages": {"grid_sweep": {"done": True, "seconds": 0.0}}}
    (out / STATE_FILE).write_text(json.dumps(state))
    assert _study(tmp_path, "max_rounds = 0", "--until", "propose") == 0
    assert {"grid_fit", "stage2.toml"} <= {path.name for path in out.iterdir()} and unknown_study_files(out) == set()
    capsys.readouterr()
    return out


def test_a_raised_extension_budget_resumes_the_extension_and_keeps_the_later_stages_files(tmp_path, capsys, proposed):
    out = proposed
    before = _state(out)
    (out / "superseded_1").mkdir()  # a folder of the user's: the next one is superseded_2
    report = (out / "REPORT.md").read_text()
    assert _study(tmp_path, "max_rounds = 1\nmax_new_runs = 10", "--until", "grid_extend") == 0
    printed = capsys.readouterr().out
    assert (
        "grid extension budget: max_rounds = 0, max_new_runs = as many as the grid -> max_rounds = 1, max_new_runs = 10; it had "
        "stopped because max_rounds = 0: the grid is kept as given, and the new budget runs another round"
    ) in printed
    superseded = out / "superseded_2"
    assert f"their earlier files are kept in {superseded}" in printed
    assert {path.name for path in superseded.iterdir()} == {"grid_fit", "stage2.toml", "stage2.proposal.json", "REPORT.md", "study.toml"}
    assert (superseded / "REPORT.md").read_text() == report and "max_rounds = 0" in (superseded / "study.toml").read_text()
    assert not (out / "grid_fit").exists() and not (out / "stage2.toml").exists()
    state = _state(out)
    assert state["study"] != before["study"] and set(state["stages"]) == {"grid_sweep", "grid_extend"}
    [round_] = state["grid_rounds"]
    assert round_["done"] and state[STOP_KEY]["reason"] == "max_rounds = 1 reached"
    rows = pd.read_json(out / "grid_round_1" / EVALS_FILE, lines=True)
    # Trained: σ = 1's 5 new configs (B doubled beyond 32, η halved below 1e-3) for both seeds, 2 evaluations each.
    assert round_["runs"] == 10 and len(rows) == 10 * 2 and set(rows["utd"]) == {1.0} and rows["batch_size"].max() == 64

    # More runs but no more rounds: the extension still stops, so nothing is redone or moved.
    assert _study(tmp_path, "max_rounds = 1\nmax_new_runs = 100", "--until", "grid_extend") == 0
    printed = capsys.readouterr().out
    assert "it still stops (max_rounds = 1 reached), so no stage is redone" in printed
    assert "grid_extend: done, skipped" in printed and set(_state(out)["stages"]) == {"grid_sweep", "grid_extend"}
    assert not (out / "superseded_3").exists()

    # A move the state file records as under way (a kill part-way) is finished by the next run.
    (out / "stage2.toml").write_text("# left behind by a killed move\n")
    state = _state(out)
    state[SUPERSEDING_KEY] = {"directory": "superseded_2", "paths": ["stage2.toml", "grid_fit"]}
    (out / STATE_FILE).write_text(json.dumps(state))
    assert _study(tmp_path, "max_rounds = 1\nmax_new_runs = 100", "--until", "grid_extend") == 0
    assert not (out / "stage2.toml").exists() and (superseded / "stage2.toml").read_text() == "# left behind by a killed move\n"
    assert SUPERSEDING_KEY not in _state(out)

    # One study process at a time: a second one is refused while the first holds DIR's lock.
    with RunDirectoryLock(out):
        assert _study(tmp_path, "max_rounds = 1\nmax_new_runs = 100") == 2
    assert f"output directory {out} is being written by another process" in capsys.readouterr().err

    # A change beyond the budget is another study.
    assert _study(tmp_path, "max_rounds = 1\nmax_new_runs = 100\nedge_share = 0.3") == 2
    assert "holds a different study" in capsys.readouterr().err
