"""The (σ, N) workflow on a synthetic sweep with known laws (the README's figure).

A (σ, N, B, η) grid — 2 envs × σ ∈ {1, 2, 4, 8, 16} × N ∈ {1e5, 3e5, 1e6, 3e6} critic parameters ×
B ∈ {128, 256, 512, 1024} × η ∈ {2.5e-4, 5e-4, 1e-3} × 4 seeds — drawn from `SyntheticSigmaNLaws()`
(rlscale/laws/synthetic.py), fitted by `rlscale fit` (default options, suite dmc: δ = 1e11), and asked
for a budget 10× the largest fitted one. Writes this directory's `sigma_n_*.png` and `summary.json`
(fitted against true values); a few CPU-minutes:

    python fits/sigma_n_synthetic/make_fit.py
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rlscale.laws.allocation import SearchBox, joint_optimum
from rlscale.laws.recommend_sigma_n import recommend_sigma_n
from rlscale.laws.results import JointDataLaw
from rlscale.laws.synthetic import SyntheticSigmaNLaws, synthetic_sigma_n_sweep
from rlscale.run.fit_files import fit_run_directory

HERE = Path(__file__).parent
LAWS = SyntheticSigmaNLaws()
FIGURES = ("sigma_n_data_law", "sigma_n_batch_size", "sigma_n_allocation")
BUDGET_FACTOR = 10.0


def _true_optimum(env: str, threshold: float, delta: float, box: SearchBox):
    c, a, alpha, b, beta = LAWS.data_law(env, threshold)
    law = JointDataLaw(threshold, env, c, a, alpha, b, beta, 0.0, *[np.nan] * 5, *[(np.nan, np.nan)] * 5, points=())
    return joint_optimum(law, lambda sigma, size: LAWS.best_batch_size(env, sigma, size), delta, box)


def main() -> None:
    table = synthetic_sigma_n_sweep(
        LAWS, utds=(1.0, 2.0, 4.0, 8.0, 16.0), batch_sizes=(128, 256, 512, 1024), learning_rates=(2.5e-4, 5e-4, 1e-3), n_seeds=4, seed=1
    )
    with tempfile.TemporaryDirectory() as work:
        runs = Path(work) / "runs"
        runs.mkdir()
        (runs / "evals.jsonl").write_text(table.to_json(orient="records", lines=True) + "\n")
        result = fit_run_directory(runs, Path(work) / "fit")
        for name in FIGURES:
            shutil.copy(Path(work) / "fit" / f"{name}.png", HERE / f"{name}.png")
    sigma_n = result.sigma_n
    summary = {"thresholds": list(sigma_n.thresholds_sigma_n), "envs": {}}
    for env in LAWS.envs:
        allocation = sigma_n.allocation_for(env)
        box = SearchBox(allocation.utd_range, allocation.model_size_range)
        laws = []
        for threshold in sigma_n.thresholds_sigma_n:
            law = sigma_n.data_law_for(threshold, env)
            laws.append({
                "threshold": threshold,
                "fitted": [law.c, law.a, law.alpha, law.b, law.beta],
                "true": list(LAWS.data_law(env, threshold)),
                "alpha_ci": list(law.alpha_ci),
                "beta_ci": list(law.beta_ci),
            })
        optima = []
        for point in allocation.points:
            truth = _true_optimum(env, point.threshold, allocation.delta, box)
            optima.append({
                "threshold": point.threshold,
                "fitted": {"utd": point.utd, "model_size": point.model_size, "budget": point.budget},
                "true": {"utd": truth.sigma, "model_size": truth.model_size, "budget": truth.budget},
            })
        batch = next(law for law in sigma_n.batch_size_law_sigma_n.laws if law.env == env)
        summary["envs"][env] = {
            "data_laws": laws,
            "batch_size_law": {"fitted": [batch.a, batch.alpha, batch.b, batch.c], "alpha_ci": list(batch.alpha_ci),
                               "true": [LAWS.batch_a[env], LAWS.batch_alpha, LAWS.batch_b[env], LAWS.batch_c]},
            "optima": optima,
            "model_size_path": {"exponent": allocation.model_size_path.exponent, "exponent_ci": list(allocation.model_size_path.exponent_ci)},
            "utd_path": {"exponent": allocation.utd_path.exponent, "exponent_ci": list(allocation.utd_path.exponent_ci)},
            "overheads": {"utd_only": allocation.utd_only_data_overhead, "model_size_only": allocation.model_size_only_data_overhead},
        }
    pooled = sigma_n.allocation_for("all")
    budget = BUDGET_FACTOR * max(point.budget for point in pooled.points)
    recommendation = recommend_sigma_n(result, budget)
    summary["learning_rate_law"] = {
        "n_exponent": sigma_n.learning_rate_law_sigma_n.n_exponent,
        "n_exponent_ci": list(sigma_n.learning_rate_law_sigma_n.n_exponent_ci),
        "n_matters": sigma_n.learning_rate_law_sigma_n.n_matters,
    }
    summary["all"] = {
        "model_size_path": [pooled.model_size_path.coefficient, pooled.model_size_path.exponent],
        "utd_path": [pooled.utd_path.coefficient, pooled.utd_path.exponent],
        "overheads": {"utd_only": pooled.utd_only_data_overhead, "model_size_only": pooled.model_size_only_data_overhead},
        "recommendation": recommendation.to_dict(),
    }
    (HERE / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["all"], indent=1))


if __name__ == "__main__":
    main()
