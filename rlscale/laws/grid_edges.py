"""Does the grid bracket the optimum? Per (env, σ, J) cell, whether the fastest (B, η) sits on the
grid's edge, and the values a self-extending grid adds next.

A slope fitted to best values that sit on the grid's edge measures the grid, not the optimum: the
fastest B and η of such a cell are bounds. `edge_report` says, for every cell where some config
reaches J, whether the fastest config's B is the smallest (`"low"`) or largest (`"high"`) B of its
row (the B values tried at that env, σ and the config's η), or the only one (`"only"`), and likewise
for η along its column. Configs tied for fastest (several cross J at the same logged env step, common
at low J and on coarse evaluation grids) only put a cell on an edge when all of them sit on that same
edge; a cell counted inside although one of its tied configs sits on an edge is flagged
(`tied_with_edge`) and counted in the summary, since the logged steps cannot tell those configs
apart (`FitOptions.crossing = "interpolated"` separates them).

`propose_extension` turns a report into the next round of a self-extending grid: for every (env, σ)
where the optimum sits on one edge of an axis in at least `edge_share` of its cells, the next value
beyond that edge (the grid's own spacing at that edge; B ×/÷ `batch_size_factor`, η ×/÷
`learning_rate_factor` where the axis has one value), within `GridLimits`; the new configs are the
missing points of that σ's rectangle of B × η values, to be run for every seed. `within_budget` cuts
a round to the runs a budget cap leaves. Pure NumPy/pandas.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rlscale.laws.crossings import ThresholdTimes
from rlscale.laws.results import EDGE_HIGH, EDGE_LOW, EDGE_ONLY, HPARAM_AXES, EdgeCell, FitResult, GridEdgeReport, Record
from rlscale.laws.table import FitInputError

EXTEND, BRACKETED, LIMITS, BUDGET = "extend", "bracketed", "limits", "budget"
"""`GridExtension.status` values (its docstring)."""
LEARNING_RATE_DIGITS = 4
"""Significant digits of a proposed learning rate."""


def _edge(value: float, row: np.ndarray) -> str | None:
    """Where `value` sits among the ascending values `row`."""
    if len(row) == 1:
        return EDGE_ONLY
    if value <= row[0]:
        return EDGE_LOW
    if value >= row[-1]:
        return EDGE_HIGH
    return None


def _common(edges: list[str | None]) -> str | None:
    """The edge shared by every tied config, else None."""
    return edges[0] if len(set(edges)) == 1 else None


def edge_report(configs: pd.DataFrame, times: ThresholdTimes) -> GridEdgeReport:
    """The edge report of a grid.

    Args:
        configs: one row per config (C rows) with `env`, `utd`, `batch_size`, `learning_rate`.
        times: the configs' times to threshold; `times.point` has shape (C, J) (+inf: not reached).

    Returns:
        One cell per (env, σ, J) where some config reaches J, sorted by env, σ, J.
    """
    cells = []
    for (env, utd), group in configs.groupby(["env", "utd"], sort=True, observed=True):
        batch = group["batch_size"].to_numpy()
        rate = group["learning_rate"].to_numpy(dtype=float)
        batch_rows = {value: np.sort(batch[rate == value]) for value in np.unique(rate)}
        rate_rows = {value: np.sort(rate[batch == value]) for value in np.unique(batch)}
        for threshold_index, threshold in enumerate(times.thresholds):
            cell_times = times.point[group.index.to_numpy(), threshold_index]
            if not np.isfinite(cell_times).any():
                continue
            tied = np.flatnonzero(cell_times == cell_times.min())
            fastest = tied[np.lexsort((rate[tied], batch[tied]))[0]]
            batch_edges = [_edge(batch[index], batch_rows[rate[index]]) for index in tied]
            rate_edges = [_edge(rate[index], rate_rows[batch[index]]) for index in tied]
            cells.append(
                EdgeCell(
                    env=str(env),
                    utd=float(utd),
                    threshold=float(threshold),
                    batch_size=int(batch[fastest]),
                    learning_rate=float(rate[fastest]),
                    batch_size_edge=_common(batch_edges),
                    learning_rate_edge=_common(rate_edges),
                    batch_sizes=tuple(int(value) for value in np.unique(batch)),
                    learning_rates=tuple(float(value) for value in np.unique(rate)),
                    tied_with_edge=len(tied) > 1 and any(edge is not None for edge in batch_edges + rate_edges),
                )
            )
    return GridEdgeReport(cells=tuple(cells))


def fit_edge_report(fit: FitResult) -> GridEdgeReport:
    """The edge report a grid's extension reads: the fit's own, or for a fit of several model sizes
    the cells of every size together (one (env, σ, J) cell per size: the extension runs at every size,
    so an edge counts wherever most sizes' optima sit on it)."""
    if not fit.by_model_size:
        return fit.grid_edges
    return GridEdgeReport(
        cells=tuple(cell for size_fit in fit.by_model_size.values() if size_fit.grid_edges is not None for cell in size_fit.grid_edges.cells)
    )


@dataclass(frozen=True)
class GridLimits(Record):
    """How a self-extending grid grows, and how far.

    Attributes:
        edge_share: an axis of an (env, σ) is extended beyond an edge when the optimum sits on that
            edge in at least this share of the σ's reached cells (0.5: half of them or more).
        batch_size_factor, learning_rate_factor: the step beyond an edge where the axis has a single
            value (otherwise the grid's own spacing at that edge is kept).
        batch_size_range, learning_rate_range: no value outside [low, high] is proposed.
    """

    edge_share: float = 0.5
    batch_size_factor: float = 2.0
    learning_rate_factor: float = math.sqrt(3.0)
    batch_size_range: tuple[int, int] = (4, 4096)
    learning_rate_range: tuple[float, float] = (1e-5, 1e-2)

    def errors(self) -> list[str]:
        """Every invalid field, one message each (empty when valid)."""
        errors = []
        if not (_is_number(self.edge_share) and 0 < self.edge_share <= 1):
            errors.append(f"edge_share must be in (0, 1], got {self.edge_share!r}")
        for name in ("batch_size_factor", "learning_rate_factor"):
            value = getattr(self, name)
            if not (_is_number(value) and 1 < value < math.inf):
                errors.append(f"{name} must be a number > 1, got {value!r}")
        batch = self.batch_size_range
        if not (_is_pair(batch, int) and 1 <= batch[0] <= batch[1]):
            errors.append(f"batch_size_range must be two integers 1 <= low <= high, got {_shown(batch)}")
        rate = self.learning_rate_range
        if not (_is_pair(rate, (int, float)) and 0 < rate[0] <= rate[1] < 1):
            errors.append(f"learning_rate_range must be two numbers 0 < low <= high < 1, got {_shown(rate)}")
        return errors


def _is_number(value, kinds=(int, float)) -> bool:
    return isinstance(value, kinds) and not isinstance(value, bool)


def _is_pair(value, kinds) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_number(item, kinds) for item in value)


