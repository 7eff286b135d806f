"""Runs logged by trackers, read as rlscale's long-form table: TensorBoard log directories, W&B offline
run directories, and W&B CSV exports (a run's history, or a panel's "Export CSV").

Each source gives runs: a name, hyperparameters (TensorBoard's hparams, W&B's run config) and a
history (one row per logged step, one column per tag or metric). A `ColumnMapping` says where each
field of the table comes from (`FIELDS`); by default a field takes the first of its
`DEFAULT_NAMES` that a run has, which covers rlscale's own trackers (run/trackers.py) and what Brax's
and MuJoCo Playground's training scripts log (their `progress_fn` metrics, e.g.
`eval/episode_reward` at step = env steps, through tensorboardX's `SummaryWriter` or `wandb.log`).
Hyperparameters of runs made elsewhere come from their hparams or config, from their names
(`run_name_pattern`, a regular expression with named groups), or from constants.
"""

from __future__ import annotations

import dataclasses
import json
import re
import struct
import zlib
from pathlib import Path

import pandas as pd

from rlscale.laws.table import FitInputError

TENSORBOARD_EVENTS = "events.out.tfevents.*"
WANDB_RUN_FILE = "*.wandb"
STEP = "step"
"""The name of a run's logged step (TensorBoard's step, W&B's `_step`, a CSV export's Step)."""
FIELDS = ("suite", "env", "utd", "batch_size", "learning_rate", "seed", "env_step", "return",
          "model_size", "return_low", "return_high")
OPTIONAL_FIELDS = ("model_size", "return_low", "return_high")
NUMERIC_FIELDS = ("utd", "batch_size", "learning_rate", "seed", "env_step", "return", "model_size", "return_low", "return_high")
INTEGER_FIELDS = ("batch_size", "seed", "env_step", "model_size")
"""Integers in rlscale's rows; TensorBoard's hparams hold every number as a float."""
DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "suite": ("suite",),
    "env": ("env", "env_name"),
    "utd": ("utd",),
    "batch_size": ("batch_size",),
    "learning_rate": ("learning_rate",),
    "seed": ("seed",),
    "env_step": (STEP,),
    "return": ("return", "eval/episode_reward"),
    "model_size": ("model_size",),
    "return_low": ("return_low",),
    "return_high": ("return_high",),
}
"""Where a field comes from when the mapping does not say: rlscale's names, then Brax's and
Playground's (`env_name` is Playground's W&B config key; `eval/episode_reward` Brax's progress_fn
metric)."""
RLSCALE_RUN_NAME = (
    r"c\d+_utd(?P<utd>[^_]+)_bs(?P<batch_size>\d+)_lr(?P<learning_rate>[^_]+)_seed(?P<seed>\d+)_n(?P<model_size>\d+)$"
)
"""Fields from the names of rlscale's tracker runs (run/trackers.run_name), used when no
`run_name_pattern` is given (a panel's CSV export keeps only the run names)."""
WANDB_STEP_COLUMNS = ("_step", "Step")
WANDB_RUN_COLUMNS = ("run", "name", "Name", "run_name", "id", "run_id")
"""Columns naming the run of a long W&B history CSV (the first present is used)."""
WIDE_SEPARATOR = " - "
WIDE_SUFFIXES = ("__MIN", "__MAX")
"""A panel's CSV export: columns `<run> - <metric>` and their `__MIN`/`__MAX` bands."""

# The LevelDB log framing of W&B's `.wandb` run files: a 7-byte file header (":W&B", magic, version),
# then 32 KiB blocks of records, each a 7-byte header (CRC-32, length, type) and a chunk; a record
# that does not fit a block is split into FIRST, MIDDLE..., LAST chunks. Each record is a
# `wandb.proto.wandb_internal_pb2.Record`.
WANDB_FILE_IDENT = b":W&B"
WANDB_FILE_HEADER = struct.Struct("<4sHB")
WANDB_BLOCK_BYTES = 32768
WANDB_RECORD_HEADER = struct.Struct("<IHB")
WANDB_FULL, WANDB_FIRST, WANDB_MIDDLE, WANDB_LAST = 1, 2, 3, 4


