"""The paper's protocol as one study: grid sweep → fit → propose → stage-2 sweep → fit with the
grid's hyperparameter laws → recommend for a larger budget → train that config → validate.

A study whose grid has two or more `model_sizes` follows the follow-up paper's (σ, N) protocol
instead (`SIGMA_N_STAGES`): grid sweep over (σ, N, B, η) → the joint laws fitted on the grid
(B*(σ, N), η*(σ, N), D_J(σ, N) from the config nearest the hyperparameter laws, the compute-optimal
allocation) → a model bigger than any trained: the width whose critic count is nearest `[holdout]
model_size_factor` × the largest trained N, at the σ minimising F_J = C + δ·D at that N over the
swept UTDs and B*, η* there (`recommend_at_model_size`, at the joint laws' highest threshold) → that
config trained → its measured D_J against D_J(σ, N) of the joint law. It has no stage 2: the grid's
points nearest B*(σ, N), η*(σ, N) stand for runs at the fitted hyperparameters (a (σ, N) stage 2
would run every size again), and the held-out run, at B*, η* of the laws, checks those laws too. The
model is chosen by its size, not as N*(F) of a larger budget: the compute-optimal path is fitted over
the thresholds' optima, whose budgets span little, and a model twice the largest extrapolates it far
(on pendulum its exponent came out negative: no budget recommends a bigger model;
fits/sigma_n_pendulum).

This module is pure: the study config (`StudyConfig`, read from a STUDY.toml's tables), the stage
order (`STAGES`), and the sweep configs each stage derives from the previous stages' results.
Running the stages, the stage-state file that makes a study resumable, and the report live in
`rlscale/run/study_command.py`.

A STUDY.toml:

    [grid]          # a sweep config (every SweepConfig field) for stage 1
    env = "pendulum"
    utd = [0.5, 1, 2]
    ...
    [fit]           # options of both fits (optional)
    thresholds = [500, 600, 700, 800, 900]
    bootstrap = 100
    [stage2]        # stage 2 (rlscale propose): σ to run at the laws' B*, η*; seeds; baseline σ
    utd = [0.25, 0.5, 1, 2, 4]
    seeds = [0, 1, 2]
    baseline_utd = 1
    [holdout]       # the held-out check (optional)
    budget_factor = 1.0
    seeds = [0, 1, 2, 3]

Unknown tables or keys, and bad values, are reported all at once (`StudyError`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from rlscale.config import MAX_UTD
from rlscale.laws.grid_edges import GridExtension, GridLimits
from rlscale.laws.propose import DEFAULT_ENV_STEPS_MARGIN
from rlscale.laws.results import Proposal, Recommendation, SigmaNRecommendation

STAGES: tuple[tuple[str, str], ...] = (
    ("grid_sweep", "stage 1: the grid sweep over (σ, B, η) × seeds"),
    ("grid_extend", "stage 1: extend the grid beyond the edges where its optimum sits, until it brackets it"),
    ("grid_fit", "stage 1: bootstrap-best (B, η) per σ and the laws B*(σ), η*(σ)"),
    ("propose", "stage 2: configs at the fitted B*(σ), η*(σ) (and the baseline) at more σ"),
    ("stage2_sweep", "stage 2: the runs at the fitted hyperparameters"),
    ("stage2_fit", "stage 3: D_J(σ), C_J(σ), the frontier and σ*(F) from the stage-2 runs"),
    ("recommend", "stage 4: the config the laws recommend for a larger budget"),
    ("holdout_sweep", "stage 4: that config trained"),
    ("validate", "stage 4: its measured D_J against the prediction"),
)
STAGE_NAMES = tuple(name for name, _ in STAGES)
SIGMA_N_STAGES: tuple[tuple[str, str], ...] = (
    ("grid_sweep", "stage 1: the grid sweep over (σ, N, B, η) × seeds"),
    ("grid_extend", "stage 1: extend the grid beyond the edges where its optimum sits (every size's cells), until it brackets it"),
    ("grid_fit", "stage 2: B*(σ, N), η*(σ, N), D_J(σ, N) and the compute-optimal allocation N*(F), σ*(F) from the grid"),
    ("recommend", "stage 3: a model model_size_factor × the largest trained N (a width) and the σ, B*, η*, D_J the laws recommend for it"),
    ("holdout_sweep", "stage 3: that config trained"),
    ("validate", "stage 3: its measured D_J against D_J(σ, N) of the joint law"),
)
"""The stages of a study whose grid has two or more model sizes (the (σ, N) protocol)."""
SIGMA_N_STAGE_NAMES = tuple(name for name, _ in SIGMA_N_STAGES)
DEFAULT_MODEL_SIZE_FACTOR = 2.0
"""[holdout] model_size_factor unless set: the held-out model has this many times the largest trained N."""
RUN_DIGITS = 4
"""Significant digits of the recommended σ* and η* in the held-out run's config."""
GRID_AXES = ("utd", "batch_size", "learning_rate", "configs", "seeds", "env_steps")
"""Sweep fields the grid sets and stage 2 and the held-out run replace."""
SIZE_FIELDS = ("model_sizes", "hidden_width", "hidden_depth")
"""Sweep fields the (σ, N) held-out run replaces by the recommended width."""

