"""Typed results of the law fits, and the one JSON encoding they all share (fit.json, see SCHEMA.md).

Every result is a frozen dataclass deriving from `Record`: `to_dict()` encodes it with `encode`
(dataclasses to dicts, tuples and arrays to lists, non-finite floats to null, numpy scalars to
Python numbers) and `Cls.from_dict(data)` decodes such a structure back into the types, driven by
the fields' type hints (`read_fit` does it for a whole fit.json). A field's metadata may rename its
key (`JSON_KEY`), keep it out of the JSON (`NOT_IN_JSON`), or write a nested record's keys at its
own level (`FLATTENED`); `json_properties` names read-only properties written next to the fields
(and ignored when decoding). A key missing from older fit.json files takes the field's default.

This decoder reads back what `encode` wrote, trusted and lenient (renamed and flattened keys, null
for a non-finite float, arrays); what a person writes (a sweep file, a study's tables, fit options)
is read strictly, with every problem named, by `rlscale.typed`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from rlscale.laws.bootstrap import summarize
from rlscale.laws.sigma_n_laws import inverse_power_product, joint_data_law
from rlscale.laws.table import FitInputError

RECOVERY_RULES = ("mean", "overlap")
LOGGED = "logged"
"""Crossing rule (crossings.py): a curve crosses J at its first logged step at or above J (qscaled's)."""
INTERPOLATED = "interpolated"
"""Crossing rule: linearly between that step and the logged step before it."""
CROSSING_RULES = (LOGGED, INTERPOLATED)
AT_RESET_STEP_RULES = ("after", "before")
EDGE_LOW, EDGE_HIGH, EDGE_ONLY = "low", "high", "only"
"""A cell's edge on one axis: its fastest value is the row's smallest, largest, or only value."""
HPARAM_AXES = ("batch_size", "learning_rate")
BRACKETED_SHARE = 0.8
"""Share of (env, σ, J) cells whose fastest (B, η) must be inside the grid on both axes for the
grid to count as bracketing the optimum; a fit below it gets a note."""
POOLED_SCOPE = "all"
"""The scope of laws fitted to every env together (App. D pooling, see `pooling.py`)."""

JSON_KEY = "json_key"
NOT_IN_JSON = "not_in_json"
FLATTENED = "flattened"


def _array_field():
    """An ndarray field compared by identity (dataclass equality cannot compare arrays)."""
    return field(default_factory=lambda: np.zeros(0), compare=False)


def encode(value: Any) -> Any:
    """`value` as JSON-ready Python data: dataclasses as dicts (by their fields' JSON keys), tuples,
    lists and arrays as lists, mappings with string keys, non-finite floats as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        encoded = {}
        for field_ in dataclasses.fields(value):
            if field_.metadata.get(NOT_IN_JSON):
                continue
            item = encode(getattr(value, field_.name))
            if field_.metadata.get(FLATTENED):
                encoded.update(item)
            else:
                encoded[field_.metadata.get(JSON_KEY, field_.name)] = item
        for name in getattr(value, "json_properties", ()):
            encoded[name] = encode(getattr(value, name))
        return encoded
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return encode(value.tolist())
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def decode(cls: type, data: Mapping) -> Any:
    """The `cls` record encoded as `data` (the inverse of `encode` for `Record` types).

    Raises:
        FitInputError: `data` is not a mapping, or lacks a key that has no default.
    """
    if not isinstance(data, Mapping):
        raise FitInputError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    values = {}
    for field_ in dataclasses.fields(cls):
        if field_.metadata.get(NOT_IN_JSON):
            continue
        if field_.metadata.get(FLATTENED):
            values[field_.name] = _decode_value(hints[field_.name], data)
            continue
        key = field_.metadata.get(JSON_KEY, field_.name)
        if key not in data:
            if field_.default is dataclasses.MISSING and field_.default_factory is dataclasses.MISSING:
                raise FitInputError(f"{cls.__name__} in the fit lacks the key {key!r}")
            continue
        values[field_.name] = _decode_value(hints[field_.name], data[key])
    return cls(**values)


def _decode_value(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _decode_value(next(arg for arg in args if arg is not type(None)), value)
    if hint is float:
        return math.nan if value is None else float(value)
    if hint in (int, bool, str):
        return hint(value)
    if hint is np.ndarray:
        if value and all(isinstance(item, bool) for item in value):
            return np.array(value, dtype=bool)
        return np.array(value, dtype=float)
    if isinstance(hint, type) and issubclass(hint, Record):
        return decode(hint, value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode_value(args[0], item) for item in value)
        return tuple(_decode_value(arg, item) for arg, item in zip(args, value))
    if origin in (dict, Mapping):
        return {str(key): _decode_value(args[1], item) for key, item in value.items()}
    return value


class Record:
    """Base of every result type: one encoder and one decoder for all of them."""

    json_properties: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict:
        """The JSON structure of this result (see SCHEMA.md)."""
        return encode(self)

    @classmethod
    def from_dict(cls, data: Mapping):
        """The result encoded as `data` by `to_dict` (or read from a fit.json)."""
        return decode(cls, data)


@dataclass(frozen=True)
class ResetSchedule(Record):
    """How to find and filter a config's resets (see rlscale/laws/resets.py).

    Attributes:
        env_steps: reset env steps for every config (tables without a `reset_env_steps` column).
        every_grad_steps: a reset every this many gradient steps (env steps int(G / σ) at UTD σ).
        window: evaluations after each reset always dropped, before the recovery test (qscaled's
            `window`; its DMC analysis uses 1, the default).
        recovery: "mean": the seed-mean return is back at or above its last pre-reset value
            (qscaled HEAD); "overlap": the seed-mean plus its standard error reaches the pre-reset
            mean minus its standard error (the rule behind the published DMC fits, qscaled 5f9a48a).
        at_reset_step: where an evaluation logged at a reset's env step belongs: "after" the reset
            (default: rlscale's engine resets before it evaluates at that step; qscaled HEAD's
            `searchsorted(side="left")`) or "before" it (qscaled 5f9a48a, behind the published DMC fits).
    """

    env_steps: tuple[int, ...] = ()
    every_grad_steps: float | None = None
    window: int = 1
    recovery: str = "mean"
    at_reset_step: str = "after"

    def __post_init__(self) -> None:
        if self.recovery not in RECOVERY_RULES:
            raise FitInputError(f"reset recovery must be one of {', '.join(RECOVERY_RULES)}, got {self.recovery!r}")
        if self.at_reset_step not in AT_RESET_STEP_RULES:
            raise FitInputError(
                f"reset at-reset-step must be one of {', '.join(AT_RESET_STEP_RULES)}, got {self.at_reset_step!r}"
            )
        if self.window < 0:
            raise FitInputError(f"reset window must be >= 0 evaluations, got {self.window}")
        if any(step < 0 for step in self.env_steps):
            raise FitInputError(f"reset env steps must be >= 0, got {list(self.env_steps)}")
        if self.every_grad_steps is not None and not self.every_grad_steps > 0:
            raise FitInputError(f"reset every-gradient-steps must be positive, got {self.every_grad_steps}")

    def for_config(self, utd: float, last_env_step: int, logged: Iterable[int] = ()) -> np.ndarray:
        """Sorted unique reset env steps of a config at UTD `utd`: the steps `logged` in its rows,
        else this schedule's, up to `last_env_step`."""
        steps = set(int(step) for step in logged)
        if not steps:
            steps = set(self.env_steps)
            if self.every_grad_steps is not None:
                period = int(self.every_grad_steps / utd)
                steps |= set(range(period, last_env_step + 1, period)) if period > 0 else set()
        return np.array(sorted(step for step in steps if step <= last_env_step), dtype=np.int64)


@dataclass(frozen=True)
class CensoredConfig(Record):
    """A config whose seed-mean curve never reaches `threshold` (excluded from fits at J)."""

    env: str
    utd: float
    batch_size: int
    learning_rate: float
    threshold: float
    last_env_step: int
    diverged_at_env_step: float | None


@dataclass(frozen=True)
class BestHparams(Record):
    """The config with the smallest time to `threshold` for (env, utd) (ties: smaller B, then η)."""

    env: str
    utd: float
    threshold: float
    batch_size: int
    learning_rate: float
    time_to_threshold: float
    time_to_threshold_median: float
    time_to_threshold_ci: tuple[float, float]


@dataclass(frozen=True)
class HparamPoint(Record):
    """One (env, σ) point of a best-hyperparameter law: the bootstrap-averaged best value and
    the 5–95% interval of the per-resample best values."""

    env: str
    utd: float
    value: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class PowerLaw(Record):
    """value*(σ) = (beta[env] / σ)^alpha, from a shared-slope log10 fit.

    Attributes:
        hyperparameter: `batch_size` or `learning_rate`.
        alpha: shared exponent (= -slope of the log10–log10 fit).
        beta: per-env scale β_env = 10^(intercept / alpha).
        intercept: per-env a_env = log10 of the law's value at σ = 1.
        alpha_median, alpha_ci: median and 5–95% interval of alpha over bootstrap resamples.
        beta_median, beta_ci: per-env median and 5–95% interval of β over resamples.
        points: the fitted (env, σ) best values.
    """

    hyperparameter: str
    alpha: float
    beta: dict[str, float]
    intercept: dict[str, float]
    alpha_median: float
    alpha_ci: tuple[float, float]
    beta_median: dict[str, float]
    beta_ci: dict[str, tuple[float, float]]
    points: tuple[HparamPoint, ...]
    json_properties: ClassVar[tuple[str, ...]] = ("slope",)

    @property
    def slope(self) -> float:
        """The log10–log10 slope, -alpha."""
        return -self.alpha

    def predict(self, env: str, sigma: float | np.ndarray) -> float | np.ndarray:
        """The law's best value for `env` at UTD `sigma` (any shape). For the pooled scope "all",
        the arithmetic mean over envs of their values (qscaled's `get_fit_mean_batch_size`)."""
        log_sigma = np.log10(sigma)
        if env == POOLED_SCOPE:
            return np.mean([10.0 ** (intercept + self.slope * log_sigma) for intercept in self.intercept.values()], axis=0)
        return 10.0 ** (self.intercept[env] + self.slope * log_sigma)

    def predict_with_alpha(self, env: str, sigma: float | np.ndarray, alpha: float) -> float | np.ndarray:
        """The law with its exponent set to `alpha`, pivoting at the mean log σ of `env`'s points
        (all points for "all"), where the least-squares line is best determined."""
        points = [point for point in self.points if env == POOLED_SCOPE or point.env == env]
        log_center = float(np.mean([math.log10(point.utd) for point in points]))
        center_value = self.predict(env, 10.0**log_center)
        return center_value * (np.asarray(sigma, dtype=float) / 10.0**log_center) ** (-alpha)


@dataclass(frozen=True)
class DataPoint(Record):
    """D_J of `env` at one σ (+inf: not reached): the time of the config the point stands for, with
    the bootstrap median and interval. For an env, `batch_size` and `learning_rate` name that config
    (the one nearest the fitted B*(σ), η*(σ), or the fastest with `data_points="minimum"`); for the
    pooled scope they are None and the time is the App. D mean over envs (see `pooling.py`)."""

    env: str
    utd: float
    time: float
    median: float
    ci: tuple[float, float]
    batch_size: int | None = None
    learning_rate: float | None = None


@dataclass(frozen=True)
class DataLawFit(Record):
    """D_J(σ) = d_min + (beta / σ)^alpha for one threshold and scope (env or "all").

    For scope "all" (App. D): each env's times are divided by that env's median over every (σ, J)
    (`env_scales`), averaged over envs per (σ, J), fitted, and the law and points rescaled by the
    median of those medians (`scale`), so they read in env steps of a "typical" env.
    `*_resamples` (shape (R,)) are the law refitted on each bootstrap resample (NaN: too few points).
    """

    threshold: float
    scope: str
    d_min: float
    beta: float
    alpha: float
    rms_log_residual: float
    d_min_median: float
    beta_median: float
    alpha_median: float
    d_min_ci: tuple[float, float]
    beta_ci: tuple[float, float]
    alpha_ci: tuple[float, float]
    points: tuple[DataPoint, ...]
    scale: float = 1.0
    env_scales: dict[str, float] = field(default_factory=dict)
    d_min_resamples: np.ndarray = _array_field()
    beta_resamples: np.ndarray = _array_field()
    alpha_resamples: np.ndarray = _array_field()

    def predict(self, sigma: float | np.ndarray) -> float | np.ndarray:
        """D_J at UTD `sigma` (env steps; any shape)."""
        with np.errstate(over="ignore"):
            return self.d_min + (self.beta / np.asarray(sigma, dtype=float)) ** self.alpha

    def predict_resamples(self, sigma: float | np.ndarray) -> np.ndarray:
        """Shape (R, *sigma.shape): D_J at `sigma` under each resample's law (NaN where it failed)."""
        sigma = np.asarray(sigma, dtype=float)
        expand = (slice(None),) + (None,) * sigma.ndim
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.d_min_resamples[expand] + (self.beta_resamples[expand] / sigma) ** self.alpha_resamples[expand]

    def predict_interval(self, sigma: float, interval: tuple[float, float]) -> tuple[float, float]:
        """The `interval` percentiles of the resampled laws' D_J at `sigma`; (NaN, NaN) without resamples."""
        if self.alpha_resamples.size == 0:
            return (math.nan, math.nan)
        _, low, high = summarize(self.predict_resamples(float(sigma)), axis=0, interval=interval)
        return (float(low), float(high))


@dataclass(frozen=True)
class BudgetPoint(Record):
    """The optimum for one threshold: σ*(J), F*(J), its C and D, and whether it was held out of
    the fit; `at_grid_edge` flags a σ* on the end of the σ grid (a lower/upper bound only)."""

    threshold: float
    sigma: float = field(metadata={JSON_KEY: "utd"})
    budget: float
    compute: float
    data: float
    held_out: bool
    at_grid_edge: bool


@dataclass(frozen=True)
class BudgetLaw(Record):
    """σ*(F) = coefficient · F^exponent for one scope.

    Attributes:
        scope: env name or "all".
        delta: cost of one environment step in FLOPs.
        model_size: N, the agent's parameter count.
        coefficient, exponent: a and b (NaN when fewer than two points remain for the fit).
        held_out_relative_error: |σ̂(F) − σ*| / σ* for the held-out (largest-F) points, ascending F.
        points: one per threshold, ascending F.
        coefficient_median, coefficient_ci, exponent_median, exponent_ci: over bootstrap resamples
            of the data laws (the same procedure on each resample's laws; NaN without resamples).
        degenerate_resamples: resamples whose refit was impossible (every fitted F* equal, so the
            regression has no slope) or whose laws failed; left out of the intervals.
    """

    scope: str
    delta: float
    model_size: float
    coefficient: float
    exponent: float
    held_out_relative_error: tuple[float, ...]
    points: tuple[BudgetPoint, ...]
    coefficient_median: float = math.nan
    coefficient_ci: tuple[float, float] = (math.nan, math.nan)
    exponent_median: float = math.nan
    exponent_ci: tuple[float, float] = (math.nan, math.nan)
    degenerate_resamples: int = 0

    def predict(self, budget: float | np.ndarray) -> float | np.ndarray:
        """σ*(F) for budget(s) F in FLOPs (NaN or inf when the law could not be fitted)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.coefficient * np.asarray(budget, dtype=float) ** self.exponent


@dataclass(frozen=True)
class FrontierCurve(Record):
    """The data–compute trade-off for one (scope, threshold J) along a σ grid (G points).

    Attributes:
        scope: env name or "all".
        threshold: J.
        sigma: shape (G,), log-spaced UTD grid.
        batch_size: shape (G,), B*(σ) from the batch-size law (for "all": the mean over envs).
        data: shape (G,), D_J(σ) from the data law (env steps).
        compute: shape (G,), C_J(σ) in FLOPs.
        on_frontier: shape (G,), Pareto-optimal points.
    """

    scope: str
    threshold: float
    sigma: np.ndarray = field(metadata={JSON_KEY: "utd"}, compare=False)
    batch_size: np.ndarray = field(compare=False)
    data: np.ndarray = field(compare=False)
    compute: np.ndarray = field(compare=False)
    on_frontier: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class SizeOptimum(Record):
    """The cheapest way for one model size to reach J: σ* on the grid and its F, C, D and B."""

    model_size: float
    utd: float
    budget: float
    compute: float
    data: float
    batch_size: float
    at_grid_edge: bool


@dataclass(frozen=True)
class ModelSizeSplit(Record):
    """For one threshold J: the budget-optimal (N, σ) (`best`, written at this level), every size's
    own optimum (`per_size`, ascending N) and the sizes without a data law at J."""

    threshold: float
    best: SizeOptimum = field(metadata={FLATTENED: True})
    per_size: tuple[SizeOptimum, ...] = ()
    sizes_without_law: tuple[float, ...] = ()


@dataclass(frozen=True)
class BaselineConfig(Record):
    """The baseline of stage 2 for one env: the grid's fastest config at σ = `utd` (at the
    selection threshold), run unchanged at every stage-2 σ."""

    env: str
    utd: float
    batch_size: int
    learning_rate: float


def fastest_config(best_hparams: tuple[BestHparams, ...], env: str, utd: float, threshold: float) -> BaselineConfig | None:
    """The baseline of `env`: its fastest config at σ = `utd` to `threshold`, or None if none reaches it."""
    for item in best_hparams:
        if item.env == env and math.isclose(item.utd, utd) and math.isclose(item.threshold, threshold):
            return BaselineConfig(env, float(utd), item.batch_size, item.learning_rate)
    return None


@dataclass(frozen=True)
class EdgeCell(Record):
    """One (env, σ, J) cell: the fastest config and where its B and η sit on the grid.

    `batch_size_edge` / `learning_rate_edge`: "low", "high", "only" (a single value tried), or None
    when the value is inside the grid (or the configs tied for fastest disagree). `batch_sizes` and
    `learning_rates` are every value tried at (env, σ), ascending. `tied_with_edge`: several configs
    tied for fastest and one of them sits on an edge."""

    env: str
    utd: float
    threshold: float
    batch_size: int
    learning_rate: float
    batch_size_edge: str | None
    learning_rate_edge: str | None
    batch_sizes: tuple[int, ...]
    learning_rates: tuple[float, ...]
    tied_with_edge: bool = False
    """Several configs tied for fastest, one of them on an edge of B or η (fits written before the key
    existed: False)."""
    json_properties: ClassVar[tuple[str, ...]] = ("inside",)

    @property
    def inside(self) -> bool:
        """Neither B nor η of the fastest config sits on the grid's edge."""
        return self.batch_size_edge is None and self.learning_rate_edge is None


