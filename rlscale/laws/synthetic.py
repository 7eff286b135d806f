"""Synthetic sweeps generated from known laws, for recovery tests and benchmarks.

Each config's expected learning curve is R(t) = R_max · (1 - exp(-t / τ)) (R_max = `max_return`,
1000 by default), so the time to reach a normalized return J is τ · g(J) with
g(J) = -ln(1 - J/R_max). The time constant is

    τ(σ, B, η) = τ*(σ) · (1 + c · (ln(B / B*(σ))² + ln(η / η*(σ))²)),
    τ*(σ) = d_min + (β_τ / σ)^α_τ,  B*(σ) = (β_B / σ)^α_B,  η*(σ) = (β_η / σ)^α_η,

so the best (B, η) follow the hyperparameter laws and, at the optimum, the data law holds for
every J with D_min,J = g(J)·d_min, β_J = β_τ·g(J)^(1/α_τ), α_J = α_τ. Each seed scales τ by
exp(N(0, seed_noise)) and adds N(0, eval_noise) to each evaluation.

A sweep of several model sizes is one table per size (each from its own `SyntheticLaws`, e.g. a
larger model with a higher `max_return`), each generated with `model_size=N`, concatenated; or, for
the joint laws of Fu, Rybkin et al. (2025), one table from `SyntheticSigmaNLaws`, whose time constant
depends on σ and N together:

    τ*(σ, N) = τ_c · (1 + (a/σ)^α + (b/N)^β),  B*(σ, N) = a_B / (σ^α_B · (1 + (b_B/N)^c_B)),
    η*(σ, N) = (β_η / σ)^α_η · (N / N_η)^γ_η,

so that D_J(σ, N) = g(J)·τ*(σ, N): c_J = g(J)·τ_c and (a, α, b, β) the same at every J.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SyntheticLaws:
    """Ground truth of a synthetic sweep (see the module docstring); per-env values are keyed by env."""

    batch_alpha: float = 0.5
    batch_beta: dict[str, float] = field(default_factory=lambda: {"env-a": 512.0**2, "env-b": 256.0**2})
    learning_rate_alpha: float = 0.3
    learning_rate_beta: dict[str, float] = field(default_factory=lambda: {"env-a": 1e-3 ** (1 / 0.3), "env-b": 5e-4 ** (1 / 0.3)})
    tau_d_min: dict[str, float] = field(default_factory=lambda: {"env-a": 20_000.0, "env-b": 50_000.0})
    tau_beta: dict[str, float] = field(default_factory=lambda: {"env-a": 40.0, "env-b": 30.0})
    tau_alpha: float = 0.8
    tau_scale: dict[str, float] = field(default_factory=lambda: {"env-a": 10_000.0, "env-b": 20_000.0})
    penalty: float = 0.15
    max_return: float = 1000.0
    """R_max: the return every learning curve tends to (below 1000, thresholds above it are never reached)."""

    @property
    def envs(self) -> list[str]:
        return sorted(self.tau_d_min)

    def tau_star(self, env: str, sigma: np.ndarray) -> np.ndarray:
        """Optimal time constant τ*(σ) = d_min + scale · (β/σ)^α (any shape)."""
        return self.tau_d_min[env] + self.tau_scale[env] * (self.tau_beta[env] / np.asarray(sigma, float)) ** self.tau_alpha

    def data_law(self, env: str, threshold: float) -> tuple[float, float, float]:
        """True (D_min, β, α) of D_J(σ) for `env` at normalized threshold J."""
        factor = -np.log(1.0 - threshold / self.max_return)
        beta = self.tau_beta[env] * (self.tau_scale[env] * factor) ** (1.0 / self.tau_alpha)
        return self.tau_d_min[env] * factor, beta, self.tau_alpha


def synthetic_sweep(
    laws: SyntheticLaws = SyntheticLaws(),
    utds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0),
    batch_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024),
    learning_rates: tuple[float, ...] = (1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3),
    n_seeds: int = 8,
    n_evals: int = 300,
    horizon_factor: float = 6.0,
    seed_noise: float = 0.05,
    eval_noise: float = 5.0,
    suite: str = "dmc",
    seed: int = 0,
    model_size: float | None = None,
) -> pd.DataFrame:
    """A long-form table (columns of `rlscale.laws.REQUIRED_COLUMNS`) drawn from `laws` for the
    grid utds × batch_sizes × learning_rates of every env, with a `model_size` column of value
    `model_size` when given. See `synthetic_runs` for the evaluations and the noise."""
    grid = np.array(np.meshgrid(utds, batch_sizes, learning_rates, indexing="ij")).reshape(3, -1).T
    configs = pd.DataFrame(
        [(env, utd, int(batch), rate) for env in laws.envs for utd, batch, rate in grid],
        columns=["env", "utd", "batch_size", "learning_rate"],
    )
    return synthetic_runs(laws, configs, n_seeds, n_evals, horizon_factor, seed_noise, eval_noise, suite, seed, model_size)


def synthetic_runs(
    laws: SyntheticLaws,
    configs: pd.DataFrame,
    n_seeds: int = 8,
    n_evals: int = 300,
    horizon_factor: float = 6.0,
    seed_noise: float = 0.05,
    eval_noise: float = 5.0,
    suite: str = "dmc",
    seed: int = 0,
    model_size: float | None = None,
    horizon: float | None = None,
) -> pd.DataFrame:
    """The long-form table of the given configs (rows of `env, utd, batch_size, learning_rate`, any
    set: a grid, or stage-2 runs at chosen hyperparameters) drawn from `laws`.

    Per env, evaluations are `n_evals` evenly spaced env steps up to `horizon` env steps (default
    `horizon_factor` · τ*(min σ), the best config at the env's smallest σ among `configs`); every
    config and seed is logged at the same steps.
    """
    taus, horizons = [], {}
    for env, env_configs in configs.groupby("env", sort=True):
        sigma = env_configs["utd"].to_numpy(dtype=float)
        best_batch = (laws.batch_beta[env] / sigma) ** laws.batch_alpha
        best_rate = (laws.learning_rate_beta[env] / sigma) ** laws.learning_rate_alpha
        taus.append(pd.Series(laws.tau_star(env, sigma) * _penalty(laws.penalty, env_configs, best_batch, best_rate), env_configs.index))
        horizons[env] = horizon if horizon is not None else horizon_factor * laws.tau_star(env, sigma.min())
    tau = pd.concat(taus)

    def returns_at(index: pd.Index, seed_factor: np.ndarray, steps: np.ndarray) -> np.ndarray:
        seed_tau = tau.loc[index].to_numpy(dtype=float)[:, None] * seed_factor
        return laws.max_return * (1.0 - np.exp(-steps[None, None, :] / seed_tau[:, :, None]))

    return _draw_runs(configs, returns_at, horizons, n_seeds, n_evals, seed_noise, eval_noise, suite, seed, model_size)


def _penalty(penalty: float, configs: pd.DataFrame, best_batch: np.ndarray, best_rate: np.ndarray) -> np.ndarray:
    """1 + c·(ln(B/B*)² + ln(η/η*)²) per config (shape (n,)): how much slower than the best it learns."""
    batch = configs["batch_size"].to_numpy(dtype=float)
    rate = configs["learning_rate"].to_numpy(dtype=float)
    return 1.0 + penalty * (np.log(batch / best_batch) ** 2 + np.log(rate / best_rate) ** 2)


def _draw_runs(
    configs: pd.DataFrame,
    returns_at,
    horizons: dict[str, float],
    n_seeds: int,
    n_evals: int,
    seed_noise: float,
    eval_noise: float,
    suite: str,
    seed: int,
    model_size: float | None,
) -> pd.DataFrame:
    """The long-form table of `configs`, logged at `n_evals` evenly spaced env steps up to each env's
    horizon: `returns_at(index, seed_factor, steps)` gives the expected returns, shape (C, S, T), of
    the configs `index` (C,) whose seeds learn `seed_factor` (C, S) times slower, at `steps` (T,);
    each evaluation gets N(0, eval_noise) added. The configs' extra columns (e.g. `model_size`) are kept."""
    rng = np.random.default_rng(seed)
    frames = []
    for env, env_configs in configs.groupby("env", sort=True):
        steps = np.linspace(horizons[env] / n_evals, horizons[env], n_evals).round().astype(np.int64)
        seed_factor = np.exp(rng.normal(0.0, seed_noise, size=(len(env_configs), n_seeds)))
        returns = returns_at(env_configs.index, seed_factor, steps)
        returns += rng.normal(0.0, eval_noise, size=returns.shape)
        repeats = n_seeds * n_evals
        frame = pd.DataFrame(
            {
                "suite": suite,
                "env": env,
                "utd": np.repeat(env_configs["utd"].to_numpy(dtype=float), repeats),
                "batch_size": np.repeat(env_configs["batch_size"].to_numpy(), repeats).astype(np.int64),
                "learning_rate": np.repeat(env_configs["learning_rate"].to_numpy(dtype=float), repeats),
                "seed": np.tile(np.repeat(np.arange(n_seeds), n_evals), len(env_configs)),
                "env_step": np.tile(steps, len(env_configs) * n_seeds),
                "return": returns.reshape(-1),
            }
        )
        for column in env_configs.columns.difference(["env", "utd", "batch_size", "learning_rate"]):
            frame[column] = np.repeat(env_configs[column].to_numpy(), repeats)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    if model_size is not None:
        table["model_size"] = float(model_size)
    return table


@dataclass(frozen=True)
class SyntheticSigmaNLaws:
    """Ground truth of a synthetic (σ, N) sweep; per-env values keyed by env. N is the critic's
    parameter count (the table's `model_size`).

    At the best (B, η) the time to reach J is D_J(σ, N) = c_J·(1 + (a_J/σ)^α + (b_J/N)^β) with
    c_J = c·g(J), a_J = a·g(J)^a_growth, b_J = b·g(J)^b_growth and g(J) = −ln(1 − J/R_max): D_J
    grows with J at every (σ, N), so it defines each config's learning curve (the return reached at
    t is the J with D_J = t), and with a_growth, b_growth > 0 the compute-optimal (σ*, N*) grows
    with J. A config off the best (B, η) takes 1 + c_p·(ln(B/B*)² + ln(η/η*)²) times longer."""

    c: dict[str, float] = field(default_factory=lambda: {"env-a": 10_000.0, "env-b": 20_000.0})
    a: dict[str, float] = field(default_factory=lambda: {"env-a": 0.6, "env-b": 0.5})
    alpha: float = 0.8
    a_growth: float = 2.0
    b: dict[str, float] = field(default_factory=lambda: {"env-a": 2e5, "env-b": 3e5})
    beta: float = 0.6
    b_growth: float = 2.0
    batch_a: dict[str, float] = field(default_factory=lambda: {"env-a": 1500.0, "env-b": 1000.0})
    batch_alpha: float = 0.5
    batch_b: dict[str, float] = field(default_factory=lambda: {"env-a": 3e5, "env-b": 2e5})
    batch_c: float = 0.8
    learning_rate_beta: dict[str, float] = field(default_factory=lambda: {"env-a": 1e-3 ** (1 / 0.3), "env-b": 5e-4 ** (1 / 0.3)})
    learning_rate_alpha: float = 0.3
    learning_rate_n_exponent: float = 0.0
    learning_rate_reference_size: float = 1e6
    penalty: float = 0.15
    max_return: float = 1000.0

    @property
    def envs(self) -> list[str]:
        return sorted(self.c)

    def data_law(self, env: str, threshold: float) -> tuple[float, float, float, float, float]:
        """True (c, a, α, b, β) of D_J(σ, N) for `env` at normalized threshold J."""
        factor = float(-np.log(1.0 - threshold / self.max_return))
        return self.c[env] * factor, self.a[env] * factor**self.a_growth, self.alpha, self.b[env] * factor**self.b_growth, self.beta

    def time_to_threshold(self, env: str, threshold, sigma, model_size):
        """D_J(σ, N) at the best (B, η) (broadcast over J, σ and N)."""
        factor = -np.log(1.0 - np.asarray(threshold, dtype=float) / self.max_return)
        sigma, model_size = np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float)
        return self.c[env] * factor * (
            1.0 + (self.a[env] * factor**self.a_growth / sigma) ** self.alpha + (self.b[env] * factor**self.b_growth / model_size) ** self.beta
        )

    def best_batch_size(self, env: str, sigma, model_size):
        """B*(σ, N) = a_B / (σ^α_B · (1 + (b_B/N)^c_B)) (broadcast)."""
        sigma, model_size = np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float)
        return self.batch_a[env] / (sigma**self.batch_alpha * (1.0 + (self.batch_b[env] / model_size) ** self.batch_c))

    def best_learning_rate(self, env: str, sigma, model_size):
        """η*(σ, N) = (β_η/σ)^α_η · (N / N_η)^γ_η (broadcast)."""
        sigma, model_size = np.asarray(sigma, dtype=float), np.asarray(model_size, dtype=float)
        return (self.learning_rate_beta[env] / sigma) ** self.learning_rate_alpha * (
            model_size / self.learning_rate_reference_size
        ) ** self.learning_rate_n_exponent


