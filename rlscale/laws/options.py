"""`FitOptions`: what `fit_laws` is asked to do, and how a mapping of options (a study's `[fit]`
table, `rlscale fit`'s flags) or a fit written before (its fit.json records its options) becomes one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rlscale.laws.budget import DENSE_GRID_POINTS
from rlscale.laws.data_law import LOSSES
from rlscale.laws.power_laws import TIED_VOTE_RULES, UNREACHED_CELL_RULES
from rlscale.laws.results import CROSSING_RULES, LOGGED, FitResult, ResetSchedule
from rlscale.laws.table import FitInputError
from rlscale.typed import Reading, read

RETURN_SCALE = 1000.0
"""Normalized returns run from 0 to this."""
LOWEST_THRESHOLD_FRACTION = 0.25
"""For other suites the lowest default threshold is this fraction of the selection threshold (DMC's 200 / 800)."""
DATA_POINT_RULES = ("law", "minimum")


def _doc(text: str) -> dict:
    return {"doc": text}


@dataclass(frozen=True)
class FitOptions:
    """Options of `fit_laws`; each field's `metadata["doc"]` says what it does."""

    thresholds: tuple[float, ...] | None = field(
        default=None,
        metadata=_doc(
            "Normalized-return thresholds J (0..1000). Default, the paper's fitted-stage rule: `n_default_thresholds` "
            "values 1000 − logspace(log10(1000 − J_low), log10(1000 − J_sel), n) from `lowest_threshold` J_low up to "
            "the selection threshold J_sel."
        ),
    )
    selection_threshold: float | None = field(
        default=None,
        metadata=_doc(
            "Threshold at which the best (B, η) are chosen. Default: the highest of qscaled's thresholds 100, 200, "
            "…, 800 that every (env, σ) reaches with at least one config (800, the paper's, on its sweeps), or with "
            "user thresholds, the highest of them every (env, σ) reaches."
        ),
    )
    n_bootstrap: int = field(default=100, metadata=_doc("Bootstrap resamples of the seeds (>= 1)."))
    seed: int = field(default=0, metadata=_doc("Seed of the bootstrap's random generator."))
    delta: float | None = field(
        default=None,
        metadata=_doc("FLOPs per environment step, δ in F = C + δ·D. Default: the suite's paper value, else 4e9/1.5e5·N."),
    )
    model_size: float | None = field(
        default=None,
        metadata=_doc("Agent parameter count N. Default: the table's `model_size` column, else the suite's paper value."),
    )
    normalization: Mapping[str, tuple[float, float]] = field(
        default_factory=dict, metadata=_doc("Per-env (low, high) raw-return bounds mapped to (0, 1000).")
    )
    n_default_thresholds: int = field(default=10, metadata=_doc("How many default thresholds to use (the paper: 10)."))
    lowest_threshold: float | None = field(
        default=None,
        metadata=_doc(
            "Lowest default threshold J_low. Default: the paper's for its suites (dmc 200, gym 300), else "
            f"{LOWEST_THRESHOLD_FRACTION:g} × the selection threshold (DMC's ratio 200 / 800)."
        ),
    )
    sigma_grid_points: int = field(
        default=64,
        metadata=_doc("Points of the log-spaced σ grid reported for the frontier (display only: no fitted number depends on it)."),
    )
    budget_grid_points: int = field(
        default=DENSE_GRID_POINTS,
        metadata=_doc(
            "Points of the log-spaced σ grid on which σ*(J) minimises F. qscaled uses 100, whose steps quantize σ*(J) "
            f"(×1.043 per step over σ 0.25 … 16); {DENSE_GRID_POINTS} by default (100 reproduces the authors' σ*(F) "
            "to the printed digits)."
        ),
    )
    sigma_grid_extension: float = field(
        default=1.0,
        metadata=_doc(
            "The σ grid of the frontier and of the budget optima σ*(J) spans [min σ / extension, max σ · extension] "
            "of the runs. Default 1: the runs' σ range, as qscaled (`make_smooth_x_range`)."
        ),
    )
    interval: tuple[float, float] = field(default=(5.0, 95.0), metadata=_doc("Percentiles of the reported intervals."))
    data_points: str = field(
        default="law",
        metadata=_doc(
            "Which config each D_J(σ) point stands for: 'law' (the one nearest the fitted B*(σ), η*(σ)) or "
            "'minimum' (the fastest of the grid, biased low). Stage 2 always uses 'law'."
        ),
    )
    hparam_laws: FitResult | None = field(
        default=None,
        metadata=_doc(
            "A grid fit whose B*(σ), η*(σ) the table's runs follow (stage 2): its laws are used instead of fitting "
            "them from the table."
        ),
        compare=False,
    )
    baseline_utd: float | None = field(
        default=None,
        metadata=_doc(
            "Also fit the data laws of the baseline: per env the grid's fastest config at this σ (at the selection "
            "threshold; from `hparam_laws` in stage 2), run unchanged at every σ."
        ),
    )
    resets: ResetSchedule = field(
        default_factory=ResetSchedule,
        metadata=_doc("Reset schedule for tables without a reset_env_steps column, and how post-reset dips end."),
    )
    data_law_loss: str = field(
        default="linear",
        metadata=_doc(
            "Least squares of the data law on D ('linear', the paper's: qscaled's fit_powerlaw on the App. D normalized "
            "times) or on log D ('log': every σ weighs by its relative error)."
        ),
    )
    unreached_cells: str = field(
        default="smallest",
        metadata=_doc(
            "(env, σ) where no config reaches the selection threshold in any resample: 'smallest' keeps their votes, "
            "all for the smallest B and η present (qscaled's), 'drop' leaves them out of B*(σ), η*(σ)."
        ),
    )
    tied_votes: str = field(
        default="smallest",
        metadata=_doc(
            "A vote for the best B (η) whose fastest time several values share (they reach the selection threshold at "
            "the same logged step): 'smallest' gives it to the smallest of them (qscaled's argmin), 'split' shares it "
            "equally. fit.json's `vote_ties` says how many votes were ties."
        ),
    )
    crossing: str = field(
        default=LOGGED,
        metadata=_doc(
            "Where a config's isotonic seed-mean curve crosses J: 'logged', the first logged env step at or above J "
            "(the paper's), or 'interpolated', linearly between that step and the one before (on a coarse evaluation "
            "grid configs then no longer tie at an evaluation step)."
        ),
    )
    running_max: bool = field(
        default=False,
        metadata=_doc(
            "Replace each seed's returns by their running maximum (the best evaluation so far) before the seed mean. "
            "The authors' published DMC sweep is shipped in that form; qscaled, and this default, take the returns as "
            "logged. Set it to compare runs that log raw evaluations with that sweep on equal terms."
        ),
    )
    envs: tuple[str, ...] | None = field(
        default=None,
        metadata=_doc("Fit only these envs' rows (a separate fit for one env of a multi-env table). Default: every env."),
    )
    horizon_cuts: tuple[float, ...] = field(
        default=(),
        metadata=_doc(
            "Grid fits: also refit B*(σ), η*(σ) on the rows up to each of these fractions (in (0, 1)) of each env's "
            "horizon, at the same thresholds, to show how much the laws depend on how long the grid ran "
            "(fit.json `horizon`). Default: none (each cut costs a refit)."
        ),
    )
    sigma_n_shared_exponents: bool = field(
        default=False,
        metadata=_doc(
            "Tables with several model sizes: fit each scope's joint data laws D_J(σ, N) with one pair of exponents "
            "(α, β) shared by every threshold (the authors' shared-exponent form) instead of one pair per threshold."
        ),
    )

    def __post_init__(self) -> None:
        errors = self.errors()
        if errors:
            raise FitInputError("; ".join(errors))

    def errors(self) -> list[str]:
        """Every option out of its range, one message each (empty when all are valid)."""
        errors = []
        if self.n_bootstrap < 1:
            errors.append(f"n_bootstrap must be at least 1, got {self.n_bootstrap}")
        if self.thresholds is not None and len(self.thresholds) == 0:
            errors.append("thresholds is empty")
        if self.n_default_thresholds < 1:
            errors.append(f"n_default_thresholds must be at least 1, got {self.n_default_thresholds}")
        if self.budget_grid_points < 2 or self.sigma_grid_points < 2:
            errors.append(
                f"budget_grid_points and sigma_grid_points must be at least 2, got {self.budget_grid_points}, {self.sigma_grid_points}"
            )
        if not self.sigma_grid_extension >= 1:
            errors.append(f"sigma_grid_extension must be >= 1, got {self.sigma_grid_extension}")
        if self.lowest_threshold is not None and not 0 < self.lowest_threshold < RETURN_SCALE:
            errors.append(f"lowest_threshold must be in (0, {RETURN_SCALE:g}), got {self.lowest_threshold}")
        for name in ("delta", "model_size", "baseline_utd"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                errors.append(f"{name} must be positive, got {value}")
        if not all(0 < fraction < 1 for fraction in self.horizon_cuts):
            errors.append(f"horizon cuts must be fractions in (0, 1), got {list(self.horizon_cuts)}")
        for name, allowed in {
            "data_points": DATA_POINT_RULES, "data_law_loss": LOSSES, "unreached_cells": UNREACHED_CELL_RULES,
            "tied_votes": TIED_VOTE_RULES, "crossing": CROSSING_RULES,
        }.items():
            if getattr(self, name) not in allowed:
                errors.append(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        return errors

    @classmethod
    def of_fit(cls, fit: FitResult) -> "FitOptions":
        """The options that reproduce the grid-stage fit `fit` from the same table: each option the
        fit records under its own name, and those it records otherwise (a fit of several model sizes
        is refitted per size and jointly, as it was)."""
        recorded_otherwise = {
            "model_size": None if fit.by_model_size else fit.model_size,
            "normalization": dict(fit.normalization),
            "baseline_utd": fit.baseline[0].utd if fit.baseline else None,
            "horizon_cuts": tuple(cut.fraction for cut in fit.horizon.cuts) if fit.horizon is not None else (),
            "sigma_n_shared_exponents": any(law.shared_exponents for law in fit.sigma_n.data_law_sigma_n),
        }
        recorded = {name: getattr(fit, name) for name in FIT_RESULT_FIELDS if name in OPTION_FIELDS}
        return cls(**{**recorded, **recorded_otherwise})


OPTION_FIELDS = tuple(field.name for field in dataclasses.fields(FitOptions))
FIT_RESULT_FIELDS = tuple(field.name for field in dataclasses.fields(FitResult))
OPTION_ALIASES = {"bootstrap": "n_bootstrap", "n_thresholds": "n_default_thresholds"}
"""Keys that name a FitOptions field otherwise: a study's `[fit]` table names options as `rlscale fit`'s flags do."""


def read_fit_options(values: Mapping[str, Any], reading: Reading = Reading(aliases=OPTION_ALIASES), where: str = "") -> FitOptions:
    """The FitOptions of `values` (option names or their `OPTION_ALIASES`); FitInputError listing
    every unknown key, value of the wrong type and option out of its range."""
    options, errors = read(FitOptions, values, reading, where)
    if errors:
        raise FitInputError("; ".join(errors))
    return options