@dataclass(frozen=True)
class GridEdgeReport(Record):
    """Every reached (env, σ, J) cell of a grid fit, and the share whose optimum is inside."""

    cells: tuple[EdgeCell, ...]
    json_properties: ClassVar[tuple[str, ...]] = ("inside_share", "edge_counts", "inside_tied_with_edge")

    @property
    def inside_share(self) -> float:
        """Share of cells inside the grid on both axes (NaN without cells)."""
        return float(np.mean([cell.inside for cell in self.cells])) if self.cells else math.nan

    @property
    def edge_counts(self) -> dict[str, dict[str, int]]:
        """{axis: {"low": n, "high": n, "only": n}}: cells on each edge of each axis."""
        return {
            axis: {edge: sum(getattr(cell, f"{axis}_edge") == edge for cell in self.cells) for edge in (EDGE_LOW, EDGE_HIGH, EDGE_ONLY)}
            for axis in HPARAM_AXES
        }

    @property
    def bracketed(self) -> bool:
        """At least BRACKETED_SHARE of the cells are inside."""
        return bool(self.cells) and self.inside_share >= BRACKETED_SHARE

    def summary(self) -> str:
        """One line: the share inside and the edge counts."""
        counts = self.edge_counts
        parts = [
            f"{name} at its smallest in {counts[axis][EDGE_LOW]}, largest in {counts[axis][EDGE_HIGH]}"
            + (f", the only value in {counts[axis][EDGE_ONLY]}" if counts[axis][EDGE_ONLY] else "")
            for axis, name in zip(HPARAM_AXES, ("B", "η"))
        ]
        inside = sum(cell.inside for cell in self.cells)
        tied = self.inside_tied_with_edge
        by_ties = f" ({tied} of them only because configs tied for fastest, some on an edge, disagree on it)" if tied else ""
        return f"fastest (B, η) inside the grid in {inside} of {len(self.cells)} (env, σ, J) cells{by_ties}; " + "; ".join(parts)

    @property
    def inside_tied_with_edge(self) -> int:
        """Cells counted inside whose tied fastest configs include one on an edge."""
        return sum(cell.inside and cell.tied_with_edge for cell in self.cells)


