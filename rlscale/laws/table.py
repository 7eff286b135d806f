"""Validation and normalization of the long-form evaluation table.

The input is one row per (config, seed, evaluation) with at least the columns in
`REQUIRED_COLUMNS`. A config is identified by `CONFIG_KEYS` (plus `model_size` when the
table carries several model sizes; `fit_laws` splits those before calling anything here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = (
    "suite",
    "env",
    "utd",
    "batch_size",
    "learning_rate",
    "seed",
    "env_step",
    "return",
)
NUMERIC_COLUMNS: tuple[str, ...] = ("utd", "batch_size", "learning_rate", "seed", "env_step", "return")
POSITIVE_COLUMNS: tuple[str, ...] = ("utd", "batch_size", "learning_rate")
CONFIG_KEYS: tuple[str, ...] = ("suite", "env", "utd", "batch_size", "learning_rate")
NORMALIZED_SCALE = 1000.0

# Suites whose returns are already on the 0..1000 scale (identity normalization).
SUITES_ON_NORMALIZED_SCALE: frozenset[str] = frozenset({"dmc"})

# Per-env (low, high) raw-return bounds for envs outside SUITES_ON_NORMALIZED_SCALE, keyed by the env
# registry's names; mirrors `return_low`/`return_high` of `rlscale.envs` (copied, because this package
# must not import the env code and JAX; a test checks they agree). The normalized return is
# 1000 * (return - low) / (high - low).
KNOWN_RETURN_BOUNDS: dict[str, tuple[float, float]] = {
    "pendulum": (-1226.7, -150.0),
    "cartpole-balance": (27.8, 500.0),
    "pointmass": (-217.3, -23.3),
    "brax/halfcheetah": (-280.178953, 12135.0),
    "brax/hopper": (-20.272305, 3234.3),
    "brax/walker2d": (1.629008, 4592.3),
    "brax/ant": (-325.6, 3879.7),
    "brax/humanoid": (150.8, 6000.0),
    "brax/inverted_pendulum": (4.4, 1000.0),
    "brax/inverted_double_pendulum": (157.0, 9100.0),
}
BOUND_COLUMNS: tuple[str, str] = ("return_low", "return_high")
RESET_COLUMN = "reset_env_steps"
"""Optional: per row, the env steps at which the config's agent was reset so far (a list; in CSV a
string like "[15000, 50000]"); empty or missing for an agent that never reset."""


class FitInputError(ValueError):
    """The input table (or an option) cannot be fitted; the message names the problem."""


def _describe_configs(frame: pd.DataFrame, limit: int = 5) -> str:
    """A short human-readable list of the configs in `frame` (at most `limit` of them)."""
    keys = [key for key in CONFIG_KEYS if key in frame.columns]
    configs = frame[keys].drop_duplicates()
    shown = [
        ", ".join(f"{key}={row[key]}" for key in keys if key != "suite") for _, row in configs.head(limit).iterrows()
    ]
    more = f" and {len(configs) - limit} more" if len(configs) > limit else ""
    return "; ".join(f"({text})" for text in shown) + more


def validate_table(table: pd.DataFrame, min_utds: int = 2) -> pd.DataFrame:
    """Check the long-form table and return a cleaned copy.

    The copy has the required columns with numeric dtypes (float64 for `utd`,
    `learning_rate`, `return`; int64 for `batch_size`, `seed`, `env_step`), `suite` and `env` as
    strings, and keeps `model_size`, `diverged_at_env_step`, the return bounds and `reset_env_steps`
    (as one tuple of env steps per row) when present. Rows without a return at or after their
    config's `diverged_at_env_step` are dropped.

    Raises:
        FitInputError: missing columns, an empty table, non-numeric or NaN values in a required
            column, non-positive σ/B/η, rows of several algorithms, conflicting repeated
            evaluations (identical repeats are dropped), configs with fewer than two seeds, or
            fewer than `min_utds` distinct σ overall (fitting laws in σ needs two; checking one
            config against a fit needs one).
    """
    _check_columns(table)
    table = _without_returns_after_divergence(table)
    clean = _numeric_columns(table)
    _check_one_algorithm(table)
    keys = list(CONFIG_KEYS) + (["model_size"] if "model_size" in clean.columns and clean["model_size"].notna().all() else [])
    clean = _without_repeated_evaluations(clean, keys)
    _check_seeds_and_utds(clean, keys, min_utds)
    return clean


def _check_columns(table: pd.DataFrame) -> None:
    """A DataFrame with every required column and at least one row."""
    if not isinstance(table, pd.DataFrame):
        raise FitInputError(f"expected a pandas DataFrame, got {type(table).__name__}")
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise FitInputError(
            f"missing required column(s): {', '.join(missing)} "
            f"(the table needs {', '.join(REQUIRED_COLUMNS)}; it has {', '.join(map(str, table.columns))})"
        )
    if len(table) == 0:
        raise FitInputError("the table has no rows")


def _without_returns_after_divergence(table: pd.DataFrame) -> pd.DataFrame:
    """`table` without the rows of a diverged config that have no return at or after its divergence
    (its return was not finite; its curves stop at the divergence anyway, crossings.build_config_curves)."""
    if "diverged_at_env_step" not in table.columns:
        return table
    diverged_at = pd.to_numeric(table["diverged_at_env_step"], errors="coerce")
    env_step = pd.to_numeric(table["env_step"], errors="coerce")
    return table[~(table["return"].isna() & (env_step >= diverged_at))]


def _numeric_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The required and known optional columns, `suite` and `env` as strings, the numeric ones
    converted (FitInputError for a non-numeric, missing or infinite value, or a non-positive σ/B/η)."""
    optional = [
        column for column in ("model_size", "diverged_at_env_step", *BOUND_COLUMNS, RESET_COLUMN) if column in table.columns
    ]
    clean = table.loc[:, list(REQUIRED_COLUMNS) + optional].copy()
    clean["suite"] = clean["suite"].astype(str)
    clean["env"] = clean["env"].astype(str)
    for column in NUMERIC_COLUMNS:
        converted = pd.to_numeric(clean[column], errors="coerce")
        bad = converted.isna()
        if bad.any():
            non_numeric = bad & clean[column].notna()
            kind = "non-numeric" if non_numeric.any() else "NaN/missing"
            raise FitInputError(
                f"column '{column}' has {int(bad.sum())} {kind} value(s), e.g. in configs "
                f"{_describe_configs(clean[bad])}"
            )
        clean[column] = converted
    infinite = ~np.isfinite(clean["return"].to_numpy(dtype=float))
    if infinite.any():
        raise FitInputError(
            f"column 'return' has {int(infinite.sum())} infinite value(s), e.g. in configs "
            f"{_describe_configs(clean[infinite])}"
        )
    for column in POSITIVE_COLUMNS:
        if (clean[column] <= 0).any():
            raise FitInputError(f"column '{column}' must be positive; found {clean.loc[clean[column] <= 0, column].iloc[0]}")
    for column in ("utd", "learning_rate", "return"):
        clean[column] = clean[column].astype(float)
    for column in ("batch_size", "seed", "env_step"):
        clean[column] = clean[column].round().astype(np.int64)
    for column in ("model_size", "diverged_at_env_step"):
        if column in clean.columns:
            clean[column] = pd.to_numeric(clean[column], errors="coerce")
    if RESET_COLUMN in clean.columns:
        clean[RESET_COLUMN] = _reset_steps_column(clean)
    return clean