@dataclasses.dataclass(frozen=True)
class ColumnMapping:
    """Where each field of the table (`FIELDS`) comes from, for runs logged by a tracker."""

    columns: dict[str, str] = dataclasses.field(default_factory=dict)
    """field -> name: a tag or history column (a value per point), a hyperparameter or config key,
    or a group of `run_name_pattern` (a value per run); `step` is the logged step."""
    constants: dict[str, str] = dataclasses.field(default_factory=dict)
    """field -> one value for every run (e.g. env, suite, or a hyperparameter every run shares)."""
    run_name_pattern: str | None = None
    """A regular expression searched in each run's name; its named groups give fields (default:
    the names of rlscale's tracker runs)."""

    def check(self) -> None:
        """FitInputError naming an unknown field or a pattern that does not compile."""
        for option, fields in (("--columns", self.columns), ("--constant", self.constants)):
            unknown = [field for field in fields if field not in FIELDS]
            if unknown:
                raise FitInputError(f"{option}: unknown field(s) {unknown}; the fields are {', '.join(FIELDS)}")
        try:
            pattern = re.compile(self.run_name_pattern or RLSCALE_RUN_NAME)
        except re.error as error:
            raise FitInputError(f"--run-name-pattern {self.run_name_pattern!r} is not a regular expression: {error}") from None
        unknown = [group for group in pattern.groupindex if group not in FIELDS]
        if unknown:
            raise FitInputError(f"--run-name-pattern: unknown group(s) {unknown}; groups must be fields: {', '.join(FIELDS)}")


@dataclasses.dataclass
class LoggedRun:
    """One run as a tracker logged it."""

    name: str
    values: dict[str, object]
    """Hyperparameters / config (one value for the run)."""
    history: pd.DataFrame
    """One row per logged step: column `step` and one column per tag or metric (NaN where a tag was
    not logged at that step)."""


def tracker_files(root: Path) -> list[Path]:
    """TensorBoard event files under `root`, else W&B `.wandb` run files, else []."""
    events = sorted(root.rglob(TENSORBOARD_EVENTS))
    return events or sorted(root.rglob(WANDB_RUN_FILE))


def is_tracker_file(path: Path) -> bool:
    """A TensorBoard event file or a W&B run file."""
    return Path(path).match(TENSORBOARD_EVENTS) or Path(path).name.endswith(".wandb")


def read_tracker_directory(root: Path, mapping: ColumnMapping) -> pd.DataFrame:
    """The long-form table of the TensorBoard log directory or W&B offline runs under `root`."""
    files = tracker_files(root)
    if files and files[0].name.endswith(".wandb"):
        return runs_table(read_wandb_offline(root), mapping, f"W&B offline runs under {root}")
    return runs_table(read_tensorboard(root), mapping, f"TensorBoard log directory {root}")


# ---- TensorBoard -------------------------------------------------------------------------------


def read_tensorboard(root: Path) -> list[LoggedRun]:
    """Every run of a TensorBoard log directory (a directory holding event files, named by its path
    under `root`), read with TensorBoard's own event accumulator: scalar tags (TF1 `simple_value`
    and TF2 scalar summaries alike), with TensorBoard's purge of points orphaned by a restart, and
    the hparams plugin's session start info as the run's values."""
    try:
        from tensorboard.backend.event_processing import plugin_event_accumulator
        from tensorboard.plugins.hparams import metadata
        from tensorboard.util import tensor_util
    except ImportError:
        raise FitInputError(f"{root} is a TensorBoard log directory; reading it needs pip install 'rlscale[tensorboard]'") from None
    runs = []
    for directory in sorted({file.parent for file in root.rglob(TENSORBOARD_EVENTS)}):
        accumulator = plugin_event_accumulator.EventAccumulator(str(directory), size_guidance={plugin_event_accumulator.TENSORS: 0})
        try:
            accumulator.Reload()
        except Exception as error:  # noqa: BLE001 (TensorBoard raises many types for damaged files)
            raise FitInputError(f"cannot read the TensorBoard events in {directory}: {error}") from None
        columns = {}
        for tag in accumulator.Tags()[plugin_event_accumulator.TENSORS]:
            if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
                continue
            points = {event.step: float(tensor_util.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)}
            columns[tag] = pd.Series(points, dtype=float)
        values = {}
        if metadata.PLUGIN_NAME in accumulator.ActivePlugins():
            content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME).get(metadata.SESSION_START_INFO_TAG)
            hparams = metadata.parse_session_start_info_plugin_data(content).hparams if content is not None else {}
            values = {name: getattr(value, value.WhichOneof("kind")) for name, value in hparams.items()}
        history = pd.DataFrame(columns).sort_index().rename_axis(STEP).reset_index()
        runs.append(LoggedRun(str(directory.relative_to(root)) if directory != root else directory.name, values, history))
    return runs


# ---- W&B offline runs --------------------------------------------------------------------------


