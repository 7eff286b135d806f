"""The TD-overfitting summary and figure from rows (rlscale/laws/td_overfitting.py, laws/plots.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws.plots import td_overfitting
from rlscale.laws.table import validate_table
from rlscale.laws.td_overfitting import has_td_errors, td_error_summary

EVALUATIONS = 20  # the last 10%: the last 2


def _rows() -> pd.DataFrame:
    """Two model sizes x two B x two seeds, 20 evaluations; the TD errors are known functions of
    (size, B, seed, step), the validation one null at the first evaluation."""
    records = []
    for model_size in (1_000, 4_000):
        for batch_size in (32, 128):
            for seed in (0, 1):
                for index in range(EVALUATIONS):
                    step = (index + 1) * 100
                    records.append(dict(
                        suite="jax", env="pendulum", algo="sac", utd=1.0, learning_rate=1e-3, seed=seed,
                        batch_size=batch_size, model_size=model_size, env_step=step, **{"return": -500.0 + index},
                        td_error_train=batch_size / model_size + step + seed,
                        td_error_validation=None if index == 0 else model_size / batch_size + 2 * step + seed,
                    ))
    return pd.DataFrame.from_records(records).sample(frac=1.0, random_state=0)  # in no particular order


def test_summary_is_the_mean_of_the_last_tenth_of_evaluations_and_of_seeds():
    summary = td_error_summary(_rows()).set_index(["model_size", "batch_size"])
    assert len(summary) == 4 and (summary["seeds"] == 2).all()
    last_steps = np.mean([1900.0, 2000.0])
    for (model_size, batch_size), row in summary.iterrows():
        assert row["td_error_train"] == pytest.approx(batch_size / model_size + last_steps + 0.5)
        assert row["td_error_validation"] == pytest.approx(model_size / batch_size + 2 * last_steps + 0.5)


def test_figure_has_both_panels_per_setting_and_a_line_per_model_size():
    rows = _rows()
    second = rows.assign(utd=2.0)
    figure = td_overfitting(pd.concat([rows, second]))
    axes = figure.axes
    assert len(axes) == 4  # (σ = 1, σ = 2) x (training, validation)
    for axis in axes:
        assert len(axis.get_lines()) == 2 and axis.get_xscale() == "log"
        assert [label.get_text() for label in axis.get_xticklabels()] == ["32", "128"]


def test_tables_without_td_errors_are_recognised_and_the_fit_ignores_the_columns():
    rows = _rows()
    assert has_td_errors(rows)
    assert not has_td_errors(rows.drop(columns=["td_error_train", "td_error_validation"]))
    assert not has_td_errors(rows.assign(td_error_train=None, td_error_validation=None))
    assert "td_error_train" not in validate_table(rows, min_utds=1).columns