def _check_one_algorithm(table: pd.DataFrame) -> None:
    if "algo" in table.columns and table["algo"].nunique(dropna=False) > 1:
        algos = ", ".join(sorted(map(str, table["algo"].unique())))
        raise FitInputError(f"the table mixes algorithms ({algos}); fit each algorithm's rows separately")


def _without_repeated_evaluations(clean: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`clean` with identical repeats of an evaluation dropped; FitInputError when repeats differ."""
    evaluation = keys + ["seed", "env_step"]
    repeated = clean.duplicated(evaluation, keep=False)
    if not repeated.any():
        return clean
    conflicting = clean[repeated].groupby(evaluation, observed=True)["return"].nunique() > 1
    if conflicting.any():
        raise FitInputError(
            f"{int(conflicting.sum())} (config, seed, env_step) triples have different returns in different rows, "
            f"e.g. in configs {_describe_configs(clean[repeated])}; each evaluation must appear once"
        )
    return clean.drop_duplicates(evaluation)


def _check_seeds_and_utds(clean: pd.DataFrame, keys: list[str], min_utds: int) -> None:
    """At least two seeds per config, and `min_utds` distinct σ overall."""
    seeds_per_config = clean.groupby(keys, sort=False, observed=True)["seed"].nunique()
    one_seed = seeds_per_config[seeds_per_config < 2]
    if len(one_seed):
        examples = "; ".join(
            "(" + ", ".join(f"{key}={value}" for key, value in zip(keys, index) if key != "suite") + ")"
            for index in one_seed.index[:5]
        )
        raise FitInputError(
            f"{len(one_seed)} config(s) have only one seed, e.g. {examples}; the bootstrap over seeds "
            "needs at least two seeds per config"
        )
    if clean["utd"].nunique() < min_utds:
        raise FitInputError(
            f"the table has a single UTD ratio σ={clean['utd'].iloc[0]}; fitting laws in σ needs at least two distinct σ"
        )


def _reset_steps_column(table: pd.DataFrame) -> list[tuple[int, ...]]:
    """The `reset_env_steps` column as one tuple of env steps per row (() for a missing value).

    Raises:
        FitInputError: a value that is not a list of non-negative integers (or its JSON text).
    """
    parsed: dict[object, tuple[int, ...]] = {}
    values = []
    for value in table[RESET_COLUMN].to_numpy():
        key = value if isinstance(value, (str, float, type(None))) else tuple(np.ravel(value).tolist())
        if key not in parsed:
            parsed[key] = _reset_steps(value)
        values.append(parsed[key])
    return values


def _reset_steps(value) -> tuple[int, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value.strip()):
        return ()
    items = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            items = None
    try:
        steps = [float(item) for item in np.ravel(items)] if items is not None else None
    except (TypeError, ValueError):
        steps = None
    if steps is None or not all(np.isfinite(step) and step >= 0 and float(step).is_integer() for step in steps):
        raise FitInputError(
            f"column '{RESET_COLUMN}' must hold lists of env steps (non-negative integers, e.g. [15000, 50000]); "
            f"got {value!r}"
        )
    return tuple(int(step) for step in steps)


def normalize_returns(
    table: pd.DataFrame, bounds: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """Map each env's returns to the 0..1000 scale.

    Per env, the bounds come from `bounds` (user given, highest priority), then the table's
    `return_low`/`return_high` columns when present (constant per env), then `KNOWN_RETURN_BOUNDS`;
    envs of a suite in `SUITES_ON_NORMALIZED_SCALE` use (0, 1000).

    Returns:
        The table with `return` replaced by the normalized return, and the (low, high) used per env.

    Raises:
        FitInputError: an env has no known bounds, or its bounds have high <= low.
    """
    user_bounds = dict(bounds or {})
    table_bounds = _bounds_from_columns(table)
    used: dict[str, tuple[float, float]] = {}
    env_suite = table.drop_duplicates("env").set_index("env")["suite"]
    missing = []
    for env, suite in env_suite.items():
        if env in user_bounds:
            used[env] = tuple(map(float, user_bounds[env]))
        elif env in table_bounds:
            used[env] = table_bounds[env]
        elif env in KNOWN_RETURN_BOUNDS:
            used[env] = KNOWN_RETURN_BOUNDS[env]
        elif suite in SUITES_ON_NORMALIZED_SCALE:
            used[env] = (0.0, NORMALIZED_SCALE)
        else:
            missing.append(f"{env} (suite {suite})")
    if missing:
        raise FitInputError(
            f"no return normalization bounds for env(s) {', '.join(missing)}; pass them as "
            "--normalize ENV=LOW,HIGH (Python: FitOptions(normalization={ENV: (LOW, HIGH)}))"
        )
    unknown = sorted(set(user_bounds) - set(used))
    if unknown:
        raise FitInputError(f"normalization given for env(s) not in the table: {', '.join(unknown)}")
    for env, (low, high) in used.items():
        if not high > low:
            raise FitInputError(f"normalization bounds for env '{env}' need high > low, got ({low}, {high})")
    if all(bounds_ == (0.0, NORMALIZED_SCALE) for bounds_ in used.values()):
        return table, used
    low = table["env"].map({env: pair[0] for env, pair in used.items()}).astype(float)
    high = table["env"].map({env: pair[1] for env, pair in used.items()}).astype(float)
    normalized = table.copy()
    normalized["return"] = NORMALIZED_SCALE * (table["return"] - low) / (high - low)
    return normalized, used


def _bounds_from_columns(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per-env (low, high) from the `return_low`/`return_high` columns (envs with missing values are
    left out). Raises FitInputError when an env's bounds vary between rows."""
    if not all(column in table.columns for column in BOUND_COLUMNS):
        return {}
    rows = table.loc[:, ["env", *BOUND_COLUMNS]].dropna().drop_duplicates()
    varying = rows["env"][rows["env"].duplicated()].unique()
    if len(varying):
        raise FitInputError(f"columns return_low/return_high vary within env(s) {', '.join(map(str, varying))}")
    return {str(env): (float(low), float(high)) for env, low, high in rows.itertuples(index=False)}
