"""The one eval-row schema: what a line of `evals.jsonl` holds, how the runner builds the rows of an
evaluation, and how every reader turns the file back into a table.

A row describes one config at one evaluation. The README's results table lists `EVAL_COLUMNS` (a
test keeps them equal). Rows are JSON objects, one per line, appended and fsync'ed by the store as
each evaluation finishes; a reader skips a torn last line (a writer still appending, or a kill mid-
write) and refuses any other line that is not JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of the eval rows."""

    name: str
    kind: str
    """JSON type as the README states it: int, float, str, 'int or null'."""
    doc: str


EVAL_COLUMNS: tuple[Column, ...] = (
    Column("config_id", "int", "index of the config in the sweep's grid order (utd, batch_size, learning_rate, seed)"),
    Column("group", "int", "compiled group that trained it"),
    Column("suite", "str", "env suite: `jax`, `brax`, `dmc`, `plugin` or `reference`"),
    Column("env", "str", "registry name (or reference) of the env"),
    Column("algo", "str", "`sac`, `bro`, `pql` or a plug-in agent's name"),
    Column("utd", "float", "UTD ratio σ"),
    Column("batch_size", "int", "B"),
    Column("learning_rate", "float", "η"),
    Column("seed", "int", "RNG seed"),
    Column("env_step", "int", "env transitions collected by this config so far"),
    Column("grad_step", "int", "gradient updates applied to this config so far"),
    Column("return", "float or null", "mean undiscounted return of `eval_episodes` deterministic-policy episodes"),
    Column("wall_time_s", "float", "seconds since the sweep started"),
    Column(
        "model_size",
        "int",
        "model size N of the paper's compute law: the critics' parameter count (targets excluded; the "
        "paper's 1.5e5 for Gym SAC, 4.92e6 for DMC BRO), or a plug-in agent's `parameter_count` when it "
        "defines no `critic_parameter_count` (the manifest's `model_size` says which)",
    ),
    Column("model_size_total", "int", "parameter count of the whole agent, actor(s) + critics (targets excluded)"),
    Column(
        "diverged_at_env_step",
        "int or null",
        "env step at which the config produced a non-finite update or evaluation",
    ),
    Column("agent_options", "str", "the sweep's `[agent]` options as a JSON object (`{}`: the preset)"),
    Column("reset_env_steps", "list of int", "env steps at which the config's agent was reset so far (BRO)"),
    Column("return_low", "float", "raw return the fit maps to 0 (the env spec's)"),
    Column("return_high", "float", "raw return the fit maps to 1000 (the env spec's)"),
    Column("temperature", "float or null", "entropy temperature α at the evaluation (SAC, BRO); null for agents without one or when not finite"),
    Column(
        "td_error_train",
        "float or null",
        "the critic's TD loss on batches of B from the config's replay, no gradient step (null: the agent has no `td_error`)",
    ),
    Column(
        "td_error_validation",
        "float or null",
        "the same on its validation buffer, transitions it never trained on (null: no validation buffer)",
    ),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in EVAL_COLUMNS)
CURVE_COLUMNS: tuple[str, ...] = ("env", "utd", "batch_size", "learning_rate", "seed", "env_step", "return")
"""The columns a learning curve needs (a config's identity, the step and the return)."""
WALL_TIME_DECIMALS = 3


class RowsFileError(ValueError):
    """An eval-rows file holds a complete line that is not a JSON object (the file is damaged)."""


@dataclasses.dataclass(frozen=True)
class GroupRowConstants:
    """What every row of one group's evaluations shares: the group, its configs and the sweep's
    columns that do not change from one evaluation to the next."""

    group: int
    """Index of the compiled group in the plan."""
    runs: tuple
    """The group's `RunConfig`s, in the group's config order (one row each per evaluation)."""
    suite: str
    env: str
    algo: str
    model_size: int
    """The critics' parameter count N (or a plug-in's whole agent, see EVAL_COLUMNS)."""
    model_size_total: int
    """The whole agent's parameter count."""
    agent_options: str
    """The JSON text of the sweep's `[agent]` table."""
    return_bounds: tuple[float, float]
    """The env spec's (return_low, return_high), so `rlscale fit` normalizes any env's returns, a
    plug-in's or a reference's too."""


