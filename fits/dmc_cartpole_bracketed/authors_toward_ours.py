"""Which difference between our grid and the authors' flattens η*(σ)? Their grid, degraded toward ours.

The authors' cartpole-swingup grid (../shared/data/dmc_sweep: 6 σ × 5 B × 4 η × 10 seeds, an
evaluation every 1,000 env steps, each seed's curve its running maximum) gives an η* slope near −0.5,
decided; our SAC 2×64 grid gives about −0.1, undecided. This script changes the authors' rows one
factor at a time toward our study's, then all at once, and refits each with the same options
(`rlscale fit`'s grid stage, the study's interpolated crossings, 100 seed resamples, default
thresholds and selection):

- σ: only our four (1, 2, 4, 8);
- seeds: 5 of the 10 (random subsets);
- horizon: rows after our 50,000 env steps dropped;
- evaluation spacing: only the authors' first evaluation at or after each multiple of our 2,500 env
  steps kept;
- evaluation noise: each row gets a draw of our grid's measured evaluation noise at the row's return
  level (`measurements.EvaluationNoise`: resampled residuals, so the noise keeps its measured shape,
  mostly dips), clipped to [0, 1000]; once as raw evaluations (ours are logged raw) and once
  re-maximised per seed (had the authors' evaluations been as noisy, their shipped running maxima).
  Our noise grows with η (the policy changes more between evaluations, `eval_noise.md`): further
  variants scale it by our measured factor per doubling of η at each level, around the middle of
  the authors' η grid. The draws are independent per row, and alone (without our spacing) they
  fall on the authors' 1,000-step grid: 2.5 times as many independent draws over a curve as ours
  get, which gives chance early crossings more room.

    python fits/dmc_cartpole_bracketed/authors_toward_ours.py      # --ours ROWS: another grid's rows

writes authors_toward_ours.md beside this file. Every random draw has a fixed seed, so the table is
reproducible.
"""

from __future__ import annotations

import argparse
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from measurements import NOISE_LEVEL_EDGES, RETURN_RANGE, SEED_KEYS, EvaluationNoise, load_authors_cartpole, run, write_report
from rlscale.laws import FitInputError, FitOptions, fit_laws
from rlscale.config import SweepConfig
from rlscale.run.study_runner import read_study
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parent
OUR_SWEEP = SweepConfig.from_dict(read_study(HERE / "studies" / "cartpole_swingup.toml").grid)
"""Our study's grid: the σ, seeds, horizon and evaluation spacing the variants take on."""
OUR_UTDS = tuple(OUR_SWEEP.utd)
OUR_SEEDS = len(OUR_SWEEP.seeds)
OUR_ENV_STEPS = OUR_SWEEP.env_steps
OUR_EVAL_INTERVAL = OUR_SWEEP.eval_interval
AUTHORS_EVAL_INTERVAL = 1_000
"""The authors' sweep logs an evaluation every 1,000 env steps from 5,000 on (its README)."""
DRAWS = 16
"""Random draws (seed subsets, noise) per randomised variant."""
OPTIONS = FitOptions(n_bootstrap=100, seed=0, crossing="interpolated")
OUTPUT = HERE / "authors_toward_ours.md"
OUR_GRID = HERE / "grid" / "evals.parquet"

Variant = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


