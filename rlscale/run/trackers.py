"""Trackers: every config of a sweep as a TensorBoard run and/or a Weights & Biases run, fed the eval
rows as the runner writes them (host code only: the engine never sees a tracker).

`tracker = ["tensorboard", "wandb"]` in the sweep file (or `rlscale sweep --tracker ...`) opens them.
Each config is one run, named by `run_name` (config id, σ, B, η, seed, model size), whose points are
at step = `env_step`:

- scalars: every numeric metric column of a row (`metric_values`: `return`, `grad_step`,
  `temperature` (α), and any metric column rows gain, such as training and validation TD errors),
  and `updates_per_s`: the config's gradient updates per wall-clock second since its previous row
  in this process (its share of its group's rate);
- hyperparameters (`HPARAM_COLUMNS`: env, algo, σ, B, η, seed, model size, ...): TensorBoard's hparams
  view (a session start info per run; TensorBoard builds the table from them) and W&B's run config.

Layout: `OUT/tensorboard/<run>/events.out.tfevents.*` (view with `tensorboard --logdir
OUT/tensorboard`), and W&B's own layout under `OUT/wandb/` (one run per config, group = the sweep's
directory name unless WANDB_RUN_GROUP is set, project WANDB_PROJECT or "rlscale"; WANDB_MODE=offline
writes `OUT/wandb/offline-run-*` without network, `wandb sync` uploads them later).

Resume: a resumed sweep keeps the rows of its last checkpoint and regenerates the rest (run/runner.py);
the interrupted process's tracker may have written some of the regenerated rows, and may have lost
some of the kept ones (W&B buffers its records: a `kill -9` loses what it had not written). So the
trackers are first fed the kept rows of every unfinished config (`open_trackers`), then the new
rows. A TensorBoard run opened by a process starts with a session start event at its first step,
which makes TensorBoard drop that run's earlier points at and after that step (its purge of data
orphaned by a restart), so each step shows once, with the latest value. A W&B run keeps its id
(`wandb_run_id`) and is resumed: online, W&B ignores steps at or below the resumed run's last step;
offline, the tracker skips the rows at or below the last step that run's earlier offline runs hold,
so `wandb sync` (which syncs the offline runs of one id in order) gets each step once.

Failure: a tracker that raises (disk full, unwritable directory, a library error, W&B unreachable)
is stopped with one warning; the sweep and its rows in `evals.jsonl` go on (`Trackers`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

from rlscale.run.checkpoint import comparable_config
from rlscale.run.rows import complete_lines
from rlscale.run.store import EVALS_FILE
from rlscale.run.tracker_tables import wandb_offline_last_step

TENSORBOARD_DIRECTORY = "tensorboard"
WANDB_DIRECTORY = "wandb"
"""W&B writes `wandb/` under the directory it is given (OUT)."""
DEFAULT_WANDB_PROJECT = "rlscale"
HPARAM_COLUMNS = ("suite", "env", "algo", "utd", "batch_size", "learning_rate", "seed", "model_size", "return_low",
                  "return_high")
"""Row columns that describe a config (TensorBoard hparams, W&B config): its hyperparameters, and
what `rlscale fit` needs to read its runs back (suite, the env's return bounds)."""
NOT_METRICS = (*HPARAM_COLUMNS, "config_id", "group", "env_step", "wall_time_s", "diverged_at_env_step")
"""Numeric row columns that are not curves: identity, step, time and constants."""
UPDATES_PER_S = "updates_per_s"
SWEEP_KEY_LENGTH = 10
"""Hex digits of the sweep's digest in W&B run ids."""


def run_name(row: dict) -> str:
    """The tracker run of a row's config, e.g. `c0003_utd0.5_bs32_lr0.001_seed1_n5634`."""
    return (
        f"c{row['config_id']:04d}_utd{row['utd']:g}_bs{row['batch_size']}_lr{row['learning_rate']:g}"
        f"_seed{row['seed']}_n{row['model_size']}"
    )


def metric_values(row: dict) -> dict[str, float]:
    """Every finite numeric value of a row's metric columns (not bool, not in `NOT_METRICS`)."""
    return {
        name: float(value)
        for name, value in row.items()
        if name not in NOT_METRICS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    }


def hparam_values(row: dict) -> dict[str, float | int | str]:
    """A row's hyperparameters (`HPARAM_COLUMNS` present in it)."""
    return {name: row[name] for name in HPARAM_COLUMNS if name in row}


class _UpdateRates:
    """Each config's gradient updates per wall-clock second between its consecutive rows."""

    def __init__(self):
        self.previous: dict[int, tuple[int, float]] = {}

    def __call__(self, row: dict) -> dict[str, float]:
        """{UPDATES_PER_S: rate} once the config has an earlier row in this process, else {}."""
        previous = self.previous.get(row["config_id"])
        self.previous[row["config_id"]] = (row["grad_step"], row["wall_time_s"])
        if previous is None or row["wall_time_s"] <= previous[1]:
            return {}
        return {UPDATES_PER_S: (row["grad_step"] - previous[0]) / (row["wall_time_s"] - previous[1])}


class TensorBoardTracker:
    """One TensorBoard run per config under `OUT/tensorboard/`, written with TensorBoard's own event
    file writer (no TensorFlow), which raises a failed write in this thread; flushed after every
    evaluation, so a live `tensorboard` sees it."""

    def __init__(self, out_dir: Path, final_env_step: int):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer_class = EventFileWriter
        self.root = Path(out_dir) / TENSORBOARD_DIRECTORY
        self.final_env_step = final_env_step
        self.writers: dict[int, object] = {}
        self.rates = _UpdateRates()

    def log(self, rows: list[dict]) -> None:
        last_steps = {}
        for row in rows:
            writer = self.writers.get(row["config_id"]) or self._open(row)
            writer.add_event(_tensorboard_event(row["env_step"], _scalars_summary({**metric_values(row), **self.rates(row)})))
            last_steps[row["config_id"]] = row["env_step"]
        for config_id, step in last_steps.items():
            writer = self.writers[config_id]
            if step >= self.final_env_step:
                writer.add_event(_tensorboard_event(step, _session_end_summary()))
                writer.close()
                del self.writers[config_id]
            else:
                writer.flush()

    def close(self) -> None:
        writers, self.writers = self.writers, {}
        for writer in writers.values():
            writer.close()

    def _open(self, row: dict):
        """The config's writer: a new event file in its run directory, starting with a session start
        at this step (TensorBoard then drops the run's earlier points from this step on) and the
        config's hyperparameters (the hparams plugin's session start info)."""
        from tensorboard.compat.proto import event_pb2
        from tensorboard.plugins.hparams import summary_v2

        writer = self._writer_class(str(self.root / run_name(row)))
        step = row["env_step"]
        session_start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
        writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, session_log=session_start))
        writer.add_event(_tensorboard_event(step, summary_v2.hparams_pb(hparam_values(row), trial_id=run_name(row))))
        self.writers[row["config_id"]] = writer
        return writer


