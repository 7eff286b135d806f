"""Fits side by side: several `fit.json` results (e.g. rlscale's own study of an env and `rlscale fit` on
the authors' rows of the same env) as one Markdown report, `rlscale compare`.

Pure: fit dictionaries (`FitResult.to_dict()`, as written to fit.json) in, Markdown lines and plain
dictionaries out. Sections: the options each fit was made with (a comparison is only fair when the
thresholds, selection threshold, interval and data-law loss agree; differences are named), where the
grid's fastest config sits (inside the grid, or on its edge), the best time to each threshold per σ,
the B*(σ) and η*(σ) slopes with their intervals (decided? do two fits agree within their intervals?),
the data law D_J(σ), and how the isotonic crossings depend on the grid's horizon.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from rlscale.laws.results import FitResult, VoteTies, tie_shares

NEAR_ZERO_HALF_WIDTH = 0.15
"""A slope whose interval contains 0 is still decided when the interval is narrower than ±this: then
the law is flat within it (in log–log slope units: B* changes by less than ×2^0.15 per doubling of σ)."""
GRID_STAGE = "grid"
"""fit.json's `stage` of a fit that found its own B*(σ), η*(σ) (a stage-2 fit takes them from a grid)."""
OPTION_KEYS = (
    "thresholds", "selection_threshold", "interval", "n_bootstrap", "data_law_loss", "normalization", "unreached_cells",
    "tied_votes", "crossing", "running_max",
)
"""The fit options that must agree for two fits to be compared on equal terms."""
RECORDED_DEFAULTS = {
    field.name: field.default for field in dataclasses.fields(FitResult) if field.name in OPTION_KEYS and field.default is not dataclasses.MISSING
}
"""What a fit.json written before an option's key existed used: `FitResult`'s defaults."""
SLOPE_LAWS = (("batch_size_law", "B\\*(σ)"), ("learning_rate_law", "η\\*(σ)"))
MISSING = "—"


@dataclasses.dataclass(frozen=True)
class Slope:
    """One fit's log–log slope (−α) of a hyperparameter law with its bootstrap interval."""

    value: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0.0 or self.high < 0.0

    @property
    def decided(self) -> bool:
        """The interval excludes 0, or is narrower than ±NEAR_ZERO_HALF_WIDTH."""
        return self.excludes_zero or (self.high - self.low) < 2.0 * NEAR_ZERO_HALF_WIDTH

    def overlaps(self, other: Slope) -> bool:
        """Whether the two intervals share a point: the slopes agree within their intervals."""
        return self.low <= other.high and other.low <= self.high

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "excludes_zero": self.excludes_zero, "decided": self.decided}


def slope(fit: Mapping, key: str) -> Slope | None:
    """The slope of law `key` ("batch_size_law" or "learning_rate_law") of a grid fit; None for a fit
    without one (stage 2, or no law fitted)."""
    law = fit.get(key)
    if fit.get("stage") != GRID_STAGE or not law:
        return None
    low, high = law["alpha_ci"]
    return Slope(-law["alpha"], -high, -low)


def slope_summary(fits: Mapping[str, Mapping]) -> dict:
    """{law: {label: Slope dict}, "agreement": {law: {"A vs B": bool}}}: the slopes of every grid fit
    and, for every pair of them, whether their intervals overlap."""
    summary: dict = {"agreement": {}}
    for key, _ in SLOPE_LAWS:
        slopes = {label: value for label, fit in fits.items() if (value := slope(fit, key)) is not None}
        summary[key] = {label: value.to_dict() for label, value in slopes.items()}
        labels = list(slopes)
        summary["agreement"][key] = {
            f"{first} vs {second}": slopes[first].overlaps(slopes[second])
            for index, first in enumerate(labels)
            for second in labels[index + 1 :]
        }
    return summary


def _option(fit: Mapping, key: str):
    """A fit option, comparable across fits: normalization ranges without the env names (the authors'
    rows name an env "cartpole-swingup" where rlscale's say "dmc/cartpole-swingup")."""
    value = fit.get(key, RECORDED_DEFAULTS.get(key))
    if key == "normalization" and isinstance(value, Mapping):
        return sorted(tuple(bounds) for bounds in value.values())
    return value


def option_differences(fits: Mapping[str, Mapping]) -> list[str]:
    """One line per fit option (OPTION_KEYS) on which fits of the same stage differ (a stage-2 fit
    stops at the thresholds its runs reach, so it is compared with stage-2 fits only)."""
    lines = []
    for stage in dict.fromkeys(fit.get("stage") for fit in fits.values()):
        same_stage = {label: fit for label, fit in fits.items() if fit.get("stage") == stage}
        for key in OPTION_KEYS:
            values = {label: _option(fit, key) for label, fit in same_stage.items()}
            if len({repr(value) for value in values.values()}) > 1:
                lines.append(f"{key} differs: " + "; ".join(f"{label} {value}" for label, value in values.items()))
    return lines


