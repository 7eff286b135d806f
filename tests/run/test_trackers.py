"""`rlscale sweep` with `tracker = ["tensorboard", "wandb"]` end to end (rlscale/run/trackers.py),
checked with the libraries' own readers: TensorBoard's event accumulator sees every config's scalars
and hparams, a TensorBoard server started on the log directory answers for them over HTTP, W&B's
offline runs hold the history (and `wandb sync` sees them), and `rlscale fit` reads both back as the
rows. The sweep is stopped by SIGTERM, resumed and killed (-9) between checkpoints, and resumed
again, so each of these also checks that every step shows once with the rows' value. A sweep whose
trackers (`--tracker tensorboard wandb`) both fail (an unusable directory, a library error) warns
once per tracker and writes the same rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from rlscale.run.checkpoint import FAULT_ENV, PAUSE_ENV
from rlscale.run.store import read_evals
from rlscale.run.trackers import HPARAM_COLUMNS, TENSORBOARD_DIRECTORY, UPDATES_PER_S, WANDB_DIRECTORY, run_name
from rlscale_testing import toml_text

SWEEP = {
    "env": "pendulum",
    "utd": [0.5, 2.0],
    "batch_size": [16],
    "learning_rate": [1e-3],
    "seeds": [0, 1],
    "env_steps": 1500,
    "eval_interval": 300,
    "eval_episodes": 1,
    "learning_starts": 200,
    "buffer_capacity": 1000,
    "hidden_width": 16,
    "checkpoint_every_env_steps": 600,
    "checkpoint_every_seconds": 0.0,
    "tracker": ["tensorboard", "wandb"],
}
"""4 configs in one group, evaluations at env steps 300, 600, ..., 1500, checkpoints at 600, 1200, 1500."""
STOP_AT = "eval_rows_written:2"
"""The first process is stopped by SIGTERM at env step 600: it checkpoints there and its trackers
close (W&B writes its runs' records: 300 and 600)."""
KILL_AT = "manifest_replaced:1"
"""The second (resumed at 600) is killed (-9) once its checkpoint at 1200 is in place: W&B's buffered
records of 900 and 1200 are lost, so the third, resumed at 1200, must log those kept rows again."""
SCALARS = ("return", "grad_step", "temperature")
SERVER_TIMEOUT_S = 120
TIMEOUT_S = 900


def _command(out: Path, values: dict, *flags: str) -> list[str]:
    config = out.parent / "sweep.toml"
    config.write_text(toml_text(values))
    return [sys.executable, "-m", "rlscale.cli", "sweep", str(config), "--out", str(out), "--plain", "--no-fit", *flags]


def _sweep(out: Path, env: dict, values: dict = SWEEP, *flags: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = env | ({FAULT_ENV: kill_at} if kill_at else {})
    return subprocess.run(_command(out, values, *flags), env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def _stop_with_sigterm(out: Path, env: dict, stop_at: str) -> subprocess.CompletedProcess:
    """The sweep SIGSTOPs itself at `stop_at`, gets SIGTERM and SIGCONT, and stops after its chunk."""
    process = subprocess.Popen(_command(out, SWEEP), env=env | {PAUSE_ENV: stop_at}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    state = Path(f"/proc/{process.pid}/stat")
    deadline = time.monotonic() + TIMEOUT_S
    while state.read_text().rpartition(")")[2].split()[0] != "T":  # the state after the command name
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGCONT)
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _environment(tmp: Path, **wandb) -> dict:
    """CPU, and W&B's settings, caches and data in `tmp` (offline unless `wandb` says otherwise)."""
    values = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_CONFIG_DIR": str(tmp / "wandb-config"),
              "WANDB_CACHE_DIR": str(tmp / "wandb-cache"), "WANDB_DATA_DIR": str(tmp / "wandb-data")}
    environment = {key: value for key, value in os.environ.items() if key not in (FAULT_ENV, PAUSE_ENV)}
    return environment | {"JAX_PLATFORMS": "cpu"} | values | wandb


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """The sweep stopped (SIGTERM at 600), resumed and killed (-9 after its checkpoint at 1200),
    resumed to its end: (run directory, rows)."""
    tmp = tmp_path_factory.mktemp("tracked")
    out = tmp / "sweep"
    stopped = _stop_with_sigterm(out, _environment(tmp), STOP_AT)
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr[-3000:]
    killed = _sweep(out, _environment(tmp), kill_at=KILL_AT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = _sweep(out, _environment(tmp))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "warning" not in stopped.stderr + killed.stderr + resumed.stderr
    rows = read_evals(out)
    assert len(rows) == 4 * 5 and rows["temperature"].notna().all()
    return out, rows


def _config_rows(rows):
    for _, config_rows in rows.groupby("config_id"):
        yield run_name(config_rows.iloc[0].to_dict()), config_rows.sort_values("env_step")


def test_tensorboard_reader_sees_every_config_once_per_step_with_its_hparams(tracked):
    from tensorboard.backend.event_processing.plugin_event_accumulator import TENSORS, EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.util import tensor_util

    out, rows = tracked
    for name, config_rows in _config_rows(rows):
        accumulator = EventAccumulator(str(out / TENSORBOARD_DIRECTORY / name), size_guidance={TENSORS: 0})
        accumulator.Reload()
        for tag in SCALARS:
            events = accumulator.Tensors(tag)
            assert [event.step for event in events] == config_rows["env_step"].tolist(), (name, tag)
            values = [float(tensor_util.make_ndarray(event.tensor_proto)) for event in events]
            np.testing.assert_allclose(values, config_rows[tag].to_numpy(), rtol=1e-6)
        rates = accumulator.Tensors(UPDATES_PER_S)
        assert len({event.step for event in rates}) == len(rates) >= 2
        assert all(float(tensor_util.make_ndarray(event.tensor_proto)) > 0 for event in rates)
        content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
        hparams = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG]).hparams
        row = config_rows.iloc[0]
        assert {key: getattr(value, value.WhichOneof("kind")) for key, value in hparams.items()} == pytest.approx(
            {column: row[column] for column in HPARAM_COLUMNS}
        )
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        assert end.status == api_pb2.STATUS_SUCCESS


def test_wandb_offline_runs_hold_the_history_once_per_step(tracked, tmp_path):
    from rlscale.run.tracker_tables import read_wandb_offline, wandb_records

    out, rows = tracked
    runs = {run.name: run for run in read_wandb_offline(out / WANDB_DIRECTORY)}
    assert sorted(runs) == sorted(name for name, _ in _config_rows(rows))
    for name, config_rows in _config_rows(rows):
        history = runs[name].history.set_index("step")
        assert history.index.tolist() == config_rows["env_step"].tolist()
        for tag in SCALARS:
            np.testing.assert_allclose(history[tag].to_numpy(), config_rows[tag].to_numpy(), rtol=1e-12)
        row = config_rows.iloc[0]
        assert {column: runs[name].values[column] for column in HPARAM_COLUMNS} == {column: row[column] for column in HPARAM_COLUMNS}
    # Each process wrote its own offline run of each config (the killed one's lost its buffered
    # records, which the last one logged again); in start order, the steps they hold are the rows'
    # steps, each once.
    files = sorted((out / WANDB_DIRECTORY).glob("offline-run-*/*.wandb"))
    assert len(files) == 3 * 4
    steps_by_run: dict[str, list[int]] = {}
    for path in files:  # the directory names start with the start time
        records = list(wandb_records(path))
        runs_in_file = [record.run for record in records if record.WhichOneof("record_type") == "run"]
        assert all(run.run_group == out.name for run in runs_in_file)
        if runs_in_file:
            steps = [record.history.step.num for record in records if record.WhichOneof("record_type") == "history"]
            steps_by_run.setdefault(runs_in_file[0].display_name, []).extend(steps)
    for name, config_rows in _config_rows(rows):
        assert steps_by_run[name] == config_rows["env_step"].tolist(), name
    synced = subprocess.run(
        [str(Path(sys.executable).parent / "wandb"), "sync", "--dry-run", str(out / WANDB_DIRECTORY)],
        capture_output=True, text=True, timeout=120, env=_environment(tmp_path), cwd=tmp_path,
    )
    assert synced.returncode == 0, synced.stderr
    assert all(path.name in synced.stdout + synced.stderr for path in files)


def test_fit_reads_the_trackers_back_as_the_rows(tracked):
    from rlscale.run.tables import load_runs

    out, rows = tracked
    columns = ["suite", "env", "utd", "batch_size", "learning_rate", "seed", "env_step", "return", "model_size"]
    expected = rows[columns].sort_values(["utd", "seed", "env_step"]).reset_index(drop=True)
    for directory in (TENSORBOARD_DIRECTORY, WANDB_DIRECTORY):
        table = load_runs(out / directory)[columns].sort_values(["utd", "seed", "env_step"]).reset_index(drop=True)
        assert table.drop(columns="return").astype(str).equals(expected.drop(columns="return").astype(str)), directory
        np.testing.assert_allclose(table["return"], expected["return"], rtol=1e-6)


def test_a_tensorboard_server_answers_for_the_scalars(tracked):
    out, rows = tracked
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(out / TENSORBOARD_DIRECTORY), "--host", "127.0.0.1",
         "--port", "0", "--reload_interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        address = _server_address(server)
        names = [name for name, _ in _config_rows(rows)]
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while time.monotonic() < deadline:
            tags = json.loads(urllib.request.urlopen(f"{address}/data/plugin/scalars/tags", timeout=10).read())
            if sorted(tags) == sorted(names):
                break
            time.sleep(0.5)
        assert sorted(tags) == sorted(names)
        assert all({"return", "temperature", UPDATES_PER_S} <= set(tags[name]) for name in names)
        name, config_rows = next(_config_rows(rows))
        query = urllib.parse.urlencode({"run": name, "tag": "return"})
        points = json.loads(urllib.request.urlopen(f"{address}/data/plugin/scalars/scalars?{query}", timeout=10).read())
        assert [step for _, step, _ in points] == config_rows["env_step"].tolist()
        np.testing.assert_allclose([value for _, _, value in points], config_rows["return"], rtol=1e-6)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=30)


