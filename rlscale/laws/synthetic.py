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
larger model with a higher `max_return`), each generated with `model_size=N`, concatenated.
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
    rng = np.random.default_rng(seed)
    frames = []
    for env, env_configs in configs.groupby("env", sort=True):
        sigma = env_configs["utd"].to_numpy(dtype=float)
        batch = env_configs["batch_size"].to_numpy(dtype=float)
        rate = env_configs["learning_rate"].to_numpy(dtype=float)
        best_batch = (laws.batch_beta[env] / sigma) ** laws.batch_alpha
        best_rate = (laws.learning_rate_beta[env] / sigma) ** laws.learning_rate_alpha
        tau = laws.tau_star(env, sigma) * (1.0 + laws.penalty * (np.log(batch / best_batch) ** 2 + np.log(rate / best_rate) ** 2))
        last_step = horizon if horizon is not None else horizon_factor * laws.tau_star(env, sigma.min())
        steps = np.linspace(last_step / n_evals, last_step, n_evals).round().astype(np.int64)
        seed_tau = tau[:, None] * np.exp(rng.normal(0.0, seed_noise, size=(len(tau), n_seeds)))
        returns = laws.max_return * (1.0 - np.exp(-steps[None, None, :] / seed_tau[:, :, None]))
        returns += rng.normal(0.0, eval_noise, size=returns.shape)
        n_configs = len(tau)
        frames.append(
            pd.DataFrame(
                {
                    "suite": suite,
                    "env": env,
                    "utd": np.repeat(sigma, n_seeds * n_evals),
                    "batch_size": np.repeat(batch, n_seeds * n_evals).astype(np.int64),
                    "learning_rate": np.repeat(rate, n_seeds * n_evals),
                    "seed": np.tile(np.repeat(np.arange(n_seeds), n_evals), n_configs),
                    "env_step": np.tile(steps, n_configs * n_seeds),
                    "return": returns.reshape(-1),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    if model_size is not None:
        table["model_size"] = float(model_size)
    return table
