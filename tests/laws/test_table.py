"""Validation and normalization of the input table: every bad input names its problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import FitInputError, FitOptions, fit_laws, normalize_returns, validate_table


def test_missing_columns_are_named(small_sweep):
    with pytest.raises(FitInputError, match="missing required column.*learning_rate.*seed"):
        validate_table(small_sweep.drop(columns=["learning_rate", "seed"]))


def test_nan_return_is_named_with_its_config(small_sweep):
    table = small_sweep.copy()
    table.loc[5, "return"] = np.nan
    with pytest.raises(FitInputError, match=r"column 'return' has 1 NaN.*env=env-a"):
        validate_table(table)


def test_non_numeric_column_is_named(small_sweep):
    table = small_sweep.astype({"utd": object})
    table.loc[0, "utd"] = "fast"
    with pytest.raises(FitInputError, match="column 'utd' has 1 non-numeric"):
        validate_table(table)


def test_one_seed_only_is_rejected(small_sweep):
    with pytest.raises(FitInputError, match="only one seed.*at least two seeds"):
        validate_table(small_sweep[small_sweep["seed"] == 0])


def test_single_sigma_is_rejected(small_sweep):
    with pytest.raises(FitInputError, match="single UTD ratio σ=2.0"):
        validate_table(small_sweep[small_sweep["utd"] == 2.0])


def test_empty_and_non_positive(small_sweep):
    with pytest.raises(FitInputError, match="no rows"):
        validate_table(small_sweep.iloc[:0])
    table = small_sweep.copy()
    table.loc[0, "batch_size"] = 0
    with pytest.raises(FitInputError, match="'batch_size' must be positive"):
        validate_table(table)


def test_no_config_reaching_any_threshold(small_sweep):
    table = small_sweep.copy()
    table["return"] = table["return"].clip(upper=20.0)
    with pytest.raises(FitInputError, match="reaches a normalized return of 100"):
        fit_laws(table, FitOptions(n_bootstrap=5))
    with pytest.raises(FitInputError, match="no config's seed-mean curve reaches any threshold"):
        fit_laws(table, FitOptions(n_bootstrap=5, thresholds=(500.0,), selection_threshold=500.0))


def test_normalization_requires_bounds_for_unknown_suites(small_sweep):
    table = small_sweep.assign(suite="gym")
    with pytest.raises(FitInputError, match="no return normalization bounds for env.*env-a.*--normalize"):
        normalize_returns(table)
    scaled = table.assign(**{"return": table["return"] * 2.0 - 100.0})
    normalized, used = normalize_returns(scaled, {"env-a": (-100.0, 1900.0), "env-b": (-100.0, 1900.0)})
    np.testing.assert_allclose(normalized["return"], table["return"])
    assert used["env-a"] == (-100.0, 1900.0)
    with pytest.raises(FitInputError, match="high > low"):
        normalize_returns(table, {"env-a": (5.0, 5.0), "env-b": (0.0, 1.0)})


def test_normalized_fit_matches_identity_fit(small_sweep):
    options = FitOptions(n_bootstrap=10, thresholds=(400.0, 500.0, 600.0, 700.0, 800.0))
    raw = small_sweep.assign(suite="gym", **{"return": small_sweep["return"] / 10.0})
    rescaled = fit_laws(raw, FitOptions(**{**options.__dict__, "normalization": {"env-a": (0, 100), "env-b": (0, 100)}}))
    identity = fit_laws(small_sweep, options)
    assert rescaled.batch_size_law.alpha == pytest.approx(identity.batch_size_law.alpha)


def test_options_are_checked():
    with pytest.raises(FitInputError, match="n_bootstrap"):
        FitOptions(n_bootstrap=0)
    with pytest.raises(FitInputError, match="delta must be positive"):
        FitOptions(delta=-1.0)


def test_extra_columns_are_ignored(small_sweep):
    table = small_sweep.assign(algo="sac", config_id=0, wall_time_s=1.0, grad_step=0)
    clean = validate_table(table)
    assert "algo" not in clean.columns and len(clean) == len(table)
    assert isinstance(clean, pd.DataFrame)


def test_bounds_from_table_columns(small_sweep):
    table = small_sweep.assign(suite="jax", return_low=-100.0, return_high=1900.0)
    table["return"] = table["return"] * 2.0 - 100.0
    normalized, used = normalize_returns(validate_table(table))
    np.testing.assert_allclose(normalized["return"], small_sweep["return"])
    assert used == {"env-a": (-100.0, 1900.0), "env-b": (-100.0, 1900.0)}
    table.loc[0, "return_high"] = 5.0
    with pytest.raises(FitInputError, match="vary within env"):
        normalize_returns(validate_table(table))


def test_built_in_bounds_match_the_env_registry():
    registry = pytest.importorskip("rlscale.envs.registry", reason="the env registry (JAX) is not importable here")
    from rlscale.laws.table import KNOWN_RETURN_BOUNDS

    for name in registry.env_names():
        spec = registry.get_spec(name)
        if spec.suite == "dmc":
            assert (spec.return_low, spec.return_high) == (0.0, 1000.0)
        else:
            assert KNOWN_RETURN_BOUNDS[name] == (spec.return_low, spec.return_high), name


def test_repeated_and_mixed_rows(small_sweep):
    doubled = pd.concat([small_sweep, small_sweep.iloc[:50]], ignore_index=True)
    assert len(validate_table(doubled)) == len(small_sweep)
    conflicting = doubled.copy()
    conflicting.loc[len(conflicting) - 1, "return"] += 1.0
    with pytest.raises(FitInputError, match="different returns in different rows"):
        validate_table(conflicting)
    with pytest.raises(FitInputError, match="mixes algorithms"):
        validate_table(small_sweep.assign(algo=np.where(small_sweep["seed"] == 0, "sac", "td3")))
