"""TD-overfitting summaries of a long-form table: the critic's TD error on the transitions it trains
on and on validation transitions it never trained on, per (env, σ, η, model size N, B).

The follow-up paper (Fu, Rybkin et al. 2025, "Compute-Optimal Scaling for Value-Based Deep RL";
prestonfu/model_scaling scripts/experiments/analysis/overfitting.ipynb) summarises each run's
training and validation critic loss by its mean over the last 10% of training and compares them
across batch sizes per critic width: a small critic's validation loss rises at large B, which is
why its best batch size shrinks. This module computes that summary from the rows' `td_error_train`
and `td_error_validation` columns (the fit never reads them).
"""

from __future__ import annotations

import math

import pandas as pd

TD_ERROR_COLUMNS: tuple[str, ...] = ("td_error_train", "td_error_validation")
"""The rows' TD-error columns: on the replay and on the validation buffer."""
LAST_FRACTION = 0.1
"""Share of a config's evaluations, the last ones, whose TD errors are averaged (the follow-up's
"last 10%" summary); at least its last evaluation."""
PANEL_KEYS: tuple[str, ...] = ("env", "utd", "learning_rate")
"""What one figure panel holds fixed; within it, a line per model size across batch sizes."""
RUN_KEYS: tuple[str, ...] = (*PANEL_KEYS, "model_size", "batch_size", "seed")


def has_td_errors(table: pd.DataFrame) -> bool:
    """Whether the table holds any measured TD error (the columns exist and are not all null)."""
    return all(column in table.columns for column in TD_ERROR_COLUMNS) and bool(
        table[list(TD_ERROR_COLUMNS)].notna().to_numpy().any()
    )


def td_error_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (env, utd, learning_rate, model_size, batch_size): each TD-error column's mean
    over the last LAST_FRACTION of every seed's evaluations (at least one), then over seeds, and
    `seeds`, how many seeds it averages. A table without `model_size` counts as one size (0).

    Raises:
        ValueError: the table lacks the TD-error columns or any of RUN_KEYS other than model_size.
    """
    required = (*TD_ERROR_COLUMNS, *(key for key in RUN_KEYS if key != "model_size"), "env_step")
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ValueError(f"the table lacks columns {missing} needed for the TD-overfitting summary")
    table = table if "model_size" in table.columns else table.assign(model_size=0)
    columns = list(TD_ERROR_COLUMNS)
    frame = table[[*RUN_KEYS, "env_step", *columns]].copy()
    frame[columns] = frame[columns].apply(pd.to_numeric, errors="coerce")
    frame["env"] = frame["env"].astype(str)

    def last_evaluations(run: pd.DataFrame) -> pd.Series:
        run = run.sort_values("env_step")
        count = max(1, math.ceil(LAST_FRACTION * len(run)))
        return run[columns].tail(count).mean()

    per_seed = frame.groupby(list(RUN_KEYS), observed=True)[[*columns, "env_step"]].apply(last_evaluations).reset_index()
    summary = per_seed.groupby([*PANEL_KEYS, "model_size", "batch_size"], observed=True).agg(
        **{column: (column, "mean") for column in columns}, seeds=("seed", "nunique")
    )
    return summary.reset_index()
