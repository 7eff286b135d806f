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
    assert reset_keep_mask(steps, curves, np.array([4500]), window=0).tolist() == keep.tolist()
    # An evaluation logged at the reset step itself is after the reset (default): the pre-reset value is 300 (at
    # 3,000), the window drops 4,000 and 7,000 (510) is the first recovered one. Counted before it, 520 is the
    # pre-reset value and 8,000 the first recovered one.
    assert reset_keep_mask(steps, curves, np.array([4000])).tolist() == [True] * 3 + [False] * 3 + [True] * 4
    before = reset_keep_mask(steps, curves, np.array([4000]), at_reset_step="before")
    assert before.tolist() == [True] * 4 + [False] * 3 + [True] * 3
    # window=4 also drops the first recovered evaluation (8,000).
    assert reset_keep_mask(steps, curves, np.array([4500]), window=4).tolist() == [True] * 4 + [False] * 4 + [True] * 2
    # "overlap": mean + stderr reaches the pre-reset mean − its stderr (here the seeds differ by 20).
    spread = np.array([np.array(DIPPED) - 10.0, np.array(DIPPED) + 10.0])
    overlap = reset_keep_mask(steps, spread, np.array([4500]), window=0, recovery="overlap")
    assert overlap.tolist() == [True] * 4 + [False] * 2 + [True] * 4  # 510 + 7.07 >= 520 - 7.07
    # A curve that never recovers keeps only what came before the reset.
    never = reset_keep_mask(steps, np.array([[100.0] * 3 + [900.0] + [100.0] * 6]), np.array([4500]))
    assert never.tolist() == [True] * 4 + [False] * 6


# rlscale's engine evaluates after the updates of an env step, so a reset at 5,000 shows in the
# evaluation logged at 5,000 (100): the dip starts there and the return is back above 400 at 7,000.
ENGINE_LOGGED = [100.0, 200.0, 300.0, 400.0, 100.0, 150.0, 450.0, 600.0, 700.0, 800.0]


def test_the_default_filter_is_the_papers_for_this_engine():
    """qscaled's DMC analysis drops `window=1` evaluation after each reset, and an evaluation at the reset's
    env step is after it (this engine; qscaled HEAD). Counting it before the reset (the old default) made the
    dip its own pre-reset value, kept the dip, and the isotonic step moved the crossing of 350 to 7,000."""
    assert (ResetSchedule().window, ResetSchedule().at_reset_step) == (1, "after")
    table = pd.DataFrame(
        [
            {"suite": "dmc", "env": "e", "utd": utd, "batch_size": 64, "learning_rate": 1e-3, "seed": seed,
             "env_step": step, "return": value + seed, "reset_env_steps": [5000]}
            for utd in (1.0, 2.0)
            for seed in (0, 1)
            for step, value in zip(STEPS, ENGINE_LOGGED)
        ]
    )
    curves = validate_table(table)
    assert _d350(curves) == 4000.0
    assert _d350(curves, ResetSchedule(window=0, at_reset_step="before")) == 7000.0


def _d350(table: pd.DataFrame, resets: ResetSchedule = ResetSchedule()) -> float:
    curves = build_config_curves(table, resets=resets)
    return float(times_to_threshold(curves, np.array([350.0]), 2, np.random.default_rng(0)).point[0, 0])


def test_bad_reset_input_is_named():
    table = _table(reset_env_steps="[4500, -3]")
    with pytest.raises(FitInputError, match="column 'reset_env_steps' must hold lists of env steps"):
        validate_table(table)
    with pytest.raises(FitInputError, match="reset recovery must be one of mean, overlap"):
        ResetSchedule(recovery="median")
    with pytest.raises(FitInputError, match="reset window must be >= 0"):
        ResetSchedule(window=-1)
    with pytest.raises(FitInputError, match="reset at-reset-step must be one of after, before"):
        ResetSchedule(at_reset_step="during")

