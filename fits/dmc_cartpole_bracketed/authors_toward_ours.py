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
- evaluation spacing: only the evaluations at multiples of our 2,500 env steps kept;
- evaluation noise: each row gets Gaussian noise whose standard deviation, at the row's return
  level, is our grid's measured evaluation-to-evaluation noise at that level (below), clipped to
  [0, 1000]; once as raw evaluations (ours are logged raw) and once re-maximised per seed (had the
  authors' evaluations been as noisy, their shipped running maxima). Our noise grows with η
  (the policy changes more between evaluations, `eval_noise.md`): further variants scale it by our
  measured factor per doubling of η, around the middle of the authors' η grid.

Our noise is measured on our own grid's rows (`--ours`): for each seed's interior evaluation,
r_t − (r_{t−1} + r_{t+1}) / 2, scaled by √(2/3) so that a locally straight curve leaves the noise's
own standard deviation, binned by the level (r_{t−1} + r_{t+1}) / 2.

    python fits/dmc_cartpole_bracketed/authors_toward_ours.py      # --ours ROWS: another grid's rows

writes authors_toward_ours.md beside this file. Every random draw has a fixed seed, so the table is
reproducible.
"""

from __future__ import annotations

import argparse
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from authors_cartpole import load_authors_cartpole, run, write_report
from rlscale.laws import FitInputError, FitOptions, fit_laws
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parent
SEED_KEYS = ["utd", "batch_size", "learning_rate", "seed"]
OUR_UTDS = (1.0, 2.0, 4.0, 8.0)
OUR_SEEDS = 5
OUR_ENV_STEPS = 50_000
OUR_EVAL_INTERVAL = 2_500
NOISE_LEVEL_EDGES = (0.0, 200.0, 400.0, 600.0, 700.0, 800.0, 900.0, 1000.0)
"""Return levels (0..1000) whose bins get their own measured noise standard deviation."""
RETURN_RANGE = (0.0, 1000.0)
DRAWS = 16
"""Random draws (seed subsets, noise) per randomised variant."""
OPTIONS = FitOptions(n_bootstrap=100, seed=0, crossing="interpolated")
OUTPUT = HERE / "authors_toward_ours.md"
OUR_GRID = HERE / "grid" / "evals.parquet"

Variant = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


def measured_noise(ours: pd.DataFrame) -> pd.Series:
    """Std of one evaluation's noise per return-level bin of `ours` (an interval index, as pd.cut's)."""
    ours = ours.sort_values([*SEED_KEYS, "env_step"])
    returns = ours["return"]
    grouped = returns.groupby([ours[key] for key in SEED_KEYS])
    neighbours = (grouped.shift(1) + grouped.shift(-1)) / 2
    residual = (returns - neighbours) * np.sqrt(2.0 / 3.0)
    return residual.groupby(pd.cut(neighbours, NOISE_LEVEL_EDGES, include_lowest=True), observed=False).std()


def noise_growth_per_doubling(ours: pd.DataFrame) -> float:
    """The factor by which our noise grows per doubling of η: 2 to the least-squares slope of
    log2(noise at η / noise of all rows) on log2 η, over the return-level bins."""
    overall = measured_noise(ours)
    log_rates, log_ratios = [], []
    for rate, rows in ours.groupby("learning_rate"):
        ratio = (measured_noise(rows) / overall).to_numpy()
        kept = np.isfinite(ratio) & (ratio > 0)
        log_rates += [np.log2(rate)] * int(kept.sum())
        log_ratios += list(np.log2(ratio[kept]))
    return float(2.0 ** np.polyfit(log_rates, log_ratios, 1)[0])


def with_noise(
    table: pd.DataFrame, noise: pd.Series, rng: np.random.Generator, remax: bool, growth_per_doubling: float = 1.0
) -> pd.DataFrame:
    """`table` with level-dependent Gaussian noise on every return, scaled by `growth_per_doubling`
    per doubling of η away from the geometric middle of the table's η grid; with `remax`, each
    seed's noisy curve becomes its running maximum again."""
    table = table.sort_values([*SEED_KEYS, "env_step"]).copy()
    scale = noise.reindex(pd.cut(table["return"].clip(*RETURN_RANGE), NOISE_LEVEL_EDGES, include_lowest=True)).to_numpy()
    log_rates = np.log2(table["learning_rate"].to_numpy())
    middle = np.mean(np.log2(table["learning_rate"].unique()))
    scale = scale * growth_per_doubling ** (log_rates - middle)
    noisy = np.clip(table["return"].to_numpy() + rng.normal(size=len(table)) * np.nan_to_num(scale), *RETURN_RANGE)
    table["return"] = noisy
    if remax:
        table["return"] = table.groupby(SEED_KEYS)["return"].cummax()
    return table


