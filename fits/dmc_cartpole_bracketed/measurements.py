"""What the measurement scripts beside this file share: the authors' cartpole-swingup grid
(../shared/data/dmc_sweep) as a table, our evaluations' measured noise, and how a script writes its
Markdown report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rlscale.run.tables import load_runs

AUTHORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dmc_sweep" / "dmc_sweep.csv.gz"
ENV = "cartpole-swingup"
SEED_KEYS = ["utd", "batch_size", "learning_rate", "seed"]
"""The columns naming one run (a config's seed)."""
NOISE_LEVEL_EDGES = (0.0, 200.0, 400.0, 600.0, 700.0, 800.0, 900.0, 1000.0)
"""Return levels (0..1000) whose bins get their own measured noise."""
RETURN_RANGE = (0.0, 1000.0)


def level_bins(returns: pd.Series) -> pd.Series:
    """The NOISE_LEVEL_EDGES bin (an interval) of each return."""
    return pd.cut(returns.clip(*RETURN_RANGE), NOISE_LEVEL_EDGES, include_lowest=True)


@dataclass(frozen=True)
class EvaluationNoise:
    """Our evaluations' noise by return level, measured on our rows (`measure`).

    A run's interior evaluation r_t against the mean of its neighbours, (r_t − (r_{t−1} + r_{t+1}) / 2)
    · √(2/3), has the standard deviation of one evaluation's noise where the curve is locally
    straight and the noise independent between evaluations. `residuals[b]` (shape (n_b,)) holds these
    for the evaluations whose neighbours' mean falls in bin b of NOISE_LEVEL_EDGES (a bin without any
    takes its nearest measured bin's); `growth_per_doubling[b]` is the factor bin b's standard
    deviation grows by per doubling of η (2 to the least-squares slope of log2 std on log2 η over our
    η values; 1 with a single η)."""

    residuals: tuple[np.ndarray, ...]
    growth_per_doubling: tuple[float, ...]

    @classmethod
    def measure(cls, ours: pd.DataFrame) -> EvaluationNoise:
        residual, level = _residuals(ours)
        by_bin = [residual[level == interval].dropna().to_numpy() for interval in level.cat.categories]
        measured = [index for index, values in enumerate(by_bin) if len(values) > 1]
        nearest = [min(measured, key=lambda index: abs(index - bin_index)) for bin_index in range(len(by_bin))]
        per_rate = {rate: _residuals(rows) for rate, rows in ours.groupby("learning_rate")}
        growth = []
        for bin_index in nearest:
            interval = level.cat.categories[bin_index]
            points = np.array([
                (np.log2(rate), np.log2(np.std(values)))
                for rate, (rate_residual, rate_level) in per_rate.items()
                for values in [rate_residual[rate_level == interval].dropna()]
                if len(values) > 1 and np.std(values) > 0
            ])
            growth.append(float(2.0 ** np.polyfit(points[:, 0], points[:, 1], 1)[0]) if len(points) > 1 else 1.0)
        return cls(tuple(by_bin[index] for index in nearest), tuple(growth))

    @property
    def std(self) -> np.ndarray:
        """Shape (bins,): one evaluation's noise standard deviation per bin."""
        return np.array([np.std(values) for values in self.residuals])

    def sample(self, returns: np.ndarray, learning_rates: np.ndarray, rng: np.random.Generator, grow_with_rate: bool) -> np.ndarray:
        """Shape (R,): one noise draw per return (shape (R,)), resampled from its bin's residuals;
        with `grow_with_rate`, scaled by the bin's growth per doubling of η away from the geometric
        middle of `learning_rates`' distinct values."""
        bins = level_bins(pd.Series(returns)).cat.codes.to_numpy()
        noise = np.empty(len(returns))
        for bin_index, values in enumerate(self.residuals):
            chosen = bins == bin_index
            noise[chosen] = rng.choice(values, size=int(chosen.sum()))
        if grow_with_rate:
            doublings = np.log2(learning_rates) - np.mean(np.log2(np.unique(learning_rates)))
            noise *= np.asarray(self.growth_per_doubling)[bins] ** doublings
        return noise


def _residuals(ours: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(scaled residual of each row against its neighbours' mean, that mean's level bin), NaN / NaN
    at a run's first and last evaluation (`EvaluationNoise`)."""
    ours = ours.sort_values([*SEED_KEYS, "env_step"])
    returns = ours["return"]
    grouped = returns.groupby([ours[key] for key in SEED_KEYS])
    neighbours = (grouped.shift(1) + grouped.shift(-1)) / 2
    return (returns - neighbours) * np.sqrt(2.0 / 3.0), pd.cut(neighbours, NOISE_LEVEL_EDGES, include_lowest=True)


def load_authors_cartpole() -> pd.DataFrame:
    """The authors' cartpole-swingup rows (6 σ × 5 B × 4 η × 10 seeds), `env` a plain string."""
    table = load_runs(AUTHORS)
    table = table[table["env"] == ENV].copy()
    table["env"] = table["env"].astype(str)
    return table


def write_report(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def run(main: Callable[[], None]) -> None:
    """`main()`, or a one-line exit when the authors' sweep is absent."""
    if not AUTHORS.exists():
        raise SystemExit(f"the authors' DMC sweep is not at {AUTHORS}")
    main()