@dataclass(frozen=True)
class VoteTies(Record):
    """At one (env, σ), the votes for the best `hyperparameter` ("batch_size" or "learning_rate") at
    the selection threshold: how many had a reached fastest time (`reached_votes`, one per resample
    and value of the other hyperparameter) and how many of those several values shared (`tied_votes`:
    they reached the threshold at the same logged step)."""

    env: str
    utd: float
    hyperparameter: str
    reached_votes: int
    tied_votes: int


def tie_shares(vote_ties: Iterable[VoteTies]) -> dict[str, float]:
    """{"batch_size": share, "learning_rate": share}: the tied share of each law's reached votes
    over every (env, σ) (a law without reached votes is left out)."""
    counts: dict[str, list[int]] = {}
    for ties in vote_ties:
        tied, reached = counts.setdefault(ties.hyperparameter, [0, 0])
        counts[ties.hyperparameter] = [tied + ties.tied_votes, reached + ties.reached_votes]
    return {hyperparameter: tied / reached for hyperparameter, (tied, reached) in counts.items() if reached}


def tie_summary(vote_ties: Iterable[VoteTies], rule: str) -> str | None:
    """'tied votes: 21% of the B* votes, 20% of the η* votes (to the smallest)' or None without votes."""
    shares = tie_shares(vote_ties)
    if not shares:
        return None
    symbols = {"batch_size": "B*", "learning_rate": "η*"}
    destination = "to the smallest tied value" if rule == "smallest" else "shared among the tied values"
    return "tied votes: " + ", ".join(f"{share:.0%} of the {symbols[name]} votes" for name, share in shares.items()) + f" ({destination})"