def seed_subset(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    seeds = rng.choice(np.sort(table["seed"].unique()), size=OUR_SEEDS, replace=False)
    return table[table["seed"].isin(seeds)]


def our_sigmas(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return table[table["utd"].isin(OUR_UTDS)]


def our_horizon(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return table[table["env_step"] <= OUR_ENV_STEPS]


def our_spacing(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The authors' first evaluation at or after each multiple of our interval (theirs fall every
    1,000 steps, so e.g. 5,000, 8,000, 10,000, 13,000, …)."""
    return table[table["env_step"] % OUR_EVAL_INTERVAL < AUTHORS_EVAL_INTERVAL]


def with_noise(table: pd.DataFrame, noise: EvaluationNoise, rng: np.random.Generator, remax: bool, grow_with_rate: bool) -> pd.DataFrame:
    """`table` with our measured evaluation noise added to every return (clipped to 0..1000); with
    `remax`, each seed's noisy curve becomes its running maximum again."""
    table = table.sort_values([*SEED_KEYS, "env_step"]).copy()
    returns = table["return"].to_numpy()
    draws = noise.sample(returns, table["learning_rate"].to_numpy(), rng, grow_with_rate)
    table["return"] = np.clip(returns + draws, *RETURN_RANGE)
    if remax:
        table["return"] = table.groupby(SEED_KEYS)["return"].cummax()
    return table


@dataclass(frozen=True)
class Degradation:
    """One variant of the authors' grid: its table label, how it is made, and how many draws."""

    label: str
    degrade: Variant
    draws: int


def variants(noise: EvaluationNoise) -> dict[str, Degradation]:
    """{key (seeds its draws, so that adding a variant moves no other's): Degradation}."""

    def noisy(remax: bool, grow_with_rate: bool) -> Variant:
        return lambda table, rng: with_noise(table, noise, rng, remax, grow_with_rate)

    def everything(last: Variant) -> Variant:
        def degrade_all(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
            for degrade in (our_sigmas, our_horizon, our_spacing, seed_subset, last):
                table = degrade(table, rng)
            return table

        return degrade_all

    return {
        "shipped": Degradation("as shipped", lambda table, rng: table, 1),
        "sigmas": Degradation(f"our {len(OUR_UTDS)} σ ({', '.join(f'{utd:g}' for utd in OUR_UTDS)})", our_sigmas, 1),
        "seeds": Degradation(f"{OUR_SEEDS} of the authors' seeds", seed_subset, DRAWS),
        "horizon": Degradation(f"horizon cut at {OUR_ENV_STEPS:,} env steps", our_horizon, 1),
        "spacing": Degradation(f"an evaluation every {OUR_EVAL_INTERVAL:,} env steps", our_spacing, 1),
        "noise": Degradation("our evaluation noise, raw evaluations", noisy(False, False), DRAWS),
        "noise_remax": Degradation("our evaluation noise, re-maximised per seed", noisy(True, False), DRAWS),
        "growing": Degradation("our evaluation noise growing with η as ours does, raw", noisy(False, True), DRAWS),
        "growing_remax": Degradation("our evaluation noise growing with η as ours does, re-maximised", noisy(True, True), DRAWS),
        "all": Degradation("all of ours at once, raw evaluations (as our rows)", everything(noisy(False, False)), DRAWS),
        "all_remax": Degradation(
            "all of ours at once, re-maximised (as our rows with --running-max)", everything(noisy(True, False)), DRAWS
        ),
        "all_growing": Degradation("all of ours at once, noise growing with η, raw evaluations", everything(noisy(False, True)), DRAWS),
    }


def summarise(fit) -> dict[str, float]:
    """The numbers one fit contributes to the table."""
    edges = fit.grid_edges
    row = {"J_sel": fit.selection_threshold, "inside": edges.inside_share if edges else np.nan}
    for name, law in (("B*", fit.batch_size_law), ("η*", fit.learning_rate_law)):
        row[name] = -law.alpha
        row[f"{name} low"], row[f"{name} high"] = -law.alpha_ci[1], -law.alpha_ci[0]
    return row


def _row(label: str, frame: pd.DataFrame, our_learning_rate_slope: float) -> str:
    """A table row: medians over the draws in `frame` (one row per draw, `summarise`'s columns)."""
    median = frame.median()
    decided = {law: np.mean((frame[f"{law} low"] > 0) | (frame[f"{law} high"] < 0)) for law in ("B*", "η*")}
    return (
        f"| {label} | {median['J_sel']:g} | {median['B*']:+.2f} [{median['B* low']:+.2f}, {median['B* high']:+.2f}] | "
        f"{median['η*']:+.2f} [{median['η* low']:+.2f}, {median['η* high']:+.2f}] | {frame['η*'].min():+.2f} … {frame['η*'].max():+.2f} | "
        f"{median['inside']:.0%} | {decided['B*']:.0%} / {decided['η*']:.0%} of {len(frame)} | "
        f"{np.mean(frame['η*'] >= our_learning_rate_slope):.0%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default=str(OUR_GRID), help=f"our grid's rows, any table rlscale fit reads (default {OUR_GRID.relative_to(HERE)})")
    args = parser.parse_args()
    our_rows = load_runs(args.ours)
    noise = EvaluationNoise.measure(our_rows)
    table = load_authors_cartpole()
    lines = [
        "# Which difference flattens η*(σ)? The authors' cartpole-swingup grid, degraded toward ours",
        "",
        "Written by `authors_toward_ours.py` (its docstring says how each variant is made). Each row: the grid stage of "
        f"`rlscale fit` with interpolated crossings and {OPTIONS.n_bootstrap} seed resamples; default thresholds and "
        f"selection threshold J_sel; randomised variants drawn {DRAWS} times, medians shown (slope intervals: the median "
        "of the draws' 5–95 % bounds; 'decided': draws whose B\\* / η\\* interval excludes 0).",
        "",
        "Our evaluation noise, measured on our grid (`measurements.EvaluationNoise`: std of one evaluation by return "
        "level, and its growth per doubling of η): "
        + ", ".join(
            f"{interval.left if index else RETURN_RANGE[0]:g}–{interval.right:g}: {std:.0f} (×{growth:.2f})"
            for index, (interval, std, growth) in enumerate(
                zip(pd.IntervalIndex.from_breaks(NOISE_LEVEL_EDGES), noise.std, noise.growth_per_doubling)
            )
        )
        + ". The noise added is resampled from the measured residuals of the row's level, independently per row.",
        "",
        "| variant | J_sel | B\\* slope [90 %] | η\\* slope [90 %] | η\\* slope, draws' range | optimum inside | decided B\\* / η\\* "
        "| draws with η\\* as flat as ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ours = summarise(fit_laws(our_rows, OPTIONS))
    lines.append(_row("our grid (rlscale, SAC 2×64), for comparison", pd.DataFrame([ours]), ours["η*"]))
    for key, variant in variants(noise).items():
        rng = np.random.default_rng([0, zlib.crc32(key.encode())])
        rows = []
        for _ in range(variant.draws):
            try:
                rows.append(summarise(fit_laws(variant.degrade(table, rng), OPTIONS)))
            except FitInputError as error:
                print(f"{variant.label}: not fitted: {error}")
        if rows:
            lines.append(_row(variant.label, pd.DataFrame(rows), ours["η*"]))
            print(lines[-1], flush=True)
    write_report(OUTPUT, lines)


if __name__ == "__main__":
    run(main)
