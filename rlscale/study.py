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
`rlscale/run/study_runner.py`.

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
from rlscale.laws.grid_edges import BRACKETED, BUDGET, LIMITS, GridExtension, GridLimits, within_budget
from rlscale.laws.options import OPTION_ALIASES, FitOptions, read_fit_options
from rlscale.laws.propose import DEFAULT_ENV_STEPS_MARGIN
from rlscale.laws.results import Proposal, Recommendation, SigmaNRecommendation
from rlscale.typed import Reading, allowed, out_of_range, read, shown

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

FIT_KEYS = (
    "thresholds", "selection_threshold", "bootstrap", "seed", "delta", "model_size", "data_points", "data_law_loss",
    "unreached_cells", "tied_votes", "crossing", "running_max", "n_thresholds", "lowest_threshold", "sigma_grid_extension", "budget_grid_points", "horizon_cuts",
    "sigma_n_shared_exponents",
)
"""The keys of [fit]: options of both fits (`FitOptions`, two of them named as `rlscale fit`'s flags)."""
TABLES = ("grid", "grid_extension", "fit", "stage2", "holdout")
DEFAULT_MAX_ROUNDS = 2
"""[grid_extension] max_rounds unless set: at most this many extension rounds."""
MIN_SEEDS = 2
"""Seeds a stage needs at least: the bootstrap resamples them."""
TABLE_READING = Reading(unknown="{where} unknown key {key!r}; allowed: {known}", mistyped="{where} {key} must be {expected}, got {value!r}")
"""How the study's tables are read (`rlscale.typed`); each field states what it allows."""
FIT_READING = dataclasses.replace(
    TABLE_READING, mistyped="{where} {key} has the wrong type: must be {expected}, got {value!r}", aliases=OPTION_ALIASES, keys=FIT_KEYS
)
LIMIT_KEYS = tuple(item.name for item in dataclasses.fields(GridLimits))
"""[grid_extension] keys of its `GridLimits`."""
OWN_EXTENSION_KEYS = ("max_rounds", "max_new_runs")
"""[grid_extension] keys of `GridExtensionSettings` itself: its budget, the one part of a study that
may change between sittings (`StudyConfig.fingerprint`)."""


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

    utd: tuple[float, ...] = field(default=(), metadata=allowed(f"a list of σ in (0, {MAX_UTD}]"))
    seeds: tuple[int, ...] = field(default=(), metadata=allowed("a list of distinct integers >= 0 (at least 2 for the bootstrap)"))
    baseline_utd: float | None = field(default=None, metadata=allowed("a positive σ of the grid"))
    env_steps: int | None = field(default=None, metadata=allowed("a positive integer"))
    env_steps_margin: float = field(default=DEFAULT_ENV_STEPS_MARGIN, metadata=allowed("a positive number"))
    set: dict[str, Any] = field(default_factory=dict, metadata=allowed("a table of sweep fields"))

    def errors(self, mistyped: frozenset[str] = frozenset()) -> list[str]:
        """The settings out of their range (those in `mistyped` left out)."""
        seeds_valid = _distinct_naturals(self.seeds)
        errors = out_of_range(self, {
            "utd": bool(self.utd) and all(0 < utd <= MAX_UTD for utd in self.utd),
            "seeds": bool(self.seeds) and seeds_valid,
            "baseline_utd": self.baseline_utd is None or self.baseline_utd > 0,
            **_env_steps_ok(self),
        }, mistyped)
        if seeds_valid and 0 < len(self.seeds) < MIN_SEEDS and "seeds" not in mistyped:
            errors.append(f"seeds needs at least {MIN_SEEDS} seeds for the bootstrap, got {shown(self.seeds)}")
        return errors


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

    budget_factor: float = field(default=1.0, metadata=allowed("a positive number"))
    seeds: tuple[int, ...] = field(default=(0, 1, 2, 3), metadata=allowed("at least 2 distinct integers >= 0"))
    env_steps: int | None = field(default=None, metadata=allowed("a positive integer"))
    env_steps_margin: float = field(default=DEFAULT_ENV_STEPS_MARGIN, metadata=allowed("a positive number"))
    utd: float | None = field(default=None, metadata=allowed(f"a σ in (0, {MAX_UTD:g}]"))
    model_size_factor: float | None = field(default=None, metadata=allowed("a number > 1 (a model bigger than any trained)"))

    def errors(self, mistyped: frozenset[str] = frozenset()) -> list[str]:
        """The settings out of their range (those in `mistyped` left out)."""
        return out_of_range(self, {
            "utd": self.utd is None or 0 < self.utd <= MAX_UTD,
            "budget_factor": 0 < self.budget_factor < math.inf,
            "model_size_factor": self.model_size_factor is None or 1 < self.model_size_factor < math.inf,
            "seeds": len(self.seeds) >= MIN_SEEDS and _distinct_naturals(self.seeds),
            **_env_steps_ok(self),
        }, mistyped)