FIT_KEYS = {
    "thresholds": list,
    "selection_threshold": (int, float),
    "bootstrap": int,
    "seed": int,
    "delta": (int, float),
    "model_size": (int, float),
    "data_points": str,
    "data_law_loss": str,
    "unreached_cells": str,
    "n_thresholds": int,
    "lowest_threshold": (int, float),
    "sigma_grid_extension": (int, float),
    "budget_grid_points": int,
    "horizon_cuts": list,
    "sigma_n_shared_exponents": bool,
}
TABLES = ("grid", "grid_extension", "fit", "stage2", "holdout")
DEFAULT_MAX_ROUNDS = 2
"""[grid_extension] max_rounds unless set: at most this many extension rounds."""


class StudyError(ValueError):
    """A study config is invalid; `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid study config:\n  - " + "\n  - ".join(errors))


@dataclass(frozen=True)
class Stage2Settings:
    """[stage2]: σ to run at the laws' B*(σ), η*(σ), their seeds, the baseline σ (None: no
    baseline), env steps (None: sized from the grid fit's data law with `env_steps_margin`), and
    sweep fields to change for stage 2 (`set`)."""

    utd: tuple[float, ...]
    seeds: tuple[int, ...]
    baseline_utd: float | None = None
    env_steps: int | None = None
    env_steps_margin: float = DEFAULT_ENV_STEPS_MARGIN
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HoldoutSettings:
    """[holdout]: the budget F = `budget_factor` × F*(J) of the highest threshold J of the stage-2
    fit's budget law (normally the largest budget, held out of its regression), the seeds of the
    run, its env steps (None: `env_steps_margin` × the upper end of the predicted D_J interval).
    D is predicted by the data law at that J and σ*(F). With `utd`, the held-out config is at that
    σ instead of σ*(F) (B*(σ), η*(σ) from the grid's laws, D_J(σ) at the highest threshold with a
    stage-2 data law): a σ outside the stage-2 UTDs tests the data law's extrapolation in σ.

    A (σ, N) study sets `model_size_factor` instead of `budget_factor` and `utd` (None in a σ-only
    study): the held-out model is the width whose critic count is nearest that many times the largest
    trained N, at the σ, B*, η* the joint laws recommend for it, and D is predicted by D_J(σ, N) at
    the highest threshold of the joint laws."""

    budget_factor: float = 1.0
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    env_steps: int | None = None
    env_steps_margin: float = DEFAULT_ENV_STEPS_MARGIN
    utd: float | None = None
    model_size_factor: float | None = None


@dataclass(frozen=True)
class GridExtensionSettings:
    """[grid_extension]: how the grid stage extends itself (rlscale/laws/grid_edges.py). After the
    grid sweep, the grid is fitted; wherever the fastest (B, η) of a σ sits on one edge of an axis in
    half or more of its (σ, J) cells (a (σ, N) study: its (σ, N, J) cells, every model size's), the next
    value beyond that edge is added at that σ and only the new configs run, for every seed of the grid
    (and every model size); repeated until the optimum is bracketed, every value
    beyond an edge leaves the limits, `max_rounds` rounds ran, or the next round would take the
    runs added so far past `max_new_runs` (default: as many runs as the grid itself)."""

    max_rounds: int = DEFAULT_MAX_ROUNDS
    max_new_runs: int | None = None
    limits: GridLimits = GridLimits()

    def stop_reason(
        self, extension: GridExtension, round_number: int, runs_added: int, grid_runs: int, runs_per_config: int
    ) -> str | None:
        """Why the grid stops before running `extension` as round `round_number` (1-based), after
        `runs_added` runs in earlier rounds, each new config running `runs_per_config` times (its
        seeds, at every model size); None when the round runs."""
        if extension.status != "extend":
            return "the optimum is bracketed" if extension.status == "bracketed" else "every value beyond an edge leaves the limits"
        if round_number > self.max_rounds:
            return f"max_rounds = {self.max_rounds} reached"
        cap = grid_runs if self.max_new_runs is None else self.max_new_runs
        new_runs = len(extension.configs) * runs_per_config
        if runs_added + new_runs > cap:
            return f"the budget cap: {new_runs} more runs would pass max_new_runs = {cap} ({runs_added} added so far)"
        return None


@dataclass(frozen=True)
class StudyConfig:
    """A whole study: the grid sweep's fields, its extension, fit options, and the stage-2 and
    held-out settings. A (σ, N) study (two or more `model_sizes` in the grid) has no stage 2
    (`stage2` None) and follows `SIGMA_N_STAGES`."""

    grid: dict[str, Any]
    stage2: Stage2Settings | None
    fit: dict[str, Any] = field(default_factory=dict)
    holdout: HoldoutSettings = HoldoutSettings()
    grid_extension: GridExtensionSettings = GridExtensionSettings()

    @property
    def sigma_n(self) -> bool:
        """Whether the grid trains two or more model sizes (the (σ, N) protocol)."""
        return is_sigma_n_grid(self.grid)

    @property
    def stages(self) -> tuple[tuple[str, str], ...]:
        """(name, description) of this study's stages, in order."""
        return SIGMA_N_STAGES if self.sigma_n else STAGES

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "StudyConfig":
        """Check a parsed STUDY.toml (tables grid, grid_extension, fit, stage2, holdout); StudyError
        lists every problem."""
        errors = [
            f"unknown table [{key}]; a study has {', '.join(f'[{name}]' for name in TABLES)}" for key in values if key not in TABLES
        ]
        grid = values.get("grid")
        if not isinstance(grid, dict) or not grid:
            errors.append("[grid] is missing: the stage-1 sweep config (env, utd, batch_size, learning_rate, seeds, ...)")
            grid = {}
        sigma_n = is_sigma_n_grid(grid)
        fit = _table(values, "fit", errors)
        for key, value in fit.items():
            kind = FIT_KEYS.get(key)
            if kind is None:
                errors.append(f"[fit] unknown key {key!r}; allowed: {', '.join(FIT_KEYS)}")
            elif not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                errors.append(f"[fit] {key} has the wrong type: {value!r}")
        if sigma_n and "model_size" in fit:
            errors.append("[fit] model_size cannot be set in a study whose grid has model_sizes: N is each run's model_size column")
        if sigma_n:
            stage2 = None
            if "stage2" in values:
                errors.append(
                    "[stage2] does not apply: a study whose grid has two or more model_sizes follows the (σ, N) protocol "
                    "(grid → joint laws → a bigger model held out), which fits D_J(σ, N) from the grid; remove [stage2]"
                )
        else:
            stage2 = _stage2(_table(values, "stage2", errors), errors)
        holdout = _holdout(_table(values, "holdout", errors), sigma_n, errors)
        extension = _grid_extension(_table(values, "grid_extension", errors), errors)
        if errors:
            raise StudyError(errors)
        return cls(grid=grid, stage2=stage2, fit=fit, holdout=holdout, grid_extension=extension)

    def fingerprint(self) -> str:
        """A hash of the whole study config: a run directory holds one study."""
        # Settings added after studies were first written are left out at their defaults, so a study
        # directory written before them keeps its fingerprint.
        holdout = {key: value for key, value in self.holdout.__dict__.items() if not (key in ("utd", "model_size_factor") and value is None)}
        tables = {"grid": self.grid, "fit": self.fit, "holdout": holdout}
        if self.stage2 is not None:
            tables["stage2"] = self.stage2.__dict__
        if self.grid_extension != GridExtensionSettings():
            tables["grid_extension"] = self.grid_extension_table()
        canonical = json.dumps(tables, sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def grid_extension_table(self) -> dict[str, Any]:
        """[grid_extension] as a TOML table (None fields left out)."""
        settings = self.grid_extension
        table = {"max_rounds": settings.max_rounds, **dataclasses.asdict(settings.limits)}
        if settings.max_new_runs is not None:
            table["max_new_runs"] = settings.max_new_runs
        return {key: list(value) if isinstance(value, tuple) else value for key, value in table.items()}


def is_sigma_n_grid(grid: dict[str, Any]) -> bool:
    """Whether a grid sweep's fields list two or more model sizes."""
    sizes = grid.get("model_sizes")
    return isinstance(sizes, list) and len(sizes) >= 2


def _table(values: dict, name: str, errors: list[str]) -> dict:
    table = values.get(name, {})
    if not isinstance(table, dict):
        errors.append(f"[{name}] must be a table, got {table!r}")
        return {}
    return table


def _numbers(value, kind) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, kind) and not isinstance(item, bool) for item in value)


def _stage2(table: dict, errors: list[str]) -> Stage2Settings:
    allowed = ("utd", "seeds", "baseline_utd", "env_steps", "env_steps_margin", "set")
    errors += [f"[stage2] unknown key {key!r}; allowed: {', '.join(allowed)}" for key in table if key not in allowed]
    utd, seeds = table.get("utd"), table.get("seeds")
    if not (_numbers(utd, (int, float)) and all(0 < value <= MAX_UTD for value in utd)):
        errors.append(f"[stage2] utd must be a list of σ in (0, {MAX_UTD}], got {utd!r}")
        utd = [1.0]
    if not (_numbers(seeds, int) and all(value >= 0 for value in seeds) and len(set(seeds)) == len(seeds)):
        errors.append(f"[stage2] seeds must be a list of distinct integers >= 0 (at least 2 for the bootstrap), got {seeds!r}")
        seeds = [0, 1]
    elif len(seeds) < 2:
        errors.append(f"[stage2] seeds needs at least 2 seeds for the bootstrap, got {seeds!r}")
    baseline = table.get("baseline_utd")
    if baseline is not None and not (isinstance(baseline, (int, float)) and baseline > 0):
        errors.append(f"[stage2] baseline_utd must be a positive σ of the grid, got {baseline!r}")
    _check_env_steps("stage2", table, errors)
    overrides = table.get("set", {})
    if not isinstance(overrides, dict):
        errors.append(f"[stage2] set must be a table of sweep fields, got {overrides!r}")
        overrides = {}
    return Stage2Settings(
        utd=tuple(float(value) for value in utd),
        seeds=tuple(seeds),
        baseline_utd=None if baseline is None else float(baseline),
        env_steps=table.get("env_steps"),
        env_steps_margin=float(table.get("env_steps_margin", DEFAULT_ENV_STEPS_MARGIN)),
        set=overrides,
    )


def _holdout(table: dict, sigma_n: bool, errors: list[str]) -> HoldoutSettings:
    allowed = ("model_size_factor" if sigma_n else "budget_factor", "seeds", "env_steps", "env_steps_margin", *(() if sigma_n else ("utd",)))
    for key in table:
        if key in ("budget_factor", "utd") and sigma_n:
            errors.append(
                f"[holdout] {key} does not apply to a study whose grid has model_sizes: its held-out config is the one the "
                "joint laws recommend for the budget whose N*(F) is model_size_factor × the largest trained N; set model_size_factor"
            )
        elif key == "model_size_factor" and not sigma_n:
            errors.append("[holdout] model_size_factor applies only to a study whose grid has two or more model_sizes")
        elif key not in allowed:
            errors.append(f"[holdout] unknown key {key!r}; allowed: {', '.join(allowed)}")
    utd = table.get("utd")
    if utd is not None and not (isinstance(utd, (int, float)) and not isinstance(utd, bool) and 0 < utd <= MAX_UTD):
        errors.append(f"[holdout] utd must be a σ in (0, {MAX_UTD:g}], got {utd!r}")
        utd = None
    factor = table.get("budget_factor", 1.0)
    if not _positive(factor):
        errors.append(f"[holdout] budget_factor must be a positive number, got {factor!r}")
        factor = 1.0
    size_factor = table.get("model_size_factor", DEFAULT_MODEL_SIZE_FACTOR) if sigma_n else None
    if sigma_n and not (_positive(size_factor) and size_factor > 1):
        errors.append(f"[holdout] model_size_factor must be a number > 1 (a model bigger than any trained), got {size_factor!r}")
        size_factor = DEFAULT_MODEL_SIZE_FACTOR
    seeds = table.get("seeds", list(HoldoutSettings.seeds))
    if not (_numbers(seeds, int) and len(seeds) >= 2 and len(set(seeds)) == len(seeds) and min(seeds) >= 0):
        errors.append(f"[holdout] seeds must be at least 2 distinct integers >= 0, got {seeds!r}")
        seeds = list(HoldoutSettings.seeds)
    _check_env_steps("holdout", table, errors)
    return HoldoutSettings(
        budget_factor=float(factor),
        seeds=tuple(seeds),
        env_steps=table.get("env_steps"),
        env_steps_margin=float(table.get("env_steps_margin", DEFAULT_ENV_STEPS_MARGIN)),
        utd=None if utd is None else float(utd),
        model_size_factor=None if size_factor is None else float(size_factor),
    )


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)