def evaluation_rows(
    group: GroupRowConstants,
    *,
    env_step: int,
    grad_steps: Sequence[int],
    returns: Sequence[float],
    wall_time_s: float,
    diverged_at_env_step: Sequence[int | None],
    reset_env_steps: Sequence[Sequence[int]],
    temperatures: Sequence[float | None] | None = None,
    td_errors: tuple[Sequence[float], Sequence[float]] | None = None,
) -> list[dict]:
    """The rows of one evaluation of `group`, one per config, in the group's config order.

    `grad_steps`, `returns`, `diverged_at_env_step` (None: the config has not diverged) and
    `reset_env_steps` have one entry per config; a non-finite return is written as null.
    `temperatures` has each config's entropy temperature α (None, or an entry None: the agent has
    none), `td_errors` = (train, validation) each config's TD errors (None: not measured); a
    non-finite α or TD error is written as null.
    """
    num_configs = len(group.runs)
    temperatures = temperatures if temperatures is not None else [None] * num_configs
    train_errors, validation_errors = td_errors if td_errors is not None else ([None] * num_configs,) * 2
    return [
        {
            "config_id": run.config_id,
            "group": group.group,
            "suite": group.suite,
            "env": group.env,
            "algo": group.algo,
            "utd": run.utd,
            "batch_size": run.batch_size,
            "learning_rate": run.learning_rate,
            "seed": run.seed,
            "env_step": int(env_step),
            "grad_step": int(steps),
            "return": float(episode_return) if math.isfinite(episode_return) else None,
            "wall_time_s": round(float(wall_time_s), WALL_TIME_DECIMALS),
            "model_size": int(group.model_size),
            "model_size_total": int(group.model_size_total),
            "diverged_at_env_step": None if diverged is None else int(diverged),
            "agent_options": group.agent_options,
            "reset_env_steps": [int(step) for step in resets],
            "return_low": float(group.return_bounds[0]),
            "return_high": float(group.return_bounds[1]),
            "temperature": _finite_or_none(temperature),
            "td_error_train": _finite_or_none(train_error),
            "td_error_validation": _finite_or_none(validation_error),
        }
        for run, steps, episode_return, diverged, resets, temperature, train_error, validation_error in zip(
            group.runs, grad_steps, returns, diverged_at_env_step, reset_env_steps, temperatures, train_errors,
            validation_errors,
        )
    ]


def _finite_or_none(value: float | None) -> float | None:
    """`value` as a float, or None when it is missing or not finite (JSON has no NaN)."""
    return float(value) if value is not None and math.isfinite(value) else None


def encode_rows(rows: Sequence[dict]) -> str:
    """The JSON-lines text of `rows` (each ends with a newline)."""
    return "".join(json.dumps(row) + "\n" for row in rows)


def complete_lines(data: bytes) -> list[bytes]:
    """The newline-terminated lines of `data`, without their newlines: a torn last line is dropped."""
    return data[: data.rfind(b"\n") + 1].splitlines()


def read_rows(path: str | os.PathLike) -> pd.DataFrame:
    """Every complete row of a JSON-lines eval file as a DataFrame (columns in file order; the schema's
    columns when the file has no row yet). A torn last line is ignored; blank lines are skipped.

    Raises:
        RowsFileError: a complete line is not a JSON object.
        OSError: the file cannot be read.
    """
    rows = []
    for number, line in enumerate(complete_lines(Path(path).read_bytes()), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise RowsFileError(f"{path}, line {number}: not valid JSON ({error})") from None
        if not isinstance(row, dict):
            raise RowsFileError(f"{path}, line {number}: a row must be a JSON object, got {type(row).__name__}")
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=list(COLUMN_NAMES))
    return pd.DataFrame.from_records(rows)


def diverged_env_steps(diverged_iteration: np.ndarray, num_envs: int) -> list[int | None]:
    """Per config, the env step of its first non-finite update (None: never), from the engine's
    i32[K] `diverged_iteration` (-1: never; iteration i collects env steps i*num_envs+1 ..
    (i+1)*num_envs)."""
    return [int(i + 1) * num_envs if i >= 0 else None for i in np.asarray(diverged_iteration)]