def _shown(value) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


@dataclass(frozen=True)
class AxisExtension(Record):
    """One value added beyond an edge of one axis at (env, σ), or refused (`added` False) because it
    leaves the limits; `share` is the share of the σ's cells on that edge."""

    env: str
    utd: float
    axis: str
    edge: str
    value: float
    share: float
    added: bool


@dataclass(frozen=True)
class ExtensionConfig(Record):
    """A config the next round trains (for every seed of the grid)."""

    env: str
    utd: float
    batch_size: int
    learning_rate: float


@dataclass(frozen=True)
class DeferredAddition(Record):
    """The new configs of one (env, σ) that a round left out because they did not fit the runs left
    under the budget cap (`within_budget`)."""

    env: str
    utd: float
    configs: int


@dataclass(frozen=True)
class GridExtension(Record):
    """The next round of a self-extending grid: the values added (and refused) and the new configs.
    `status`: "extend" (new configs to run), "bracketed" (no σ has an axis on an edge in at least
    `edge_share` of its cells), "limits" (every value beyond an edge leaves the limits) or "budget"
    (no σ's new configs fit the runs left: all `deferred`)."""

    status: str
    axes: tuple[AxisExtension, ...] = ()
    configs: tuple[ExtensionConfig, ...] = ()
    inside_share: float = math.nan
    deferred: tuple[DeferredAddition, ...] = ()