@dataclass(frozen=True)
class CrossingDependence(Record):
    """At threshold J: configs whose seed-mean curve reaches J (`n_reached`), how many have an
    isotonic crossing later than their raw first crossing (`n_moved`), and the median and 90th
    percentile of isotonic / raw crossing over the reaching configs."""

    threshold: float
    n_reached: int
    n_moved: int
    ratio_median: float
    ratio_p90: float


@dataclass(frozen=True)
class HorizonCut(Record):
    """The laws refitted on the rows up to `fraction` of each env's horizon (`env_steps`: the
    largest env step kept, over envs). `error` says why the refit failed (then the rest is NaN)."""

    fraction: float
    env_steps: int
    batch_size_alpha: float = math.nan
    batch_size_alpha_ci: tuple[float, float] = (math.nan, math.nan)
    learning_rate_alpha: float = math.nan
    learning_rate_alpha_ci: tuple[float, float] = (math.nan, math.nan)
    inside_share: float = math.nan
    error: str | None = None


@dataclass(frozen=True)
class HorizonSensitivity(Record):
    """`crossing`: the dependence of the selection threshold's crossings on later data; `cuts`: the
    laws refitted on truncated rows, next to the full fit's (`full_env_steps`)."""

    full_env_steps: int
    crossing: CrossingDependence
    cuts: tuple[HorizonCut, ...] = ()

    def summary(self) -> list[str]:
        """Lines for the fit's summary and the study report."""
        crossing = self.crossing
        lines = [
            f"horizon: at J={crossing.threshold:g} the isotonic crossing is later than the raw first crossing for "
            f"{crossing.n_moved} of {crossing.n_reached} configs (isotonic/raw median {crossing.ratio_median:.3g}, "
            f"90th percentile {crossing.ratio_p90:.3g})"
        ]
        for cut in self.cuts:
            if cut.error:
                lines.append(f"horizon cut to {cut.fraction:g} ({cut.env_steps} env steps): not fitted: {cut.error}")
            else:
                lines.append(
                    f"horizon cut to {cut.fraction:g} ({cut.env_steps} env steps): α_B = {cut.batch_size_alpha:.3f} "
                    f"[{cut.batch_size_alpha_ci[0]:.3f}, {cut.batch_size_alpha_ci[1]:.3f}], α_η = "
                    f"{cut.learning_rate_alpha:.3f} [{cut.learning_rate_alpha_ci[0]:.3f}, {cut.learning_rate_alpha_ci[1]:.3f}]"
                )
        return lines


