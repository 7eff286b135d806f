"""`rlscale fit` on runs logged elsewhere (rlscale/run/tracker_tables.py): a TensorBoard log directory
written the way MuJoCo Playground's training scripts write one (tensorboardX's `SummaryWriter` fed
by a Brax-style `progress_fn(num_steps, metrics)`, one log directory per run named
`<Env>-<timestamp>-<suffix>`), and W&B CSV exports (a panel's wide export, a long history), each fit
through the command line and compared with the fit of the same curves as rlscale rows."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep
from rlscale.run.tables import load_runs
from rlscale.run.tracker_tables import ColumnMapping

ENV = "cartpole-swingup"
RUN_NAME = "utd{utd:g}_bs{batch_size}_lr{learning_rate:g}_seed{seed}"
RUN_NAME_PATTERN = r"utd(?P<utd>[0-9.]+)_bs(?P<batch_size>[0-9]+)_lr(?P<learning_rate>[0-9.e-]+)_seed(?P<seed>[0-9]+)"
BRAX_RETURN = "eval/episode_reward"
BOOTSTRAP, THRESHOLDS, MODEL_SIZE = 10, (300.0, 450.0, 600.0, 750.0), 2e5
FIT_ARGUMENTS = ("--bootstrap", str(BOOTSTRAP), "--thresholds", *map(str, THRESHOLDS), "--model-size", str(MODEL_SIZE))
MAPPING_ARGUMENTS = ("--constant", f"env={ENV}", "suite=dmc", "--run-name-pattern", RUN_NAME_PATTERN)
CONFIG_COLUMNS = ["utd", "batch_size", "learning_rate", "seed"]


def _rlscale(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """One DMC env's curves (4 σ × 3 B × 2 η × 2 seeds × 30 evals) as rlscale rows, returns rounded
    to float32 as TensorBoard stores them."""
    laws = SyntheticLaws(
        batch_beta={ENV: 512.0**2},
        learning_rate_beta={ENV: 1e-3 ** (1 / 0.3)},
        tau_d_min={ENV: 20_000.0},
        tau_beta={ENV: 40.0},
        tau_scale={ENV: 10_000.0},
    )
    table = synthetic_sweep(
        laws, utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(128, 256, 512), learning_rates=(3e-4, 1e-3), n_seeds=2, n_evals=30, seed=5
    )
    table["return"] = table["return"].astype(np.float32).astype(np.float64)
    return table


def _runs(rows: pd.DataFrame):
    """(run name, its curve) per config and seed."""
    for (utd, batch_size, learning_rate, seed), curve in rows.groupby(CONFIG_COLUMNS):
        yield RUN_NAME.format(utd=utd, batch_size=batch_size, learning_rate=learning_rate, seed=seed), curve


def _fit(source, out, *arguments: str) -> dict:
    completed = _rlscale("fit", str(source), "--out", str(out), *FIT_ARGUMENTS, *arguments)
    assert completed.returncode == 0, completed.stderr
    return json.loads((out / "fit.json").read_text())


def _fit_of_table(table: pd.DataFrame) -> dict:
    """fit.json's content for `table` with the options of FIT_ARGUMENTS."""
    from rlscale.laws.fit import FitOptions, fit_laws

    return json.loads(json.dumps(fit_laws(table, FitOptions(n_bootstrap=BOOTSTRAP, thresholds=THRESHOLDS, model_size=MODEL_SIZE)).to_dict()))


@pytest.fixture(scope="module")
def rows_fit(rows) -> dict:
    """The rows' fit: laws with every threshold reached, so that equal fits are equal laws."""
    fit = _fit_of_table(rows)
    assert fit["batch_size_law"]["alpha"] > 0 and fit["learning_rate_law"]["alpha"] is not None
    assert {law["threshold"] for law in fit["data_law"]} == set(THRESHOLDS) and fit["budget_law"]["points"]
    return fit