def _grid_extension(table: dict, errors: list[str]) -> GridExtensionSettings:
    limit_names = tuple(field.name for field in dataclasses.fields(GridLimits))
    allowed = ("max_rounds", "max_new_runs", *limit_names)
    errors += [f"[grid_extension] unknown key {key!r}; allowed: {', '.join(allowed)}" for key in table if key not in allowed]
    rounds = table.get("max_rounds", DEFAULT_MAX_ROUNDS)
    if not (isinstance(rounds, int) and not isinstance(rounds, bool) and rounds >= 0):
        errors.append(f"[grid_extension] max_rounds must be an integer >= 0 (0: no extension), got {rounds!r}")
        rounds = DEFAULT_MAX_ROUNDS
    cap = table.get("max_new_runs")
    if cap is not None and not (isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0):
        errors.append(f"[grid_extension] max_new_runs must be an integer >= 0, got {cap!r}")
        cap = None
    given = {key: tuple(value) if isinstance(value, list) else value for key, value in table.items() if key in limit_names}
    try:
        limits = GridLimits(**given)
        limit_errors = limits.errors()
    except TypeError as error:
        limits, limit_errors = GridLimits(), [str(error)]
    errors += [f"[grid_extension] {error}" for error in limit_errors]
    return GridExtensionSettings(max_rounds=rounds, max_new_runs=cap, limits=limits if not limit_errors else GridLimits())