@dataclass(frozen=True)
class FitResult(Record):
    """Everything `fit_laws` fitted; `to_dict()` is the fit.json structure (see SCHEMA.md).

    `stage` is "grid" (one table did everything) or "hparam_laws" (stage 2: B*(σ), η*(σ) taken from
    a grid fit, the data laws from runs at those hyperparameters). `data_points` says which config
    each D_J point stands for: "law" (the config nearest the fitted B*(σ), η*(σ)) or "minimum" (the
    fastest config per σ, biased low on a noisy grid).
    """

    thresholds: tuple[float, ...]
    selection_threshold: float
    n_bootstrap: int
    seed: int
    interval: tuple[float, float]
    normalization: dict[str, tuple[float, float]]
    n_rows: int
    n_configs: int
    envs: tuple[str, ...]
    utds: tuple[float, ...]
    censored: tuple[CensoredConfig, ...]
    best_hparams: tuple[BestHparams, ...]
    batch_size_law: PowerLaw
    learning_rate_law: PowerLaw
    data_law: tuple[DataLawFit, ...]
    model_size: float | None
    delta: float | None
    frontier: tuple[FrontierCurve, ...]
    budget_law: BudgetLaw | None
    budget_law_per_env: tuple[BudgetLaw, ...]
    notes: tuple[str, ...]
    by_model_size: dict[str, FitResult] = field(default_factory=dict)
    model_size_split: tuple[ModelSizeSplit, ...] = ()
    """Per threshold, the budget-optimal (model size, σ) over the sizes of `by_model_size`
    (rlscale/laws/model_size.py); empty with one model size."""
    stage: str = "grid"
    data_points: str = "minimum"
    data_law_loss: str = "log"
    baseline: tuple[BaselineConfig, ...] = ()
    baseline_data_law: tuple[DataLawFit, ...] = ()
    resets: ResetSchedule = field(default_factory=ResetSchedule)
    unreached_cells: str = "drop"
    sigma_grid_extension: float = 2.0
    budget_grid_points: int = 2000
    """`FitOptions.unreached_cells`, `.sigma_grid_extension` and `.budget_grid_points` of the fit (these
    field defaults, and `data_law_loss`'s, are what fits written before the keys existed used)."""
    grid_edges: GridEdgeReport | None = None
    """Grid fits: per (env, σ, J) cell, whether the fastest (B, η) sits on the grid's edge."""
    tied_votes: str = "smallest"
    """`FitOptions.tied_votes` of the fit (fits written before the key existed used "smallest")."""
    crossing: str = LOGGED
    """`FitOptions.crossing` of the fit (fits written before the key existed used "logged")."""
    running_max: bool = False
    """`FitOptions.running_max` of the fit (fits written before the key existed: False)."""
    vote_ties: tuple[VoteTies, ...] = ()
    """Grid fits: per (env, σ) and hyperparameter, how many of the votes for B*(σ), η*(σ) were ties."""
    horizon: HorizonSensitivity | None = None
    """How the crossings (and, with horizon cuts, the hyperparameter laws) depend on the runs' horizon."""
    sigma_n: SigmaNFit = field(default_factory=lambda: SigmaNFit(), metadata={FLATTENED: True})
    """The joint (σ, N) laws, with several model sizes (their keys are written at the top level)."""

    def data_law_for(self, threshold: float, scope: str) -> DataLawFit | None:
        """The data-law fit for (threshold, scope), or None when it could not be fitted."""
        return _law_at(self.data_law, threshold, scope)

    def baseline_data_law_for(self, threshold: float, scope: str) -> DataLawFit | None:
        """The baseline configs' data-law fit for (threshold, scope), or None."""
        return _law_at(self.baseline_data_law, threshold, scope)


def _law_at(laws: tuple[DataLawFit, ...], threshold: float, scope: str) -> DataLawFit | None:
    for law in laws:
        if law.scope == scope and math.isclose(law.threshold, threshold, rel_tol=1e-9, abs_tol=1e-9):
            return law
    return None


def read_fit(data: Mapping) -> FitResult:
    """A fit.json structure as a `FitResult`.

    Raises:
        FitInputError: `data` is not a fit written by `rlscale fit` (names the missing key).
    """
    return FitResult.from_dict(data)


@dataclass(frozen=True)
class Recommendation(Record):
    """The fitted laws' choice for a budget; `*_interval` are [low, high] (see recommend.py).

    `threshold_capped` is set when the budget buys more than the highest fitted threshold: J is then
    that threshold (the laws say nothing above it) and `uncapped_threshold` is what extrapolating J
    in log F would have given."""

    budget: float
    scope: str
    env: str | None
    delta: float
    model_size: float
    utd: float
    utd_interval: tuple[float, float]
    batch_size: int
    batch_size_continuous: float
    batch_size_interval: tuple[int, int]
    learning_rate: float
    learning_rate_interval: tuple[float, float]
    threshold: float
    threshold_source: str
    data: float
    data_interval: tuple[float, float]
    compute: float
    compute_interval: tuple[float, float]
    extrapolated: bool
    fitted_budget_range: tuple[float, float]
    notes: tuple[str, ...]
    threshold_capped: bool = False
    uncapped_threshold: float | None = None
    extrapolated_quantities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigValidation(Record):
    """One trained config's measured D_J against the fit's prediction at its σ.

    `predicted_interval` is the spread of the bootstrap-refitted data laws at σ;
    `measured_interval` the seed bootstrap of the config's D_J; both at the fit's percentiles.
    `data_law` names the law that predicted: "D_J(σ)" (the σ-only law) or "D_J(σ, N)" (the joint
    law at σ and the runs' `model_size`, which is then `model_size`; None for the σ-only law).
    """

    env: str
    utd: float
    batch_size: int
    learning_rate: float
    seeds: int
    scope: str
    threshold: float
    predicted: float
    predicted_interval: tuple[float, float]
    measured: float
    measured_median: float
    measured_interval: tuple[float, float]
    resamples_reaching: float
    last_env_step: int
    final_normalized_return: float
    relative_error: float
    measured_within_predicted: bool
    intervals_overlap: bool
    data_law: str = "D_J(σ)"
    model_size: float | None = None