def _bound(value: float | None, spec: str, scale: float = 1.0) -> str:
    """One end of an interval; None (fit.json's encoding of ±∞: some resamples never reach J) as ∞."""
    return "∞" if value is None or not math.isfinite(value) else f"{value / scale:{spec}}"


def _interval(low: float | None, high: float | None, spec: str, scale: float = 1.0) -> str:
    return f"[{_bound(low, spec, scale)}, {_bound(high, spec, scale)}]"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def options_table(fits: Mapping[str, Mapping]) -> list[str]:
    lines = [
        "| fit | stage | algo | configs | rows | σ | thresholds | selection J | interval | resamples | data-law loss |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, fit in fits.items():
        interval = fit.get("interval") or (None, None)
        lines.append(
            f"| {label} | {fit.get('stage', MISSING)} | {fit.get('algo') or MISSING} | {fit.get('n_configs', MISSING)} | "
            f"{fit.get('n_rows', MISSING)} | {', '.join(f'{sigma:g}' for sigma in fit.get('utds', []))} | "
            f"{', '.join(f'{threshold:g}' for threshold in fit.get('thresholds', []))} | {fit.get('selection_threshold', MISSING)} | "
            f"{_interval(*interval, 'g')} | {fit.get('n_bootstrap', MISSING)} | {fit.get('data_law_loss', MISSING)} |"
        )
    return lines


def edge_table(fits: Mapping[str, Mapping]) -> list[str]:
    """Per grid fit: the share of (env, σ, J) cells whose fastest (B, η) is inside the grid, how many
    of those are inside only because configs tied for fastest disagree on an edge (fits before the
    count: —), and how often each hyperparameter sits at each edge."""
    lines = [
        "| fit | cells | fastest (B, η) inside the grid | of those, only by ties | B low / high | η low / high | tied votes B / η (rule) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, fit in fits.items():
        edges = fit.get("grid_edges")
        if fit.get("stage") != GRID_STAGE or not edges:
            continue
        counts = edges["edge_counts"]
        by_ties = edges.get("inside_tied_with_edge")
        lines.append(
            f"| {label} | {len(edges['cells'])} | {edges['inside_share']:.0%} | {MISSING if by_ties is None else by_ties} | "
            f"{counts['batch_size']['low']} / {counts['batch_size']['high']} | "
            f"{counts['learning_rate']['low']} / {counts['learning_rate']['high']} | {_tie_shares(fit)} |"
        )
    return lines


def _tie_shares(fit: Mapping) -> str:
    """'B share / η share (rule)' of the votes for B*, η* that were ties (fits before `vote_ties`: —)."""
    shares = tie_shares(VoteTies.from_dict(ties) for ties in fit.get("vote_ties", []))
    if len(shares) < 2:
        return MISSING
    return f"{shares['batch_size']:.0%} / {shares['learning_rate']:.0%} ({fit.get('tied_votes', RECORDED_DEFAULTS['tied_votes'])})"


def _time_cell(entry: Mapping | None) -> str:
    """A best-config entry as 'time [interval] (B, η)'; None: no config's seed mean reaches J."""
    if entry is None or entry["time_to_threshold"] is None or not math.isfinite(entry["time_to_threshold"]):
        return "not reached"
    return (
        f"{entry['time_to_threshold'] / 1e3:.1f}k {_interval(*entry['time_to_threshold_ci'], '.1f', 1e3)} "
        f"(B={entry['batch_size']}, η={entry['learning_rate']:g})"
    )


def best_time_table(fits: Mapping[str, Mapping]) -> list[str]:
    """Per (J, σ): each grid fit's fastest config (seed mean) and its time to J."""
    labels = [label for label, fit in fits.items() if fit.get("stage") == GRID_STAGE]
    thresholds = sorted({threshold for label in labels for threshold in fits[label]["thresholds"]})
    sigmas = sorted({sigma for label in labels for sigma in fits[label]["utds"]})
    times = {label: {(entry["utd"], entry["threshold"]): entry for entry in fits[label]["best_hparams"]} for label in labels}
    lines = [
        "| σ | J | " + " | ".join(f"{label}: env steps to J [interval] (best B, η)" for label in labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for threshold in thresholds:
        for sigma in sigmas:
            cells = [
                _time_cell(times[label].get((sigma, threshold)))
                if sigma in fits[label]["utds"] and threshold in fits[label]["thresholds"]
                else MISSING
                for label in labels
            ]
            if any(cell != MISSING for cell in cells):
                lines.append(f"| {sigma:g} | {threshold:g} | " + " | ".join(cells) + " |")
    return lines


def slope_table(fits: Mapping[str, Mapping]) -> list[str]:
    """Per law: each grid fit's slope [interval] and whether it is decided; then which pairs agree."""
    summary = slope_summary(fits)
    labels = [label for label, fit in fits.items() if fit.get("stage") == GRID_STAGE]
    lines = [
        "| law | " + " | ".join(f"{label}: slope [interval], decided?" for label in labels) + " | agree within intervals? |",
        "|---|" + "---|" * (len(labels) + 1),
    ]
    for key, name in SLOPE_LAWS:
        cells = []
        for label in labels:
            entry = summary[key].get(label)
            cells.append(
                MISSING
                if entry is None
                else f"{entry['value']:.3f} {_interval(entry['low'], entry['high'], '.3f')}, {_yes(entry['decided'])}"
            )
        agreement = "; ".join(f"{pair}: {_yes(agrees)}" for pair, agrees in summary["agreement"][key].items()) or MISSING
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {agreement} |")
    return lines


def data_law_table(fits: Mapping[str, Mapping]) -> list[str]:
    """Per J and fit: D_J(σ) = D_min + (β/σ)^α per env, with intervals and the fit's residual."""
    thresholds = sorted({threshold for fit in fits.values() for threshold in fit.get("thresholds", [])})
    lines = [
        "| J | fit | env | D_min [interval] | β [interval] | α [interval] | RMS log residual |",
        "|---|---|---|---|---|---|---|",
    ]
    for threshold in thresholds:
        for label, fit in fits.items():
            for law in fit.get("data_law", []):
                if law["threshold"] != threshold or law["scope"] == "all":
                    continue
                lines.append(
                    f"| {threshold:g} | {label} | {law['scope']} | {law['d_min']:.4g} {_interval(*law['d_min_ci'], '.3g')} | "
                    f"{law['beta']:.3g} {_interval(*law['beta_ci'], '.3g')} | "
                    f"{law['alpha']:.3f} {_interval(*law['alpha_ci'], '.3f')} | {law['rms_log_residual']:.3f} |"
                )
    return lines


def horizon_table(fits: Mapping[str, Mapping]) -> list[str]:
    """Per fit: how many configs' isotonic crossing of the selection threshold moves when each curve is
    cut at its first raw crossing (the estimator reads data after the crossing), and the laws refitted
    on rows cut at shorter horizons, where the fit measured them."""
    lines = [
        "| fit | horizon (env steps) | J | configs reaching J | crossing moved by the cut | full/cut median | full/cut 90th pct | horizon cuts: B\\* slope, η\\* slope |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, fit in fits.items():
        horizon = fit.get("horizon")
        if not horizon or not horizon.get("crossing"):
            continue
        crossing = horizon["crossing"]
        cuts = "; ".join(_cut_text(cut) for cut in horizon.get("cuts", [])) or MISSING
        lines.append(
            f"| {label} | {horizon['full_env_steps']:,} | {crossing['threshold']:g} | {crossing['n_reached']} | {crossing['n_moved']} | "
            f"{crossing['ratio_median']:.2f} | {crossing['ratio_p90']:.2f} | {cuts} |"
        )
    return lines


def _cut_text(cut: Mapping) -> str:
    """A horizon cut as 'env steps: B* slope [interval], η* slope [interval]' (or why its refit failed)."""
    if cut.get("error"):
        return f"{cut['env_steps']:,}: not fitted ({cut['error']})"
    slopes = []
    for key in ("batch_size", "learning_rate"):
        alpha, (low, high) = cut[f"{key}_alpha"], cut[f"{key}_alpha_ci"]
        slopes.append(f"{_bound(_negated(alpha), '.3f')} {_interval(_negated(high), _negated(low), '.3f')}")
    return f"{cut['env_steps']:,}: " + ", ".join(slopes)


def _negated(value: float | None) -> float | None:
    return None if value is None else -value


def comparison_markdown(fits: Mapping[str, Mapping], sources: Mapping[str, str], title: str) -> str:
    """The whole report: `fits` label -> fit dictionary, `sources` label -> where it was read from."""
    differences = option_differences(fits)
    sections = [
        f"# {title}",
        "",
        "Written by `rlscale compare`. Fits: " + ", ".join(f"{label} `{sources[label]}`" for label in fits) + ".",
        "Intervals are the fits' bootstrap intervals over seeds. A slope is decided when its interval excludes 0 "
        f"or is narrower than ±{NEAR_ZERO_HALF_WIDTH:g}.",
        "",
        "## Fit options",
        "",
        *options_table(fits),
        "",
        *(["**Not compared on equal terms:** " + " · ".join(differences), ""] if differences else ["The fits share their options.", ""]),
        "## Where the fastest config sits",
        "",
        *edge_table(fits),
        "",
        "## Best time to J per σ (seed mean of the fastest (B, η))",
        "",
        *best_time_table(fits),
        "",
        "## Hyperparameter laws: log–log slopes (−α)",
        "",
        *slope_table(fits),
        "",
        "## Data law D_J(σ) = D_min + (β/σ)^α",
        "",
        *data_law_table(fits),
        "",
        "## The grid's horizon",
        "",
        *horizon_table(fits),
        "",
    ]
    return "\n".join(sections)