def _check_env_steps(name: str, table: dict, errors: list[str]) -> None:
    steps = table.get("env_steps")
    if steps is not None and not (isinstance(steps, int) and not isinstance(steps, bool) and steps > 0):
        errors.append(f"[{name}] env_steps must be a positive integer, got {steps!r}")
    margin = table.get("env_steps_margin", DEFAULT_ENV_STEPS_MARGIN)
    if not (isinstance(margin, (int, float)) and not isinstance(margin, bool) and margin > 0):
        errors.append(f"[{name}] env_steps_margin must be a positive number, got {margin!r}")


def rounded_env_steps(needed: float, eval_interval: int) -> int:
    """`needed` env steps rounded up to a positive multiple of `eval_interval`."""
    return int(eval_interval * max(1, math.ceil(needed / eval_interval)))


def stage2_sweep_values(
    proposal: Proposal, base: dict[str, Any], seeds: tuple[int, ...], env_steps: int | None, eval_interval: int
) -> dict[str, Any]:
    """The stage-2 sweep's fields: `base` (the grid sweep's, without its axes) with the proposal's
    explicit configs, `seeds`, and `env_steps` (default: the most any σ needs, rounded up to
    `eval_interval`: one sweep has one env_steps for every config)."""
    values = {key: value for key, value in base.items() if key not in GRID_AXES}
    values["configs"] = [
        {"utd": config.utd, "batch_size": config.batch_size, "learning_rate": config.learning_rate} for config in proposal.configs
    ]
    values["seeds"] = list(seeds)
    values["env_steps"] = env_steps if env_steps is not None else rounded_env_steps(proposal.env_steps_needed, eval_interval)
    return values