def _tensorboard_event(step: int, summary):
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def _scalars_summary(values: dict[str, float]):
    """A summary of scalars (`simple_value`, which every TensorBoard reader takes as a scalar)."""
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()])


def _session_end_summary():
    """The hparams plugin's session end info (status: success) as a summary."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS, end_time_secs=time.time())
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=metadata.SESSION_END_INFO_TAG,
        metadata=metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(session_end_info=end)),
        tensor=metadata.NULL_TENSOR,
    )
    return summary


def sweep_key(config, out_dir: Path) -> str:
    """A digest of the sweep (its resumable-insensitive config and resolved directory): W&B run ids
    of one sweep share it, so a resumed sweep resumes its runs and another sweep never does."""
    text = json.dumps([str(Path(out_dir).resolve()), comparable_config(config)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:SWEEP_KEY_LENGTH]


def wandb_run_id(key: str, config_id: int) -> str:
    """The W&B run id of config `config_id` of the sweep with `sweep_key` `key`."""
    return f"rlscale-{key}-c{config_id}"


class WandbTracker:
    """One W&B run per config (group = the sweep, config = its hyperparameters), started at the
    config's first row and finished at its last."""

    def __init__(self, out_dir: Path, final_env_step: int, key: str):
        import wandb

        self._wandb = wandb
        self.out_dir = Path(out_dir)
        self.final_env_step = final_env_step
        self.key = key
        self.group = os.environ.get("WANDB_RUN_GROUP") or self.out_dir.resolve().name
        self.runs: dict[int, tuple[object, int]] = {}
        """config id -> (its W&B run, the last step already logged by an earlier process)."""
        self.rates = _UpdateRates()

    def log(self, rows: list[dict]) -> None:
        for row in rows:
            run, logged_through = self.runs.get(row["config_id"]) or self._open(row)
            values = {**metric_values(row), **self.rates(row)}
            if row["env_step"] > logged_through:
                run.log(values, step=row["env_step"])
            if row["env_step"] >= self.final_env_step:
                run.finish()
                del self.runs[row["config_id"]]

    def close(self) -> None:
        runs, self.runs = self.runs, {}
        for run, _ in runs.values():
            run.finish()

    def _open(self, row: dict):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        run_id = wandb_run_id(self.key, row["config_id"])
        run = self._wandb.init(
            project=os.environ.get("WANDB_PROJECT") or DEFAULT_WANDB_PROJECT,
            group=self.group,
            name=run_name(row),
            id=run_id,
            config={**hparam_values(row), "config_id": row["config_id"], "run_dir": str(self.out_dir.resolve())},
            dir=str(self.out_dir),
            resume="allow",
            reinit="create_new",
            settings=self._wandb.Settings(
                console="off", silent=True, disable_git=True, save_code=False, x_disable_stats=True, disable_job_creation=True
            ),
        )
        earlier = wandb_offline_last_step(self.out_dir / WANDB_DIRECTORY, run_id, exclude=Path(run.dir).parent)
        logged_through = max(earlier, run.starting_step - 1 if run.resumed else -1)
        self.runs[row["config_id"]] = (run, logged_through)
        return self.runs[row["config_id"]]


