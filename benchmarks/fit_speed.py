"""Time the law fit on a Gym-size synthetic sweep.

Grid: 4 envs × 4 σ × 3 B × 3 η × 8 seeds, 300 evaluations per curve (345,600 rows), 100 bootstrap
resamples, with the paper's Gym compute constants (N = 1.5e5, δ = 4e9). Target: ≤ 60 s on 2 cores.

    python -m benchmarks.fit_speed
"""

from __future__ import annotations

import json
import time

from rlscale.laws import FitOptions, fit_laws
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

SIZES = {
    # name: (n_envs, n_seeds, n_evals, n_bootstrap)
    "cpu": (4, 8, 300, 100),
    "tiny": (2, 3, 60, 10),
}
TARGET_SECONDS = 60.0


def _laws(n_envs: int) -> SyntheticLaws:
    envs = [f"env-{index}" for index in range(n_envs)]
    return SyntheticLaws(
        batch_beta={env: (256.0 * (1 + index % 3)) ** 2 for index, env in enumerate(envs)},
        learning_rate_beta={env: (3e-4 * (1 + index % 2)) ** (1 / 0.3) for index, env in enumerate(envs)},
        tau_d_min={env: 10_000.0 * (1 + index) for index, env in enumerate(envs)},
        tau_beta={env: 20.0 + 10.0 * index for index, env in enumerate(envs)},
        tau_scale={env: 5_000.0 * (1 + index % 2) for index, env in enumerate(envs)},
    )


def run(size: str = "cpu") -> dict:
    """Generate the sweep, fit it, and return the timings (seconds) and headline numbers."""
    n_envs, n_seeds, n_evals, n_bootstrap = SIZES[size]
    table = synthetic_sweep(
        _laws(n_envs),
        utds=(1.0, 2.0, 4.0, 8.0),
        batch_sizes=(128, 256, 512),
        learning_rates=(1e-4, 3e-4, 1e-3),
        n_seeds=n_seeds,
        n_evals=n_evals,
    )
    started = time.perf_counter()
    result = fit_laws(table, FitOptions(n_bootstrap=n_bootstrap, model_size=1.5e5, delta=4e9))
    fit_seconds = time.perf_counter() - started
    return {
        "benchmark": "fit_speed",
        "size": size,
        "rows": len(table),
        "configs": result.n_configs,
        "n_bootstrap": n_bootstrap,
        "fit_seconds": round(fit_seconds, 3),
        "target_seconds": TARGET_SECONDS,
        "within_target": fit_seconds <= TARGET_SECONDS,
        "batch_size_alpha": result.batch_size_law.alpha,
        "learning_rate_alpha": result.learning_rate_law.alpha,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