def _assert_same_fit(fit: dict, expected: dict, path: str = "fit") -> None:
    """Equal keys, strings and lists; numbers equal to 1e-9 relative (null: non-finite)."""
    if isinstance(expected, dict):
        assert sorted(fit) == sorted(expected), path
        for key in expected:
            _assert_same_fit(fit[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(fit) == len(expected), path
        for index, (item, wanted) in enumerate(zip(fit, expected)):
            _assert_same_fit(item, wanted, f"{path}[{index}]")
    elif isinstance(expected, float) and not isinstance(fit, str):
        assert math.isclose(fit, expected, rel_tol=1e-9, abs_tol=1e-12), (path, fit, expected)
    else:
        assert fit == expected, path


def test_a_playground_tensorboard_directory_fits_as_the_rows(rows, rows_fit, tmp_path):
    from tensorboardX import SummaryWriter

    logs = tmp_path / "logs"
    for index, (name, curve) in enumerate(_runs(rows)):
        writer = SummaryWriter(str(logs / f"CartpoleSwingup-20250101-{index:06d}-{name}"))

        def progress(num_steps, metrics):  # the shape of Brax's progress_fn, as Playground logs it
            for key, value in metrics.items():
                writer.add_scalar(key, value, num_steps)
            writer.flush()

        for step, episode_return in zip(curve["env_step"], curve["return"]):
            progress(int(step), {BRAX_RETURN: np.float32(episode_return), f"{BRAX_RETURN}_std": np.float32(0.0), "training/sps": 1e3})
        writer.close()
    _assert_same_fit(_fit(logs, tmp_path / "fit", *MAPPING_ARGUMENTS), rows_fit)


def test_a_wandb_panel_export_fits_as_the_rows(rows, rows_fit, tmp_path):
    """W&B's "Export CSV" of a panel: `Step`, `<run> - <metric>` and its `__MIN`/`__MAX` bands."""
    steps = np.sort(rows["env_step"].unique())
    columns = {"Step": steps}
    for name, curve in _runs(rows):
        values = curve.set_index("env_step")["return"].reindex(steps).to_numpy()
        columns |= {f"{name} - {BRAX_RETURN}": values, f"{name} - {BRAX_RETURN}__MIN": values - 1, f"{name} - {BRAX_RETURN}__MAX": values + 1}
    pd.DataFrame(columns).to_csv(tmp_path / "export.csv", index=False)
    _assert_same_fit(_fit(tmp_path / "export.csv", tmp_path / "fit", *MAPPING_ARGUMENTS), rows_fit)


def test_a_wandb_history_export_fits_as_the_rows(rows, rows_fit, tmp_path):
    """Runs' histories saved as one long CSV (`run.history()` of each run, with its name and config):
    the hyperparameters come from the config columns and need no option (read as `rlscale fit` reads
    it; the command's path is the panel export's test)."""
    history = rows.rename(columns={"env_step": "_step", "return": BRAX_RETURN}).drop(columns=["suite", "env"])
    history["name"] = [RUN_NAME.format(**row) for row in history[CONFIG_COLUMNS].to_dict("records")]
    history["env_name"] = ENV
    history.to_csv(tmp_path / "history.csv", index=False)
    table = load_runs(tmp_path / "history.csv", columns=ColumnMapping(constants={"suite": "dmc"}))
    _assert_same_fit(_fit_of_table(table), rows_fit)


@pytest.fixture(scope="module")
def one_run(rows, tmp_path_factory):
    """A TensorBoard log directory of one run whose name carries no hyperparameters."""
    from tensorboardX import SummaryWriter

    logs = tmp_path_factory.mktemp("one_run")
    _, curve = next(_runs(rows))
    with SummaryWriter(str(logs / "CartpoleSwingup-20250101-000000")) as writer:
        for step, episode_return in zip(curve["env_step"], curve["return"]):
            writer.add_scalar(BRAX_RETURN, episode_return, int(step))
    return logs


def test_a_run_without_a_field_is_one_message_naming_it(one_run, tmp_path):
    completed = _rlscale("fit", str(one_run), "--out", str(tmp_path / "fit"), "--constant", f"env={ENV}", "suite=dmc")
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and completed.stderr.startswith("rlscale fit: error:")
    assert "run 'CartpoleSwingup-20250101-000000' has no utd (looked for 'utd' and a run-name group 'utd')" in completed.stderr
    assert f"its tags/columns: {BRAX_RETURN}" in completed.stderr and "--columns utd=NAME" in completed.stderr


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((), "has no suite (looked for 'suite'"),
        (("--constant", "suite=dmc", f"env={ENV}", "utd=2", "batch_size=256", "learning_rate=3e-4", "--columns", "seed=lr"),
         "has no seed (looked for 'lr')"),
        (("--columns", "sigma=utd"), "--columns: unknown field(s) ['sigma']"),
        (("--constant", "env"), "--constant expects FIELD=VALUE"),
        (("--run-name-pattern", "(?P<utd>"), "is not a regular expression"),
        (("--run-name-pattern", "(?P<sigma>.*)"), "unknown group(s) ['sigma']"),
    ],
)
def test_bad_mappings_are_one_message(one_run, tmp_path, capsys, arguments, message):
    from rlscale.cli import main

    assert main(["fit", str(one_run), "--out", str(tmp_path / "fit"), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("rlscale fit: error:") and message in error