@dataclass(frozen=True)
class Validation(Record):
    """`rlscale validate`: every config of a run directory checked against a fit at threshold J."""

    threshold: float
    interval: tuple[float, float]
    n_bootstrap: int
    configs: tuple[ConfigValidation, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProposedConfig(Record):
    """One stage-2 config: at the laws' B*(σ) (rounded to a multiple of 16) and η*(σ) (`role`
    "law"), or the baseline's (B, η) at this σ (`role` "baseline"). `env_steps_needed` is the
    margin times the upper end of the grid fit's predicted D_J(σ) interval."""

    utd: float
    batch_size: int
    learning_rate: float
    role: str
    batch_size_continuous: float
    env_steps_needed: float


@dataclass(frozen=True)
class Proposal(Record):
    """`rlscale propose`: the stage-2 configs for one env of a grid fit, sized for threshold J."""

    env: str
    threshold: float
    sizing_scope: str
    env_steps_margin: float
    configs: tuple[ProposedConfig, ...]
    baseline: BaselineConfig | None
    notes: tuple[str, ...] = ()

    @property
    def env_steps_needed(self) -> float:
        """The most env steps any config needs (one sweep has one env_steps for all configs)."""
        return max(config.env_steps_needed for config in self.configs)


def _resample_summary(values: np.ndarray, interval: tuple[float, float]) -> tuple[float, float]:
    """The `interval` percentiles of `values` (any leading resample axis 0), as (low, high) floats;
    (NaN, NaN) without resamples."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return (math.nan, math.nan)
    _, low, high = summarize(values, axis=0, interval=interval)
    return (float(low), float(high))


@dataclass(frozen=True)
class SigmaNPoint(Record):
    """A measured value at (env, σ, N) (N: the critic's parameter count): a time to threshold D_J
    (the config it stands for in `batch_size`, `learning_rate`; for the pooled scope the App. D mean
    over envs, with no config) or a bootstrap-averaged best B or η. `median`, `ci`: its bootstrap."""

    env: str
    utd: float
    model_size: float
    value: float
    median: float
    ci: tuple[float, float]
    batch_size: int | None = None
    learning_rate: float | None = None


@dataclass(frozen=True)
class JointDataLaw(Record):
    """D_J(σ, N) = c·(1 + (a/σ)^alpha + (b/N)^beta) for one threshold and scope (env or "all"),
    fitted as Fu, Rybkin et al. (2025) fit it (`rlscale/laws/sigma_n_laws.py`).

    `*_median`, `*_ci`: over the bootstrap refits; `resamples` (R, 5): those refits, columns
    (c, a, alpha, b, beta), NaN where a resample had too few points. `shared_exponents`: alpha and
    beta are one pair for every threshold of the scope. Scope "all" pools the envs as App. D does
    (`env_scales`, `scale`: see `DataLawFit`)."""

    threshold: float
    scope: str
    c: float
    a: float
    alpha: float
    b: float
    beta: float
    rms_log_residual: float
    c_median: float
    a_median: float
    alpha_median: float
    b_median: float
    beta_median: float
    c_ci: tuple[float, float]
    a_ci: tuple[float, float]
    alpha_ci: tuple[float, float]
    b_ci: tuple[float, float]
    beta_ci: tuple[float, float]
    points: tuple[SigmaNPoint, ...]
    shared_exponents: bool = False
    scale: float = 1.0
    env_scales: dict[str, float] = field(default_factory=dict)
    resamples: np.ndarray = _array_field()

    def predict(self, sigma, model_size):
        """D_J at UTD `sigma` and model size `model_size` (env steps; broadcast, any shape)."""
        return joint_data_law(sigma, model_size, self.c, self.a, self.alpha, self.b, self.beta)

    def predict_resamples(self, sigma, model_size) -> np.ndarray:
        """Shape (R, *broadcast shape): D_J under each resample's law (NaN where it failed)."""
        sigma, model_size = np.broadcast_arrays(np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float))
        if self.resamples.size == 0:
            return np.zeros((0, *sigma.shape))
        return joint_data_law(sigma, model_size, *(self.resamples[:, k].reshape(-1, *([1] * sigma.ndim)) for k in range(5)))

    def predict_interval(self, sigma: float, model_size: float, interval: tuple[float, float]) -> tuple[float, float]:
        """The `interval` percentiles of the resampled laws' D_J at (σ, N); (NaN, NaN) without resamples."""
        return _resample_summary(self.predict_resamples(float(sigma), float(model_size)), interval)


@dataclass(frozen=True)
class BatchSizeLawSigmaN(Record):
    """B*(σ, N) = a / (σ^alpha · (1 + (b/N)^c)) of one env (the authors' inverse power product);
    `resamples` (R, 4): the refits on the bootstrap's best batch sizes, columns (a, alpha, b, c)."""

    env: str
    a: float
    alpha: float
    b: float
    c: float
    rms_log_residual: float
    a_ci: tuple[float, float]
    alpha_ci: tuple[float, float]
    b_ci: tuple[float, float]
    c_ci: tuple[float, float]
    resamples: np.ndarray = _array_field()

    def predict(self, sigma, model_size):
        """B* at UTD `sigma` and model size `model_size` (broadcast, any shape)."""
        return inverse_power_product(sigma, model_size, self.a, self.alpha, self.b, self.c)

    def predict_resamples(self, sigma, model_size) -> np.ndarray:
        """Shape (R, *broadcast shape): B* under each resample's law (NaN where it failed)."""
        sigma, model_size = np.broadcast_arrays(np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float))
        return inverse_power_product(sigma, model_size, *(self.resamples[:, k].reshape(-1, *([1] * sigma.ndim)) for k in range(4)))