def seed_subset(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    seeds = rng.choice(np.sort(table["seed"].unique()), size=OUR_SEEDS, replace=False)
    return table[table["seed"].isin(seeds)]


def our_sigmas(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return table[table["utd"].isin(OUR_UTDS)]


def our_horizon(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return table[table["env_step"] <= OUR_ENV_STEPS]


def our_spacing(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return table[table["env_step"] % OUR_EVAL_INTERVAL == 0]


def variants(noise: pd.Series, growth: float) -> dict[str, tuple[Variant, int]]:
    """{label: (degrade(table, rng), draws)}; `growth`: our noise's factor per doubling of η."""
    raw_noise: Variant = lambda table, rng: with_noise(table, noise, rng, remax=False)
    remaxed_noise: Variant = lambda table, rng: with_noise(table, noise, rng, remax=True)
    raw_growing: Variant = lambda table, rng: with_noise(table, noise, rng, remax=False, growth_per_doubling=growth)
    remaxed_growing: Variant = lambda table, rng: with_noise(table, noise, rng, remax=True, growth_per_doubling=growth)

    def everything(noisy: Variant) -> Variant:
        def degrade_all(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
            for degrade in (our_sigmas, our_horizon, our_spacing, seed_subset, noisy):
                table = degrade(table, rng)
            return table

        return degrade_all

    return {
        "as shipped": (lambda table, rng: table, 1),
        "our 4 σ (1, 2, 4, 8)": (our_sigmas, 1),
        f"{OUR_SEEDS} of the 10 seeds": (seed_subset, DRAWS),
        f"horizon cut at {OUR_ENV_STEPS:,} env steps": (our_horizon, 1),
        f"an evaluation every {OUR_EVAL_INTERVAL:,} env steps": (our_spacing, 1),
        "our evaluation noise, raw evaluations": (raw_noise, DRAWS),
        "our evaluation noise, re-maximised per seed": (remaxed_noise, DRAWS),
        f"our evaluation noise growing with η as ours does (×{growth:.2f} per doubling), raw": (raw_growing, DRAWS),
        f"our evaluation noise growing with η as ours does (×{growth:.2f} per doubling), re-maximised": (remaxed_growing, DRAWS),
        "all of ours at once, raw evaluations (as our rows)": (everything(raw_noise), DRAWS),
        "all of ours at once, re-maximised (as our rows with --running-max)": (everything(remaxed_noise), DRAWS),
        "all of ours at once, noise growing with η, raw evaluations": (everything(raw_growing), DRAWS),
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
    noise = measured_noise(our_rows)
    table = load_authors_cartpole()
    lines = [
        "# Which difference flattens η*(σ)? The authors' cartpole-swingup grid, degraded toward ours",
        "",
        "Written by `authors_toward_ours.py` (its docstring says how each variant is made). Each row: the grid stage of "
        f"`rlscale fit` with interpolated crossings and {OPTIONS.n_bootstrap} seed resamples; default thresholds and "
        f"selection threshold J_sel; randomised variants drawn {DRAWS} times, medians shown (slope intervals: the median "
        "of the draws' 5–95 % bounds; 'decided': draws whose B\\* / η\\* interval excludes 0).",
        "",
        "Our evaluation noise, measured on our grid (std of one evaluation, by return level): "
        + ", ".join(f"{max(interval.left, RETURN_RANGE[0]):g}–{interval.right:g}: {value:.0f}" for interval, value in noise.items() if np.isfinite(value))
        + ".",
        "",
        "| variant | J_sel | B\\* slope [90 %] | η\\* slope [90 %] | η\\* slope, draws' range | optimum inside | decided B\\* / η\\* "
        "| draws with η\\* as flat as ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ours = summarise(fit_laws(our_rows, OPTIONS))
    lines.append(_row("our grid (rlscale, SAC 2×64), for comparison", pd.DataFrame([ours]), ours["η*"]))
    for label, (degrade, draws) in variants(noise, noise_growth_per_doubling(our_rows)).items():
        rng = np.random.default_rng([0, zlib.crc32(label.encode())])  # per variant: adding one moves no other's draws
        rows = []
        for _ in range(draws):
            try:
                rows.append(summarise(fit_laws(degrade(table, rng), OPTIONS)))
            except FitInputError as error:
                print(f"{label}: not fitted: {error}")
        if not rows:
            continue
        lines.append(_row(label, pd.DataFrame(rows), ours["η*"]))
        print(lines[-1], flush=True)
    write_report(OUTPUT, lines)


if __name__ == "__main__":
    run(main)