def _server_address(server: subprocess.Popen) -> str:
    """The http://host:port/ TensorBoard prints once it listens."""
    for line in server.stdout:
        if "http://127.0.0.1:" in line:
            return line.split()[line.split().index("at") + 1].rstrip("/")
    raise AssertionError(f"TensorBoard exited ({server.wait()}) without printing its address")


def test_failing_trackers_warn_once_each_and_every_row_streams_on(tracked, tmp_path):
    """TensorBoard's directory is a file (no run can be created) and W&B refuses its API key (a
    library error at each run's start): one warning per tracker, exit 0, the same rows. The trackers
    come from the command line here, the sweep file has none."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / TENSORBOARD_DIRECTORY).write_text("a file where the TensorBoard runs would go")
    values = {key: value for key, value in SWEEP.items() if key != "tracker"}
    environment = _environment(tmp_path, WANDB_MODE="online", WANDB_API_KEY="not-a-key")
    completed = _sweep(out, environment, values, "--tracker", "tensorboard", "wandb")
    assert completed.returncode == 0, completed.stderr[-3000:]
    warnings = [line for line in completed.stderr.splitlines() if line.startswith("rlscale: warning: tracker")]
    assert len(warnings) == 2, completed.stderr[-3000:]
    assert "'tensorboard' failed" in warnings[0] + warnings[1] and "'wandb' failed" in warnings[0] + warnings[1]
    _, rows = tracked
    again = read_evals(out)
    assert again.drop(columns="wall_time_s").equals(rows.drop(columns="wall_time_s"))
