"""Rebuild the study's run directory from the rows committed here, when the machine that ran it is gone.

    python fits/dmc_cartpole_bracketed/rebuild_run_directory.py runs/dmc_cartpole_bracketed

The grid and each finished extension round are committed as `<stage>/evals.parquet`. This replays the
study's own stages (`StudyRunner.run` up to the grid's extension) on a new directory, under the budget
each round was decided with, with one substitution: where the study would train a sweep, the committed
rows of that sweep are written instead, after checking that they are exactly the runs the study asks
for (every (σ, B, η, seed), every evaluation up to its env steps). So the rounds, their TOML files and
the extension's stop are the product's own decisions from the same rows; nothing is trained or edited
by hand. Then `rlscale study cartpole_swingup.toml --out DIR` continues with the study file's budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from rlscale.config import SweepConfig
from rlscale.run.rows import encode_rows, read_rows
from rlscale.run.store import EVALS_FILE, PARQUET_FILE
from rlscale.run.study_runner import StudyRunner, read_study

HERE = Path(__file__).parent
STUDY_FILE = HERE / "studies" / "cartpole_swingup.toml"
BUDGET_BEFORE_ROUND_3 = {"max_rounds": 2, "max_new_runs": 120}
"""The extension budget rounds 1 and 2 were decided under (raised to the study file's after round 2)."""
RUN_KEYS = ["utd", "batch_size", "learning_rate", "seed"]


def _json_value(value):
    """A Parquet cell as the JSON value the runner wrote (NaN and None as null)."""
    if isinstance(value, np.ndarray):
        return [_json_value(item) for item in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _check_runs(config: SweepConfig, rows: pd.DataFrame, source: Path) -> None:
    """Raise unless `rows` hold exactly the runs of `config`, each evaluated up to its env steps."""
    wanted = {(run.utd, run.batch_size, run.learning_rate, run.seed) for run in config.run_configs()}
    found = set(rows[RUN_KEYS].itertuples(index=False, name=None))
    if wanted != found:
        raise SystemExit(f"{source}: its runs are not the sweep the study asks for ({len(wanted ^ found)} differ)")
    evaluations = config.env_steps // config.eval_interval
    counts = rows.groupby(RUN_KEYS)["env_step"].agg(["count", "max"])
    if not ((counts["count"] == evaluations) & (counts["max"] == config.env_steps)).all():
        raise SystemExit(f"{source}: some runs stop before {config.env_steps} env steps")


class CommittedRowsRunner(StudyRunner):
    """The study's runner with each sweep replaced by the committed rows of that sweep."""

    def _sweep(self, config, directory: Path) -> None:
        source = HERE / directory.name / PARQUET_FILE
        table = pd.read_parquet(source)
        _check_runs(config, table, source)
        directory.mkdir(parents=True, exist_ok=True)
        records = [{key: _json_value(value) for key, value in row.items()} for row in table.to_dict("records")]
        (directory / EVALS_FILE).write_text(encode_rows(records))
        pd.testing.assert_frame_equal(read_rows(directory / EVALS_FILE), table, check_dtype=False)
        print(f"{directory.name}: {len(table)} committed rows of {len(config.run_configs())} runs", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the new run directory (must not exist)")
    out = parser.parse_args().out
    if out.exists():
        raise SystemExit(f"{out} exists; give a new directory")
    study = read_study(STUDY_FILE)
    before = dataclasses.replace(study, grid_extension=dataclasses.replace(study.grid_extension, **BUDGET_BEFORE_ROUND_3))
    CommittedRowsRunner(before, out).run(until="grid_extend")
    state = json.loads((out / "study_state.json").read_text())
    print(f"extension stopped: {state['grid_extension_stop']['reason']}")
    print(f"now: rlscale study {STUDY_FILE} --out {out}")


if __name__ == "__main__":
    main()