def _beyond(values: np.ndarray, edge: str, factor: float) -> float:
    """The next value below (EDGE_LOW) or above (EDGE_HIGH) the ascending `values`, at the grid's own ratio
    between its two outermost values on that side (`factor` with a single value)."""
    if edge == EDGE_LOW:
        ratio = values[1] / values[0] if len(values) > 1 else factor
        return float(values[0] / ratio)
    ratio = values[-1] / values[-2] if len(values) > 1 else factor
    return float(values[-1] * ratio)


def _rounded(axis: str, value: float, edge: str, values: np.ndarray) -> float:
    """A proposed value as the grid writes it: B an integer beyond the edge, η to LEARNING_RATE_DIGITS."""
    if axis == "learning_rate":
        return float(f"{value:.{LEARNING_RATE_DIGITS}g}")
    rounded = int(round(value))
    if edge == EDGE_LOW:
        return float(min(rounded, int(values[0]) - 1))
    return float(max(rounded, int(values[-1]) + 1))


def propose_extension(report: GridEdgeReport, configs: pd.DataFrame, limits: GridLimits = GridLimits()) -> GridExtension:
    """The next round of a self-extending grid (module docstring).

    Args:
        report: the edge report of the grid fitted so far.
        configs: every config trained so far, with `env`, `utd`, `batch_size`, `learning_rate`.
        limits: how the grid grows and how far.
    """
    if limits.errors():
        raise FitInputError("; ".join(limits.errors()))
    axes, new_configs = [], []
    for (env, utd), group in configs.groupby(["env", "utd"], sort=True, observed=True):
        cells = [cell for cell in report.cells if cell.env == str(env) and math.isclose(cell.utd, float(utd))]
        if not cells:
            continue
        values = {axis: np.unique(group[axis].to_numpy(dtype=float)) for axis in HPARAM_AXES}
        grown = {axis: list(values[axis]) for axis in HPARAM_AXES}
        for axis, factor, (low, high) in (
            ("batch_size", limits.batch_size_factor, limits.batch_size_range),
            ("learning_rate", limits.learning_rate_factor, limits.learning_rate_range),
        ):
            for edge in (EDGE_LOW, EDGE_HIGH):
                share = float(np.mean([getattr(cell, f"{axis}_edge") in (edge, EDGE_ONLY) for cell in cells]))
                if share < limits.edge_share:
                    continue
                value = _rounded(axis, _beyond(values[axis], edge, factor), edge, values[axis])
                added = low <= value <= high
                axes.append(AxisExtension(str(env), float(utd), axis, edge, value, share, added))
                if added:
                    grown[axis].append(value)
        present = set(zip(group["batch_size"].astype(int), group["learning_rate"].astype(float)))
        for batch in sorted(grown["batch_size"]):
            for rate in sorted(grown["learning_rate"]):
                if (int(batch), float(rate)) not in present:
                    new_configs.append(ExtensionConfig(str(env), float(utd), int(batch), float(rate)))
    if new_configs:
        status = EXTEND
    elif axes:
        status = LIMITS
    else:
        status = BRACKETED
    return GridExtension(status=status, axes=tuple(axes), configs=tuple(new_configs), inside_share=report.inside_share)