def extension_sweep_values(extension: GridExtension, grid: dict[str, Any]) -> dict[str, Any]:
    """The sweep of one grid-extension round: the grid sweep's fields without its axes, the
    round's new configs as explicit configs, for every seed of the grid."""
    values = {key: value for key, value in grid.items() if key not in GRID_AXES or key in ("seeds", "env_steps")}
    values["configs"] = [
        {"utd": config.utd, "batch_size": config.batch_size, "learning_rate": config.learning_rate} for config in extension.configs
    ]
    return values


def holdout_sweep_values(
    recommendation: Recommendation | SigmaNRecommendation, base: dict[str, Any], settings: HoldoutSettings, eval_interval: int
) -> dict[str, Any]:
    """The held-out run's fields: `base` without its axes, the recommended (σ*, B*, η*) as the one
    explicit config, the settings' seeds, and env steps for the upper end of the predicted D."""
    values = {key: value for key, value in base.items() if key not in GRID_AXES}
    values["configs"] = [
        {
            "utd": float(f"{recommendation.utd:.{RUN_DIGITS}g}"),
            "batch_size": recommendation.batch_size,
            "learning_rate": float(f"{recommendation.learning_rate:.{RUN_DIGITS}g}"),
        }
    ]
    values["seeds"] = list(settings.seeds)
    upper = max(recommendation.data, recommendation.data_interval[1])
    values["env_steps"] = settings.env_steps or rounded_env_steps(settings.env_steps_margin * upper, eval_interval)
    return values


def sigma_n_holdout_sweep_values(
    recommendation: SigmaNRecommendation, grid: dict[str, Any], settings: HoldoutSettings, eval_interval: int
) -> dict[str, Any]:
    """The (σ, N) held-out run's fields: the grid's without its model sizes, at the recommendation's
    hidden width and depth (whose critic has N* parameters), otherwise as `holdout_sweep_values`."""
    if recommendation.hidden_width is None:
        raise ValueError("the recommendation has no hidden width (see its notes)")
    base = {key: value for key, value in grid.items() if key not in SIZE_FIELDS}
    base["hidden_width"], base["hidden_depth"] = recommendation.hidden_width, recommendation.hidden_depth
    return holdout_sweep_values(recommendation, base, settings, eval_interval)
