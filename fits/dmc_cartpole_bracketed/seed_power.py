"""How many seeds and which σ does a grid need before its B*(σ) and η*(σ) slopes are decided?

A measured answer from the authors' own cartpole-swingup grid (../shared/data/dmc_sweep: 6 σ × 5 B ×
4 η × 10 seeds): the grid stage of `rlscale fit` (default options, selection at J = 800, 100 seed
resamples) refitted on random subsets of the seeds, with all six σ or only the four of our study
(1, 2, 4, 8), and the 90 % bootstrap intervals of the two slopes recorded: their width, and the share
of subsets whose interval excludes 0.

    python fits/dmc_cartpole_bracketed/seed_power.py      # writes fits/dmc_cartpole_bracketed/seed_power.md

Each subset is drawn with a fixed seed, so the table is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from measurements import load_authors_cartpole, run, write_report
from rlscale.laws import FitInputError, FitOptions, fit_laws

HERE = Path(__file__).resolve().parent
SIGMA_SETS = {"all six σ (1, 2, 3, 4, 5, 8)": (1.0, 2.0, 3.0, 4.0, 5.0, 8.0), "our four σ (1, 2, 4, 8)": (1.0, 2.0, 4.0, 8.0)}
SEED_COUNTS = (4, 5, 10)
SUBSETS = 8
"""Random seed subsets per (σ set, seed count) below the 10 seeds the authors ran."""
OPTIONS = FitOptions(selection_threshold=800.0, thresholds=(800.0,), n_bootstrap=100, seed=0)
OUTPUT = HERE / "seed_power.md"


def _slopes(table: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """{law: (slope, interval low, interval high)} of the grid fit of `table` (slope = −α)."""
    fit = fit_laws(table, OPTIONS)
    return {
        name: (-law.alpha, -law.alpha_ci[1], -law.alpha_ci[0])
        for name, law in (("B*", fit.batch_size_law), ("η*", fit.learning_rate_law))
    }


def main() -> None:
    table = load_authors_cartpole()
    rng = np.random.default_rng(0)
    lines = [
        "# How many seeds decide the slopes? The authors' cartpole-swingup grid, refitted on seed subsets",
        "",
        f"Written by `seed_power.py`: the grid stage of `rlscale fit` (selection at J = 800, {OPTIONS.n_bootstrap} seed resamples) "
        f"on {SUBSETS} random subsets of the authors' 10 seeds per row (all 10 once). Slope = log–log slope (−α); "
        "intervals are 5–95 %.",
        "",
        "| σ | seeds | law | median slope | median interval width | subsets whose interval excludes 0 |",
        "|---|---|---|---|---|---|",
    ]
    for label, sigmas in SIGMA_SETS.items():
        rows = table[table["utd"].isin(sigmas)]
        for count in SEED_COUNTS:
            draws = 1 if count == 10 else SUBSETS
            results = []
            for _ in range(draws):
                seeds = np.sort(rng.choice(10, size=count, replace=False))
                try:
                    results.append(_slopes(rows[rows["seed"].isin(seeds)]))
                except FitInputError as error:
                    print(f"{label}, {count} seeds {seeds.tolist()}: not fitted: {error}")
            for law in ("B*", "η*"):
                slopes = np.array([result[law] for result in results])
                if not len(slopes):
                    continue
                width = np.median(slopes[:, 2] - slopes[:, 1])
                decided = np.mean((slopes[:, 1] > 0) | (slopes[:, 2] < 0))
                lines.append(
                    f"| {label} | {count} | {law} | {np.median(slopes[:, 0]):+.3f} | {width:.3f} | "
                    f"{decided:.0%} of {len(slopes)} |"
                )
            print(lines[-2], lines[-1], sep="\n", flush=True)
    write_report(OUTPUT, lines)


if __name__ == "__main__":
    run(main)
