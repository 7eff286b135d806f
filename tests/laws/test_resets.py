"""Post-reset dips (rlscale/laws/resets.py): dropped before the isotonic step, as qscaled's
filter_out_resets, from the table's reset_env_steps column or a schedule given to the fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import FitInputError, ResetSchedule, build_config_curves, reset_keep_mask, times_to_threshold, validate_table

STEPS = [1000 * k for k in range(1, 11)]
# A reset at 4,500 env steps: the return dips from 520 to 100 and climbs back past 520 at 8,000.
DIPPED = [100.0, 200.0, 300.0, 520.0, 100.0, 150.0, 510.0, 600.0, 700.0, 800.0]


def _table(**extra) -> pd.DataFrame:
    rows = [
        {"suite": "dmc", "env": "e", "utd": utd, "batch_size": 64, "learning_rate": 1e-3, "seed": seed,
         "env_step": step, "return": value + seed, **extra}
        for utd in (1.0, 2.0)
        for seed in (0, 1)
        for step, value in zip(STEPS, DIPPED)
    ]
    return pd.DataFrame(rows)


def _d500(table: pd.DataFrame, resets: ResetSchedule = ResetSchedule()) -> float:
    curves = build_config_curves(validate_table(table), resets=resets)
    return float(times_to_threshold(curves, np.array([500.0]), 2, np.random.default_rng(0)).point[0, 0])


def test_the_dip_delays_the_crossing_without_the_filter():
    # Isotonic regression pools 520 with the dip: the seed mean first reaches 500 at 7,000.
    assert _d500(_table()) == 7000.0


def test_the_reset_column_drops_the_dip():
    table = _table()
    table["reset_env_steps"] = [[4500]] * len(table)
    assert _d500(table) == 4000.0
    curves = build_config_curves(validate_table(table))
    assert curves.steps[0].tolist() == [1000, 2000, 3000, 4000, 8000, 9000, 10000]
    assert curves.configs["n_resets"].tolist() == [1, 1] and curves.configs["n_dropped_after_resets"].tolist() == [3, 3]


def test_the_column_as_csv_text_and_rows_that_list_resets_so_far():
    table = _table()
    # Rows before the reset list none yet, later rows list it: the config's resets are the union.
    table["reset_env_steps"] = np.where(table["env_step"] < 4500, "[]", "[4500]")
    assert _d500(table) == 4000.0


def test_a_schedule_for_tables_without_the_column():
    assert _d500(_table(), ResetSchedule(env_steps=(4500,))) == 4000.0
    # qscaled's reset_freq in gradient steps: at σ = 1, every 4,500 gradient steps is env step 4,500 (then 9,000).
    assert _d500(_table(), ResetSchedule(every_grad_steps=4500.0)) == 4000.0
    schedule = ResetSchedule(every_grad_steps=9000.0)
    np.testing.assert_array_equal(schedule.for_config(2.0, 10_000), [4500, 9000])
    np.testing.assert_array_equal(schedule.for_config(1.0, 10_000), [9000])


def test_window_and_recovery_rules():
    steps = np.array(STEPS)
    curves = np.array([DIPPED, DIPPED])
    keep = reset_keep_mask(steps, curves, np.array([4500]))
    assert keep.tolist() == [True] * 4 + [False] * 3 + [True] * 3
    # An evaluation logged at the reset step itself counts as before it.
    assert reset_keep_mask(steps, curves, np.array([4000])).tolist()[:4] == [True] * 4
    # window=4 also drops the first recovered evaluation (8,000).
    assert reset_keep_mask(steps, curves, np.array([4500]), window=4).tolist() == [True] * 4 + [False] * 4 + [True] * 2
    # "overlap": mean + stderr reaches the pre-reset mean − its stderr (here the seeds differ by 20).
    spread = np.array([np.array(DIPPED) - 10.0, np.array(DIPPED) + 10.0])
    overlap = reset_keep_mask(steps, spread, np.array([4500]), recovery="overlap")
    assert overlap.tolist() == [True] * 4 + [False] * 2 + [True] * 4  # 510 + 7.07 >= 520 - 7.07
    # A curve that never recovers keeps only what came before the reset.
    never = reset_keep_mask(steps, np.array([[100.0] * 3 + [900.0] + [100.0] * 6]), np.array([4500]))
    assert never.tolist() == [True] * 4 + [False] * 6


def test_bad_reset_input_is_named():
    table = _table(reset_env_steps="[4500, -3]")
    with pytest.raises(FitInputError, match="column 'reset_env_steps' must hold lists of env steps"):
        validate_table(table)
    with pytest.raises(FitInputError, match="reset recovery must be one of mean, overlap"):
        ResetSchedule(recovery="median")
    with pytest.raises(FitInputError, match="reset window must be >= 0"):
        ResetSchedule(window=-1)