def within_budget(extension: GridExtension, max_configs: int) -> GridExtension:
    """`extension` with at most `max_configs` new configs: whole (env, σ) additions (a σ's rectangle
    stays complete), those of the σ whose axis sits on an edge in the largest share of its cells
    first, then the smaller σ (its runs are cheaper); the (env, σ) that do not fit are `deferred`
    and their added values dropped. Status BUDGET when none fits."""
    if extension.status != EXTEND or len(extension.configs) <= max_configs:
        return extension
    by_sigma: dict[tuple[str, float], list[ExtensionConfig]] = {}
    for config in extension.configs:
        by_sigma.setdefault((config.env, config.utd), []).append(config)
    share = {
        key: max((item.share for item in extension.axes if item.added and (item.env, item.utd) == key), default=0.0)
        for key in by_sigma
    }
    kept, deferred, room = set(), [], max_configs
    for key in sorted(by_sigma, key=lambda key: (-share[key], key[1], key[0])):
        if len(by_sigma[key]) <= room:
            kept.add(key)
            room -= len(by_sigma[key])
        else:
            deferred.append(DeferredAddition(key[0], key[1], len(by_sigma[key])))
    return dataclasses.replace(
        extension,
        status=EXTEND if kept else BUDGET,
        axes=tuple(item for item in extension.axes if not item.added or (item.env, item.utd) in kept),
        configs=tuple(config for config in extension.configs if (config.env, config.utd) in kept),
        deferred=tuple(sorted(deferred, key=lambda item: (item.env, item.utd))),
    )


def compact(extension: GridExtension) -> str:
    """The values added per (env, σ) in a few words, e.g. "σ=1: B 128, η 0.009; σ=4: η 0.009 (B 16
    outside the limits)"."""
    several_envs = len({item.env for item in (*extension.axes, *extension.deferred)}) > 1

    def scope(env: str, utd: float) -> str:
        return f"{env} σ={utd:g}" if several_envs else f"σ={utd:g}"

    parts = []
    for (env, utd), items in itertools.groupby(extension.axes, key=lambda item: (item.env, item.utd)):
        items = list(items)
        names = {item: f"{'B' if item.axis == 'batch_size' else 'η'} {item.value:g}" for item in items}
        added = ", ".join(names[item] for item in items if item.added)
        refused = ", ".join(names[item] for item in items if not item.added)
        parts.append(f"{scope(env, utd)}: {added or 'nothing'}" + (f" ({refused} outside the limits)" if refused else ""))
    parts += [f"{scope(item.env, item.utd)}: deferred by the budget cap" for item in extension.deferred]
    return "; ".join(parts)


def _axis_line(item: AxisExtension) -> str:
    """One value added or refused beyond an edge, and why it was proposed."""
    return (
        f"env '{item.env}' σ={item.utd:g}: {'added' if item.added else 'not added (outside the limits)'} "
        f"{'B' if item.axis == 'batch_size' else 'η'} = {item.value:g} beyond the {'smallest' if item.edge == EDGE_LOW else 'largest'} "
        f"value (the optimum sat there in {item.share:.0%} of the σ's cells)"
    )


def _deferred_lines(extension: GridExtension) -> list[str]:
    return [
        f"env '{item.env}' σ={item.utd:g}: deferred by the budget cap (its {item.configs} new config(s) do not fit the runs left)"
        for item in extension.deferred
    ]


def describe_unmade(extension: GridExtension) -> list[str]:
    """One line per value refused by the limits and per σ deferred by the budget cap."""
    return [_axis_line(item) for item in extension.axes if not item.added] + _deferred_lines(extension)


def describe(extension: GridExtension) -> list[str]:
    """One line per value added or refused, in the order decided (one (env, σ) after another), then
    one per σ deferred, and the configs' count."""
    lines = [_axis_line(item) for item in extension.axes] + _deferred_lines(extension)
    if extension.configs:
        lines.append(f"{len(extension.configs)} new config(s) to run for every seed")
    return lines