CURVE_LEVELS = 2000
"""Returns at which a synthetic (σ, N) learning curve is tabulated (inverted from D_J by interpolation)."""
CURVE_TOP = 0.999
"""The tabulated curve stops at this fraction of R_max (D_J → ∞ at R_max)."""


def synthetic_sigma_n_sweep(
    laws: SyntheticSigmaNLaws = SyntheticSigmaNLaws(),
    utds: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0),
    model_sizes: tuple[float, ...] = (1e5, 3e5, 1e6, 3e6),
    batch_sizes: tuple[int, ...] | None = (64, 128, 256, 512, 1024),
    learning_rates: tuple[float, ...] | None = (1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3),
    n_seeds: int = 6,
    n_evals: int = 300,
    horizon: float = 6.0,
    seed_noise: float = 0.05,
    eval_noise: float = 5.0,
    suite: str = "dmc",
    seed: int = 0,
) -> pd.DataFrame:
    """A long-form table with a `model_size` column drawn from `laws` for the grid utds × model_sizes
    × batch_sizes × learning_rates of every env. With `batch_sizes` and `learning_rates` None, one
    config per (env, σ, N) at the true B*(σ, N) (rounded to an integer) and η*(σ, N): runs at chosen
    hyperparameters, as the authors'. Per env, evaluations run to `horizon` · D_J(min σ, min N) at
    J = R_max / 2."""
    rows = []
    for env in laws.envs:
        for utd in utds:
            for size in model_sizes:
                if batch_sizes is None or learning_rates is None:
                    pairs = [(round(float(laws.best_batch_size(env, utd, size))), float(laws.best_learning_rate(env, utd, size)))]
                else:
                    pairs = [(batch, rate) for batch in batch_sizes for rate in learning_rates]
                rows += [(env, float(utd), int(batch), float(rate), float(size)) for batch, rate in pairs]
    configs = pd.DataFrame(rows, columns=["env", "utd", "batch_size", "learning_rate", "model_size"])
    levels = np.linspace(0.0, CURVE_TOP * laws.max_return, CURVE_LEVELS)
    horizons = {env: horizon * float(laws.time_to_threshold(env, laws.max_return / 2, min(utds), min(model_sizes))) for env in laws.envs}

    def returns_at(index: pd.Index, seed_factor: np.ndarray, steps: np.ndarray) -> np.ndarray:
        rows = configs.loc[index]
        env = str(rows["env"].iloc[0])
        sigma, size = rows["utd"].to_numpy(dtype=float), rows["model_size"].to_numpy(dtype=float)
        slowdown = _penalty(laws.penalty, rows, laws.best_batch_size(env, sigma, size), laws.best_learning_rate(env, sigma, size))
        times = laws.time_to_threshold(env, levels[None, :], sigma[:, None], size[:, None]) * slowdown[:, None]
        scaled = steps[None, None, :] / seed_factor[:, :, None]
        return np.stack([np.interp(scaled[row], times[row], levels) for row in range(len(rows))])

    return _draw_runs(configs, returns_at, horizons, n_seeds, n_evals, seed_noise, eval_noise, suite, seed, None)