@dataclass(frozen=True)
class BatchSizeLawsSigmaN(Record):
    """B*(σ, N) per env; the pooled scope "all" is the arithmetic mean over envs (qscaled's
    convention). `points`: the bootstrap-averaged best B per (env, σ, N) at `selection_threshold`."""

    laws: tuple[BatchSizeLawSigmaN, ...]
    points: tuple[SigmaNPoint, ...]
    selection_threshold: float

    def _laws_of(self, scope: str) -> list[BatchSizeLawSigmaN]:
        laws = [law for law in self.laws if scope == POOLED_SCOPE or law.env == scope]
        if not laws:
            raise FitInputError(f"no B*(σ, N) law for scope {scope!r}; the laws' envs are {[law.env for law in self.laws]}")
        return laws

    def predict(self, scope: str, sigma, model_size):
        """B* of an env, or for "all" the mean over envs, at (σ, N) (broadcast, any shape)."""
        return np.mean([law.predict(sigma, model_size) for law in self._laws_of(scope)], axis=0)

    def predict_resamples(self, scope: str, sigma, model_size) -> np.ndarray:
        """Shape (R, *broadcast shape): `predict` under each resample's laws."""
        return np.mean([law.predict_resamples(sigma, model_size) for law in self._laws_of(scope)], axis=0)


@dataclass(frozen=True)
class LearningRateLawSigmaN(Record):
    """η*(σ, N) = 10^intercept[env] · σ^(−alpha) · (N / reference_model_size)^n_exponent: OLS of
    log10 best η on log10 σ and log10 N with shared slopes and one intercept per env, next to the
    σ-only law (n_exponent = 0, `sigma_only_*`), to report whether N matters (`n_matters`: the
    bootstrap interval of n_exponent excludes 0 and leaving each model size out predicts its points
    better with N than without; `held_out_rms_log_error`: RMS of ln(predicted / best) over those
    left-out points). `predict` uses the (σ, N) law when N matters, else the σ-only law; for "all"
    the mean over envs. `resamples` (R, 2 + E): alpha, n_exponent, then the intercepts of the envs in
    sorted order; `sigma_only_resamples` (R, 1 + E) likewise."""

    alpha: float
    n_exponent: float
    intercept: dict[str, float]
    reference_model_size: float
    alpha_ci: tuple[float, float]
    n_exponent_ci: tuple[float, float]
    rms_log_residual: float
    held_out_rms_log_error: float
    sigma_only_alpha: float
    sigma_only_intercept: dict[str, float]
    sigma_only_rms_log_residual: float
    sigma_only_held_out_rms_log_error: float
    n_matters: bool
    points: tuple[SigmaNPoint, ...]
    resamples: np.ndarray = _array_field()
    sigma_only_resamples: np.ndarray = _array_field()

    def _envs(self, scope: str) -> list[str]:
        envs = sorted(self.intercept) if scope == POOLED_SCOPE else [scope]
        if any(env not in self.intercept for env in envs):
            raise FitInputError(f"no η*(σ, N) law for scope {scope!r}; the law's envs are {sorted(self.intercept)}")
        return envs

    def predict(self, scope: str, sigma, model_size):
        """η* at (σ, N) (broadcast, any shape) for an env or the mean over envs ("all")."""
        sigma, model_size = np.broadcast_arrays(np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float))
        if self.n_matters:
            alpha, exponent, intercept = self.alpha, self.n_exponent, self.intercept
        else:
            alpha, exponent, intercept = self.sigma_only_alpha, 0.0, self.sigma_only_intercept
        log_sigma, log_size = np.log10(sigma), np.log10(model_size / self.reference_model_size)
        return np.mean([10.0 ** (intercept[env] - alpha * log_sigma + exponent * log_size) for env in self._envs(scope)], axis=0)

    def predict_resamples(self, scope: str, sigma, model_size) -> np.ndarray:
        """Shape (R, *broadcast shape): `predict` under each resample's law."""
        sigma, model_size = np.broadcast_arrays(np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float))
        expand = (slice(None),) + (None,) * sigma.ndim
        order = sorted(self.intercept)
        log_sigma = np.log10(sigma)[None]
        values = []
        for env in self._envs(scope):
            column = order.index(env)
            if self.n_matters:
                alpha, exponent, intercept = self.resamples[:, 0], self.resamples[:, 1], self.resamples[:, 2 + column]
                log_size = np.log10(model_size / self.reference_model_size)[None]
                values.append(10.0 ** (intercept[expand] - alpha[expand] * log_sigma + exponent[expand] * log_size))
            else:
                alpha, intercept = self.sigma_only_resamples[:, 0], self.sigma_only_resamples[:, 1 + column]
                values.append(10.0 ** (intercept[expand] - alpha[expand] * log_sigma))
        return np.mean(values, axis=0)


@dataclass(frozen=True)
class AllocationPoint(Record):
    """The compute-optimal (σ*, N*) for one threshold J: argmin over (σ, N) of
    F = 10·N·B*(σ, N)·σ·D_J(σ, N) + δ·D_J(σ, N), with B*, F, C and D there. `held_out`: left out of
    the path laws' fit; `at_grid_edge`: the optimum lies on the searched box's boundary (a bound)."""

    threshold: float
    utd: float
    model_size: float
    batch_size: float
    budget: float
    compute: float
    data: float
    held_out: bool
    at_grid_edge: bool


@dataclass(frozen=True)
class StrategyPoint(Record):
    """The cheapest way to reach J scaling one axis only (the other held at the base point): σ and
    N used, F and D."""

    threshold: float
    utd: float
    model_size: float
    budget: float
    data: float
    at_grid_edge: bool


