"""Side by side: rlscale's own cartpole-swingup study against `rlscale fit` on the authors' rows.

    rlscale fit ../shared/data/dmc_sweep/dmc_sweep.csv.gz --env cartpole-swingup \
        --thresholds 300 400 500 600 700 800 --selection-threshold 700 --out fits/dmc_cartpole/side_by_side/authors
    rlscale fit fits/dmc_cartpole/grid/evals.parquet \
        --thresholds 300 400 500 600 700 800 --selection-threshold 700 --out fits/dmc_cartpole/side_by_side/rlscale_grid
    python fits/dmc_cartpole/compare.py     # writes fits/dmc_cartpole/side_by_side.md

Both grids are fitted by the same command with the same options (the study's own grid fit,
grid_fit/, stops at J = 700, the highest threshold every σ of ours reaches). Reads the fit.json
files named in FITS and writes one Markdown file: per σ the grid's best time to each threshold
(seed mean, best (B, η)), the B*(σ) and η*(σ) slopes, and the D_J(σ) law's parameters, each with
its 5–95% bootstrap interval; the study's stage-2 fit (D_J from the runs at the fitted B*, η*)
is listed with the data laws.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
FITS = {
    "rlscale (grid)": HERE / "side_by_side" / "rlscale_grid" / "fit.json",
    "rlscale (stage 2)": HERE / "stage2_fit" / "fit.json",
    "authors (grid)": HERE / "side_by_side" / "authors" / "fit.json",
}
"""Label -> fit.json; a missing file is left out of the tables."""
GRID_FITS = ("rlscale (grid)", "authors (grid)")
"""The fits whose best-time table and hyperparameter slopes are compared (stage 2 takes its B*,
η* from the grid fit, so it has no slopes of its own)."""
OUTPUT = HERE / "side_by_side.md"
MISSING = "—"


def _bound(value: float | None, spec: str, scale: float = 1.0) -> str:
    """One end of an interval; None (fit.json's encoding of ±∞: some resamples never reach J) as ∞."""
    return "∞" if value is None or not math.isfinite(value) else f"{value / scale:{spec}}"


def _interval(low: float | None, high: float | None, spec: str, scale: float = 1.0) -> str:
    return f"[{_bound(low, spec, scale)}, {_bound(high, spec, scale)}]"


def _best_times(fit: dict) -> dict[tuple[float, float], dict]:
    """(σ, J) -> the grid's best config entry at that threshold."""
    return {(entry["utd"], entry["threshold"]): entry for entry in fit["best_hparams"]}


def _time_cell(entry: dict | None) -> str:
    """A best-config entry as 'time [interval] (B, η)'; None: no config's seed mean reaches J."""
    if entry is None or entry["time_to_threshold"] is None or not math.isfinite(entry["time_to_threshold"]):
        return "not reached"
    return (
        f"{entry['time_to_threshold'] / 1e3:.1f}k {_interval(*entry['time_to_threshold_ci'], '.1f', 1e3)} "
        f"(B={entry['batch_size']}, η={entry['learning_rate']:g})"
    )


def best_time_table(fits: dict[str, dict], thresholds: list[float]) -> list[str]:
    labels = [label for label in GRID_FITS if label in fits]
    sigmas = sorted({sigma for label in labels for sigma in fits[label]["utds"]})
    times = {label: _best_times(fits[label]) for label in labels}
    lines = [
        "| σ | J | " + " | ".join(f"{label}: env steps to J [5–95%] (best B, η)" for label in labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for threshold in thresholds:
        for sigma in sigmas:
            cells = [
                _time_cell(times[label].get((sigma, threshold))) if sigma in fits[label]["utds"] else MISSING
                for label in labels
            ]
            if any(cell != MISSING for cell in cells):
                lines.append(f"| {sigma:g} | {threshold:g} | " + " | ".join(cells) + " |")
    return lines


def slope_table(fits: dict[str, dict]) -> list[str]:
    labels = [label for label in GRID_FITS if label in fits]
    lines = ["| law | " + " | ".join(f"{label}: slope [5–95%]" for label in labels) + " |", "|---|" + "---|" * len(labels)]
    for key, name in (("batch_size_law", "B\\*(σ)"), ("learning_rate_law", "η\\*(σ)")):
        cells = []
        for label in labels:
            law = fits[label][key]
            low, high = law["alpha_ci"]
            cells.append(f"{-law['alpha']:.3f} {_interval(-high, -low, '.3f')}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def data_law_table(fits: dict[str, dict], thresholds: list[float]) -> list[str]:
    lines = [
        "| J | fit | D_min [5–95%] | β [5–95%] | α [5–95%] | RMS log residual |",
        "|---|---|---|---|---|---|",
    ]
    for threshold in thresholds:
        for label, fit in fits.items():
            laws = [law for law in fit["data_law"] if law["threshold"] == threshold and law["scope"] != "all"]
            for law in laws:
                lines.append(
                    f"| {threshold:g} | {label} | {law['d_min']:.4g} {_interval(*law['d_min_ci'], '.3g')} | "
                    f"{law['beta']:.3g} {_interval(*law['beta_ci'], '.3g')} | "
                    f"{law['alpha']:.3f} {_interval(*law['alpha_ci'], '.3f')} | {law['rms_log_residual']:.3f} |"
                )
    return lines


def main() -> None:
    fits = {label: json.loads(path.read_text()) for label, path in FITS.items() if path.exists()}
    thresholds = sorted({threshold for fit in fits.values() for threshold in fit["thresholds"]})
    sections = [
        "# cartpole-swingup: rlscale's study vs the authors' runs (written by compare.py)",
        "",
        "Fits: " + ", ".join(f"{label} `{FITS[label].relative_to(HERE)}`" for label in fits) + ".",
        "",
        "## Best time to J per σ (grid, seed mean of the fastest (B, η))",
        "",
        *best_time_table(fits, thresholds),
        "",
        "## Hyperparameter laws: log–log slopes (−α)",
        "",
        *slope_table(fits),
        "",
        "## Data law D_J(σ) = D_min + (β/σ)^α",
        "",
        *data_law_table(fits, thresholds),
        "",
    ]
    OUTPUT.write_text("\n".join(sections))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