def print_warning(message: str) -> None:
    print(f"rlscale: warning: {message}", file=sys.stderr, flush=True)


class Trackers:
    """A sweep's trackers behind one guard: a tracker that raises (opening, logging or closing) is
    stopped with one warning and the others, the sweep and its rows go on."""

    def __init__(self, warn=print_warning):
        self.active: dict[str, object] = {}
        self.warn = warn
        self.last_env_step: dict[str, int] = {}

    def open(self, name: str, opener) -> None:
        """Add the tracker `opener()` returns as `name` (reported and left out when it raises)."""
        try:
            self.active[name] = opener()
        # A tracker's library may raise anything (OSError, wandb's errors, protobuf's); none may
        # stop the sweep.
        except Exception as error:  # noqa: BLE001
            self._report(name, error)

    def log(self, rows: list[dict]) -> None:
        for name, tracker in list(self.active.items()):
            try:
                tracker.log(rows)
                self.last_env_step[name] = max(row["env_step"] for row in rows)
            except Exception as error:  # noqa: BLE001 (as in open)
                self._stop(name, error)

    def close(self) -> None:
        for name, tracker in list(self.active.items()):
            try:
                tracker.close()
            except Exception as error:  # noqa: BLE001 (as in open)
                self._report(name, error)
        self.active.clear()

    def _stop(self, name: str, error: Exception) -> None:
        tracker = self.active.pop(name)
        self._report(name, error)
        try:
            tracker.close()
        except Exception:  # noqa: BLE001 (it failed already and was reported once)
            pass

    def _report(self, name: str, error: Exception) -> None:
        logged = self.last_env_step.get(name)
        self.warn(
            f"tracker {name!r} failed and is stopped ({type(error).__name__}: {error}); the sweep goes on and "
            f"every row is in evals.jsonl"
            + (f" (the tracker holds rows up to env step {logged})" if logged is not None else "")
        )


def open_trackers(config, out_dir: str | os.PathLike, warn=print_warning) -> Trackers:
    """The trackers `config.tracker` names, for the sweep in `out_dir`, fed the rows `out_dir`
    already holds of configs that have not finished (`unfinished_rows`): the rows of a resumed
    sweep's checkpointed state, which the runner does not regenerate, so that each run holds its
    whole curve whatever the interrupted process's tracker had written."""
    out_dir = Path(out_dir)
    openers = {
        "tensorboard": lambda: TensorBoardTracker(out_dir, config.env_steps),
        "wandb": lambda: WandbTracker(out_dir, config.env_steps, sweep_key(config, out_dir)),
    }
    trackers = Trackers(warn)
    for name in config.tracker:
        trackers.open(name, openers[name])
    if trackers.active:
        earlier = unfinished_rows(out_dir, config.env_steps)
        if earlier:
            trackers.log(earlier)
    return trackers


def unfinished_rows(out_dir: Path, final_env_step: int) -> list[dict]:
    """The rows in `out_dir/evals.jsonl` of configs whose last row is before `final_env_step`, in
    file order (a torn last line is left out)."""
    path = Path(out_dir) / EVALS_FILE
    if not path.exists():
        return []
    rows = [json.loads(line) for line in complete_lines(path.read_bytes()) if line.strip()]
    finished = {row["config_id"] for row in rows if row["env_step"] >= final_env_step}
    return [row for row in rows if row["config_id"] not in finished]