@dataclass(frozen=True)
class PathLaw(Record):
    """One compute-optimal path as a power law of the budget: `quantity`* = coefficient · F^exponent,
    least squares in log–log over the allocation points but the largest-budget held-out ones
    (`held_out_relative_error`: |predicted − optimum| / optimum there, ascending F). `*_resamples`:
    the same fit on each bootstrap resample's optima (NaN: degenerate, counted)."""

    quantity: str
    coefficient: float
    exponent: float
    held_out_relative_error: tuple[float, ...]
    coefficient_median: float
    coefficient_ci: tuple[float, float]
    exponent_median: float
    exponent_ci: tuple[float, float]
    degenerate_resamples: int = 0
    coefficient_resamples: np.ndarray = _array_field()
    exponent_resamples: np.ndarray = _array_field()
    at_search_edge: bool = False
    """Every fitted optimum lies at an end of the quantity's search range: each is a bound, so the
    path measures the search box and its exponent is not determined (fits written before the key
    existed: False)."""

    def predict(self, budget):
        """The path's value at budget(s) F (FLOPs)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.coefficient * np.asarray(budget, dtype=float) ** self.exponent

    def predict_resamples(self, budget: float) -> np.ndarray:
        """Shape (R,): the resampled paths' values at F (NaN where degenerate)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.coefficient_resamples * float(budget) ** self.exponent_resamples

    def describe(self, symbol: str, digits: int = 4) -> str:
        """The path as text, e.g. "σ*(F) = 0.5·F^0.1200 [0.05, 0.20]", or why it is not determined."""
        if self.at_search_edge:
            return f"{symbol}(F) not determined (every fitted {symbol} at an end of the search box: bounds, not optima)"
        return (
            f"{symbol}(F) = {self.coefficient:.4g}·F^{self.exponent:.{digits}f} "
            f"[{self.exponent_ci[0]:.{digits}f}, {self.exponent_ci[1]:.{digits}f}]"
        )


@dataclass(frozen=True)
class SigmaNAllocation(Record):
    """The compute-optimal allocation over (σ, N) for one scope (`rlscale/laws/allocation.py`).

    Attributes:
        delta: δ, FLOPs per env step, in F = C + δ·D.
        utd_range, model_size_range: the box the optima were searched in.
        trained_utds, trained_model_sizes: the σ and N the laws were fitted on.
        points: per threshold J, ascending budget, the optimum.
        utd_path, model_size_path: σ*(F) and N*(F) (None with fewer than 2 allocation points).
        base_utd, base_model_size: the optimum at the smallest budget, where the one-axis
            strategies start: `utd_only` keeps N = base_model_size and chooses σ, `model_size_only`
            keeps σ = base_utd and chooses N, each minimising F for every J.
        utd_only_data_overhead, model_size_only_data_overhead: D of that strategy / D of the
            compute-optimal path − 1 at the same budget `overhead_budget` (the largest budget of the
            compute-optimal points; D interpolated in log–log along each strategy's points).
    """

    scope: str
    delta: float
    utd_range: tuple[float, float]
    model_size_range: tuple[float, float]
    trained_utds: tuple[float, ...]
    trained_model_sizes: tuple[float, ...]
    points: tuple[AllocationPoint, ...]
    utd_path: PathLaw | None
    model_size_path: PathLaw | None
    base_utd: float
    base_model_size: float
    utd_only: tuple[StrategyPoint, ...]
    model_size_only: tuple[StrategyPoint, ...]
    utd_only_data_overhead: float
    model_size_only_data_overhead: float
    overhead_budget: float


@dataclass(frozen=True)
class SigmaNFit(Record):
    """The joint (σ, N) laws of a table with several model sizes (`rlscale/laws/sigma_n.py`); written
    at the top level of fit.json (see SCHEMA.md). Empty for a table with one model size."""

    data_law_sigma_n: tuple[JointDataLaw, ...] = ()
    batch_size_law_sigma_n: BatchSizeLawsSigmaN | None = None
    learning_rate_law_sigma_n: LearningRateLawSigmaN | None = None
    allocation_sigma_n: tuple[SigmaNAllocation, ...] = ()
    thresholds_sigma_n: tuple[float, ...] = ()
    selection_threshold_sigma_n: float | None = None
    model_sizes_sigma_n: tuple[float, ...] = ()
    data_points_sigma_n: str | None = None
    algo: str | None = None
    agent_options: str | None = None

    def data_law_for(self, threshold: float, scope: str) -> JointDataLaw | None:
        """The joint law for (threshold, scope), or None."""
        for law in self.data_law_sigma_n:
            if law.scope == scope and math.isclose(law.threshold, threshold, rel_tol=1e-9, abs_tol=1e-9):
                return law
        return None

    def allocation_for(self, scope: str) -> SigmaNAllocation | None:
        """The allocation of `scope`, or None."""
        return next((allocation for allocation in self.allocation_sigma_n if allocation.scope == scope), None)


@dataclass(frozen=True)
class SigmaNRecommendation(Record):
    """`rlscale recommend` on a fit with the joint (σ, N) laws (`rlscale/laws/recommend_sigma_n.py`):
    N* and σ* from the compute-optimal paths, B*(σ*, N*), η*(σ*, N*), the threshold J the budget buys
    and its D and C, with intervals from the bootstrap. `hidden_width`, `hidden_depth` and
    `width_model_size` (the critic's parameter count at that width) are filled by the command layer
    from the agent (null when the fit's agent or env is unknown there)."""

    budget: float
    scope: str
    env: str | None
    delta: float
    model_size: float
    model_size_interval: tuple[float, float]
    utd: float
    utd_interval: tuple[float, float]
    batch_size: int
    batch_size_continuous: float
    batch_size_interval: tuple[float, float]
    learning_rate: float
    learning_rate_interval: tuple[float, float]
    threshold: float
    threshold_source: str
    data: float
    data_interval: tuple[float, float]
    compute: float
    compute_interval: tuple[float, float]
    extrapolated: bool
    extrapolated_quantities: tuple[str, ...]
    fitted_budget_range: tuple[float, float]
    trained_model_sizes: tuple[float, ...]
    notes: tuple[str, ...]
    threshold_capped: bool = False
    uncapped_threshold: float | None = None
    hidden_width: int | None = None
    hidden_depth: int | None = None
    width_model_size: float | None = None