def wandb_records(path: Path):
    """The `Record` protos of a `.wandb` run file, in order; a torn last record (a writer killed
    mid-write) ends the file. FitInputError when the file is not a W&B run file or is damaged."""
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    if len(data) < WANDB_FILE_HEADER.size or WANDB_FILE_HEADER.unpack_from(data)[0] != WANDB_FILE_IDENT:
        raise FitInputError(f"{path} is not a W&B run file")
    position, pending = WANDB_FILE_HEADER.size, b""
    while True:
        block_left = WANDB_BLOCK_BYTES - position % WANDB_BLOCK_BYTES
        if block_left < WANDB_RECORD_HEADER.size:
            position += block_left  # a block's tail too short for a header is padding
            continue
        if position + WANDB_RECORD_HEADER.size > len(data):
            return
        checksum, length, kind = WANDB_RECORD_HEADER.unpack_from(data, position)
        start = position + WANDB_RECORD_HEADER.size
        if start + length > len(data):
            return
        chunk = data[start : start + length]
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != checksum:
            if start + length == len(data):
                return
            raise FitInputError(f"{path} is damaged: a record at byte {position} fails its checksum")
        position = start + length
        pending = chunk if kind in (WANDB_FULL, WANDB_FIRST) else pending + chunk
        if kind in (WANDB_FULL, WANDB_LAST):
            yield wandb_internal_pb2.Record.FromString(pending)


def _wandb_key(item) -> str:
    return ".".join(item.nested_key) if item.nested_key else item.key


def _wandb_file(path: Path) -> tuple[str, str, float, dict, dict[int, dict]]:
    """(run id, display name, start time, config, {step: logged values}) of one `.wandb` file."""
    run_id, name, start, config, history = "", "", 0.0, {}, {}
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run_id, name = record.run.run_id, record.run.display_name or record.run.run_id
            start = record.run.start_time.ToSeconds()
            config.update({item.key: json.loads(item.value_json) for item in record.run.config.update})
        elif kind == "config":
            config.update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            values = {_wandb_key(item): json.loads(item.value_json) for item in record.history.item}
            step = int(values.get("_step", record.history.step.num))
            history[step] = values
    return run_id, name, start, config, history


def read_wandb_offline(root: Path) -> list[LoggedRun]:
    """Every run of the `.wandb` files under `root` (W&B offline run directories). The files of one
    run id (a resumed run) are read in start order and a step keeps its first value, as W&B keeps
    the first when a resumed run logs a step again. A file without a run record is empty."""
    try:
        import wandb.proto.wandb_internal_pb2  # noqa: F401 (the record format)
    except ImportError:
        raise FitInputError(f"{root} holds W&B runs; reading them needs pip install 'rlscale[wandb]'") from None
    files = sorted((_wandb_file(path) for path in sorted(root.rglob(WANDB_RUN_FILE))), key=lambda item: item[2])
    merged: dict[str, LoggedRun] = {}
    for run_id, name, _, config, history in files:
        if not run_id:
            continue  # nothing of the run was written (a process killed before W&B wrote its records)
        run = merged.setdefault(run_id, LoggedRun(name, {}, pd.DataFrame()))
        run.values = {**config, **run.values}
        points = pd.DataFrame.from_dict(history, orient="index")
        run.history = pd.concat([run.history, points[~points.index.isin(run.history.index)]])
    for run in merged.values():
        numeric = run.history.drop(columns=[column for column in run.history if column.startswith("_")])
        run.history = numeric.sort_index().rename_axis(STEP).reset_index()
        run.values = {key: value for key, value in run.values.items() if not key.startswith("_")}
    return list(merged.values())


def wandb_offline_last_step(wandb_dir: Path, run_id: str, exclude: Path | None = None) -> int:
    """The last step the offline runs of `run_id` under `wandb_dir` hold (-1: none), leaving out the
    run directory `exclude` (the run being written)."""
    last = -1
    for path in Path(wandb_dir).glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"):
        if exclude is not None and path.parent.resolve() == Path(exclude).resolve():
            continue
        _, _, _, _, history = _wandb_file(path)
        last = max([last, *history])
    return last


# ---- W&B CSV exports ---------------------------------------------------------------------------


def is_wandb_export(frame: pd.DataFrame) -> bool:
    """A W&B history CSV (a `_step` or `Step` column) or a panel's export (`<run> - <metric>`)."""
    return any(column in frame.columns for column in WANDB_STEP_COLUMNS) or any(WIDE_SEPARATOR in str(column) for column in frame.columns)


