"""The one eval-row schema (rlscale/run/rows.py): the README documents it, the runner builds it, and
one reader serves the store, `rlscale fit` and `rlscale plot`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rlscale.config import RunConfig
from rlscale.laws.table import FitInputError
from rlscale.run.rows import COLUMN_NAMES, EVAL_COLUMNS, GroupRowConstants, RowsFileError, evaluation_rows, read_rows
from rlscale.run.store import read_evals
from rlscale.run.tables import load_runs

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> list[dict]:
    runs = [RunConfig(0, 1.0, 32, 1e-3, 0), RunConfig(1, 2.0, 64, 3e-4, 1)]
    group = GroupRowConstants(
        group=0, runs=tuple(runs), suite="jax", env="pendulum", algo="sac", model_size=1234, model_size_total=2345,
        agent_options='{"reset_interval": 1000}', return_bounds=(-1226.7, -150.0),
    )
    return evaluation_rows(
        group, env_step=500, grad_steps=[400, 800], returns=[-900.5, float("nan")], wall_time_s=1.23456,
        diverged_at_env_step=[None, 300], reset_env_steps=[[], [250]],
    )


def test_readme_documents_exactly_the_schema():
    section = README.read_text().split("## Results: `evals.jsonl`")[1].split("\n## ")[0]
    table = re.findall(r"^\| `(\w+)` \| ([\w ]+) \| .+ \|$", section, flags=re.MULTILINE)
    assert table == [(column.name, column.kind) for column in EVAL_COLUMNS]


def test_evaluation_rows_follow_the_schema():
    rows = _rows()
    assert [tuple(row) for row in rows] == [COLUMN_NAMES] * 2
    assert rows[1]["diverged_at_env_step"] == 300 and rows[0]["diverged_at_env_step"] is None
    assert rows[0]["wall_time_s"] == 1.235 and rows[1]["grad_step"] == 800
    assert rows[0]["model_size"] == 1234 and rows[0]["model_size_total"] == 2345
    assert rows[0]["return"] == -900.5 and rows[1]["return"] is None  # a non-finite return is no number
    assert rows[1]["reset_env_steps"] == [250] and json.loads(rows[0]["agent_options"]) == {"reset_interval": 1000}


def test_one_reader_skips_a_torn_last_line_and_refuses_a_damaged_one(tmp_path):
    path = tmp_path / "evals.jsonl"
    text = "".join(json.dumps(row) + "\n" for row in _rows())
    path.write_text(text + '{"config_id": 0, "gro')
    frame = read_rows(path)
    assert list(frame.columns) == list(COLUMN_NAMES) and len(frame) == 2
    assert read_evals(tmp_path).equals(frame)
    assert load_runs(path)[list(COLUMN_NAMES)].astype(str).equals(frame.astype(str))

    path.write_text('{"config_id": 0}\nnot json\n' + text)
    with pytest.raises(RowsFileError, match="line 2: not valid JSON"):
        read_rows(path)
    with pytest.raises(FitInputError, match="line 2: not valid JSON"):
        load_runs(path)


def test_an_empty_file_reads_as_the_schema_with_no_rows(tmp_path):
    (tmp_path / "evals.jsonl").write_text("")
    frame = read_evals(tmp_path)
    assert list(frame.columns) == list(COLUMN_NAMES) and frame.empty