@dataclass(frozen=True)
class GridExtensionSettings:
    """[grid_extension]: how the grid stage extends itself (rlscale/laws/grid_edges.py). After the
    grid sweep, the grid is fitted; wherever the fastest (B, η) of a σ sits on one edge of an axis in
    at least `edge_share` (default half) of its (σ, J) cells (a (σ, N) study: its (σ, N, J) cells, every model size's), the next
    value beyond that edge is added at that σ and only the new configs run, for every seed of the grid
    (and every model size); repeated until the optimum is bracketed, every value
    beyond an edge leaves the limits, `max_rounds` rounds ran, or no σ's new configs fit the runs
    left under `max_new_runs` (default: as many runs as the grid itself); a round that would pass it
    runs the σ whose new configs fit, those with an axis on an edge in the largest share of their
    cells first (`next_round`). The limits' keys (`LIMIT_KEYS`) stand in the same table."""

    max_rounds: int = field(default=DEFAULT_MAX_ROUNDS, metadata=allowed("an integer >= 0 (0: no extension)"))
    max_new_runs: int | None = field(default=None, metadata=allowed("an integer >= 0"))
    limits: GridLimits = GridLimits()

    def errors(self, mistyped: frozenset[str] = frozenset()) -> list[str]:
        """The settings out of their range (those in `mistyped` left out; the limits check themselves)."""
        ok = {"max_rounds": self.max_rounds >= 0, "max_new_runs": self.max_new_runs is None or self.max_new_runs >= 0}
        return out_of_range(self, ok, mistyped)

    def budget_text(self) -> str:
        """The budget as a user wrote it: "max_rounds = 2, max_new_runs = 120"."""
        runs = "as many as the grid" if self.max_new_runs is None else str(self.max_new_runs)
        return f"max_rounds = {self.max_rounds}, max_new_runs = {runs}"

    def next_round(
        self, extension: GridExtension, round_number: int, runs_added: int, grid_runs: int, runs_per_config: int
    ) -> tuple[GridExtension, str | None]:
        """The proposed `extension` as round `round_number` (1-based) runs it, after `runs_added` runs
        in earlier rounds, each new config running `runs_per_config` times (its seeds, at every model
        size): cut to the runs the cap leaves (grid_edges.within_budget), and why the grid stops
        instead (None when the round runs)."""
        if extension.status == BRACKETED:
            return extension, "the optimum is bracketed"
        if extension.status == LIMITS:
            return extension, "every value beyond an edge leaves the limits"
        if round_number > self.max_rounds:
            return extension, f"max_rounds = {self.max_rounds} reached"
        cap = grid_runs if self.max_new_runs is None else self.max_new_runs
        extension = within_budget(extension, max(cap - runs_added, 0) // runs_per_config)
        if extension.status == BUDGET:
            smallest = min(item.configs for item in extension.deferred) * runs_per_config
            return extension, (
                f"the budget cap: the smallest σ addition needs {smallest} runs, {cap - runs_added} are left under max_new_runs = {cap}"
            )
        return extension, None


@dataclass(frozen=True)
class StudyConfig:
    """A whole study: the grid sweep's fields, its extension, fit options, and the stage-2 and
    held-out settings. A (σ, N) study (two or more `model_sizes` in the grid) has no stage 2
    (`stage2` None) and follows `SIGMA_N_STAGES`."""

    grid: dict[str, Any]
    stage2: Stage2Settings | None
    fit: dict[str, Any] = field(default_factory=dict)
    """[fit] as written (it is part of the fingerprint); `fit_options` reads it."""
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
        errors += read(FitOptions, fit, FIT_READING, "[fit]")[1]
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
            stage2 = _settings(Stage2Settings, _table(values, "stage2", errors), "stage2", errors)
        holdout = _holdout(_table(values, "holdout", errors), sigma_n, errors)
        extension = _grid_extension(_table(values, "grid_extension", errors), errors)
        if errors:
            raise StudyError(errors)
        return cls(grid=grid, stage2=stage2, fit=fit, holdout=holdout, grid_extension=extension)

    @property
    def stage2_base(self) -> dict[str, Any]:
        """The sweep fields stage 2 starts from: the grid's, with [stage2] `set` applied (a (σ, N) study,
        which has no stage 2: the grid's)."""
        return {**self.grid, **(self.stage2.set if self.stage2 is not None else {})}

    def fit_options(self, **extra: Any) -> FitOptions:
        """The options of the study's fits: [fit], the baseline σ of [stage2], and `extra`."""
        baseline = None if self.stage2 is None else self.stage2.baseline_utd
        return dataclasses.replace(read_fit_options(self.fit, FIT_READING, "[fit]"), baseline_utd=baseline, **extra)

    def fingerprint(self, budget: bool = True) -> str:
        """A hash of the whole study config: a run directory holds one study. `budget=False` leaves
        out the grid extension's budget (`OWN_EXTENSION_KEYS`), the one part of a study that may
        change between sittings (run/study_runner.py: a raised budget resumes the extension)."""
        # Settings added after studies were first written are left out at their defaults, so a study
        # directory written before them keeps its fingerprint.
        holdout = {key: value for key, value in self.holdout.__dict__.items() if not (key in ("utd", "model_size_factor") and value is None)}
        tables = {"grid": self.grid, "fit": self.fit, "holdout": holdout}
        if self.stage2 is not None:
            tables["stage2"] = self.stage2.__dict__
        if budget and self.grid_extension != GridExtensionSettings():
            tables["grid_extension"] = self.grid_extension_table()
        elif not budget and self.grid_extension.limits != GridLimits():
            table = self.grid_extension_table()
            tables["grid_extension_limits"] = {key: value for key, value in table.items() if key not in OWN_EXTENSION_KEYS}
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


def _settings(cls: type, table: dict, name: str, errors: list[str], reading: Reading = TABLE_READING):
    """The `cls` settings of table [name] (read with `rlscale.typed`; their defaults when invalid),
    each problem added to `errors`."""
    where = f"[{name}]"
    settings, problems = read(cls, table, reading, where, check=lambda settings, mistyped: [
        f"{where} {error}" for error in settings.errors(mistyped)
    ])
    errors += problems
    return settings if settings is not None else cls()


def _holdout(table: dict, sigma_n: bool, errors: list[str]) -> HoldoutSettings:
    """[holdout]: a σ-only study's keys budget_factor and utd, a (σ, N) study's model_size_factor
    (default `DEFAULT_MODEL_SIZE_FACTOR`), each refused in the other kind of study."""
    for key in table:
        if key in ("budget_factor", "utd") and sigma_n:
            errors.append(
                f"[holdout] {key} does not apply to a study whose grid has model_sizes: its held-out model is the width "
                "nearest model_size_factor × the largest trained N; set model_size_factor"
            )
        elif key == "model_size_factor" and not sigma_n:
            errors.append("[holdout] model_size_factor applies only to a study whose grid has two or more model_sizes")
    settings = _settings(HoldoutSettings, table, "holdout", errors)
    if sigma_n and settings.model_size_factor is None:
        settings = dataclasses.replace(settings, model_size_factor=DEFAULT_MODEL_SIZE_FACTOR)
    return settings


def _grid_extension(table: dict, errors: list[str]) -> GridExtensionSettings:
    """[grid_extension]: its own keys read typed; its `GridLimits` keys as written, lists as tuples
    (`GridLimits.errors` checks their types; the fingerprint holds them as written)."""
    limits = GridLimits(**{key: tuple(value) if isinstance(value, list) else value for key, value in table.items() if key in LIMIT_KEYS})
    limit_errors = limits.errors()
    own = {key: value for key, value in table.items() if key not in LIMIT_KEYS}
    reading = dataclasses.replace(TABLE_READING, keys=OWN_EXTENSION_KEYS, unknown=TABLE_READING.unknown + ", " + ", ".join(LIMIT_KEYS))
    settings = _settings(GridExtensionSettings, own, "grid_extension", errors, reading)
    errors += [f"[grid_extension] {error}" for error in limit_errors]
    return dataclasses.replace(settings, limits=GridLimits() if limit_errors else limits)


def _distinct_naturals(values: tuple[int, ...]) -> bool:
    """Whether `values` are distinct integers >= 0."""
    return all(value >= 0 for value in values) and len(set(values)) == len(values)


def _env_steps_ok(settings) -> dict[str, bool]:
    """Whether the settings' `env_steps` and `env_steps_margin` are in range."""
    return {"env_steps": settings.env_steps is None or settings.env_steps > 0, "env_steps_margin": settings.env_steps_margin > 0}


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