def read_wandb_export(frame: pd.DataFrame) -> list[LoggedRun]:
    """The runs of a W&B CSV export: a panel's wide export (`Step`, `<run> - <metric>`, its
    `__MIN`/`__MAX` bands, which are left out), or a long history (one row per run and step, the
    step in `_step` or `Step`, the run named by the first of `WANDB_RUN_COLUMNS` present; any long
    table of another trainer reads the same way, its step column named with --columns)."""
    step_column = next((column for column in WANDB_STEP_COLUMNS if column in frame.columns), None)
    wide = [str(column) for column in frame.columns if WIDE_SEPARATOR in str(column) and not str(column).endswith(WIDE_SUFFIXES)]
    if wide and step_column is not None:
        by_run: dict[str, dict[str, object]] = {}
        for column in wide:
            run, metric = column.rsplit(WIDE_SEPARATOR, 1)
            by_run.setdefault(run, {})[metric] = frame[column].to_numpy()
        return [
            LoggedRun(run, {}, pd.DataFrame({STEP: frame[step_column].to_numpy(), **metrics}))
            for run, metrics in by_run.items()
        ]
    history = frame.rename(columns={step_column: STEP}) if step_column is not None else frame
    run_column = next((column for column in WANDB_RUN_COLUMNS if column in frame.columns), None)
    if run_column is None:
        return [LoggedRun("", {}, history.reset_index(drop=True))]
    return [LoggedRun(str(name), {}, part.reset_index(drop=True)) for name, part in history.groupby(run_column, sort=True)]


# ---- runs -> table -----------------------------------------------------------------------------


def runs_table(runs: list[LoggedRun], mapping: ColumnMapping, source: str) -> pd.DataFrame:
    """The long-form table of `runs` (columns `FIELDS` found, one row per logged step with a return).
    Each field comes from, in order: the mapping's constant; its `columns` name (a tag or history
    column, a hyperparameter or config key, or a group of the run-name pattern); a group of that
    field in the given `run_name_pattern`; the first of its `DEFAULT_NAMES` the run has; a group of
    that field in rlscale's own run names (`RLSCALE_RUN_NAME`). Numeric fields are converted to
    numbers where they all are.

    Raises:
        FitInputError: no runs, or a run without some required field (naming the run, the field, the
            names looked for and the names the run has).
    """
    mapping.check()
    if not runs:
        raise FitInputError(f"{source}: no runs found")
    pattern = re.compile(mapping.run_name_pattern or RLSCALE_RUN_NAME)
    frames = []
    for run in runs:
        match = pattern.search(run.name)
        groups = {key: value for key, value in (match.groupdict() if match else {}).items() if value is not None}
        table = pd.DataFrame(index=run.history.index)
        for field in FIELDS:
            value = _field(run, field, mapping, groups)
            if value is None:
                if field in OPTIONAL_FIELDS:
                    continue
                raise FitInputError(_missing_message(run, field, mapping, source))
            table[field] = value
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table = table[pd.to_numeric(table["return"], errors="coerce").notna()].reset_index(drop=True)
    for field in NUMERIC_FIELDS:
        if field in table.columns:
            try:
                table[field] = pd.to_numeric(table[field])
            except (TypeError, ValueError):
                continue  # left as logged: the fit's table check names the values that are not numbers
            if field in INTEGER_FIELDS and (table[field] % 1 == 0).all():
                table[field] = table[field].astype("int64")
    return table


def _field(run: LoggedRun, field: str, mapping: ColumnMapping, groups: dict[str, str]):
    """A field's values for `run` (a Series over its history, or one value), or None."""
    if field in mapping.constants:
        return mapping.constants[field]
    if field in mapping.columns:
        return _lookup(run, mapping.columns[field], groups)
    if mapping.run_name_pattern is not None and field in groups:
        return groups[field]
    for name in DEFAULT_NAMES[field]:
        value = _lookup(run, name, {})
        if value is not None:
            return value
    return groups.get(field)


def _lookup(run: LoggedRun, name: str, groups: dict[str, str]):
    if name in run.history.columns:
        return run.history[name]
    if name in run.values:
        return run.values[name]
    return groups.get(name)


def _missing_message(run: LoggedRun, field: str, mapping: ColumnMapping, source: str) -> str:
    looked_for = [mapping.columns[field]] if field in mapping.columns else list(DEFAULT_NAMES[field])
    tags = [name for name in run.history.columns if name != STEP]
    return (
        f"{source}: run {run.name!r} has no {field} (looked for {', '.join(map(repr, looked_for))}"
        f"{'' if field in mapping.columns else ' and a run-name group ' + repr(field)}); its tags/columns: "
        f"{', '.join(map(str, tags)) or 'none'}; its hyperparameters: {', '.join(map(str, run.values)) or 'none'}. "
        f"Name where it comes from with --columns {field}=NAME, --constant {field}=VALUE or --run-name-pattern"
    )


def parse_assignments(items: list[str], option: str) -> dict[str, str]:
    """['env=cheetah', 'return=eval/episode_reward'] -> {'env': 'cheetah', ...} (FitInputError on an
    item without '=')."""
    assignments = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key.strip() or not value:
            raise FitInputError(f"{option} expects FIELD=VALUE, got {item!r}")
        assignments[key.strip()] = value
    return assignments

