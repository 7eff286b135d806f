"""Extrapolation test of the cpu_scale fit: fit on the lower budgets only, predict the config and
data for a larger budget, run it, and compare prediction with measurement.

    python fits/cpu_scale/extrapolate.py predict   # writes extrapolation_config.toml, extrapolation.json
    rlscale sweep fits/cpu_scale/extrapolation_config.toml --out runs/cpu_extrapolation --plain --no-fit
    python fits/cpu_scale/extrapolate.py compare   # measures, completes extrapolation.json, prints a table
    python fits/cpu_scale/extrapolate.py table     # results.csv: per-config final return and D_J

Protocol (see README.md):
- The lower-budget fit sees only the configs with σ ≤ MAX_FITTED_UTD (the half of the sweep with
  the least compute per env step), at every threshold in THRESHOLDS, with δ = DELTA.
- The target is the largest budget: F*(TARGET_THRESHOLD), the optimum of the highest threshold,
  which the budget law holds out of its regression (it fits on all but the two largest F*).
  `rlscale.laws.recommend` (the `rlscale recommend` computation) gives σ*(F) from the budget law,
  B*(σ*) and η*(σ*) from the hyperparameter laws, and D = D_J(σ*) from the data law at J =
  TARGET_THRESHOLD, with intervals.
- The recommended config is trained with SEEDS seeds; its measured D_J is the first evaluation
  where the seed-mean (isotonic) normalized return reaches J, as in the fit, with a 5–95% bootstrap
  interval over seeds (`rlscale validate`, `rlscale.laws.validation.validate_runs`, against the
  lower-budget fit saved as lower_fit.json). It is evaluated every RUN_EVAL_INTERVAL env steps; the
  primary measurement uses only the evaluations on the sweep's SWEEP_EVAL_INTERVAL grid (the
  resolution the laws were fitted at), the finer one is reported alongside.
- Reference: the same recommendation from the full fit (fit.json here, every σ), at its own F*(J).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from rlscale.laws import FitOptions, build_config_curves, fit_laws, normalize_returns, times_to_threshold, validate_table
from rlscale.laws.recommend import recommend
from rlscale.laws.validation import validate_runs
from rlscale.run.fit_files import load_fit
from rlscale.run.files import write_json_atomically
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SWEEP_RUNS = ROOT / "runs" / "cpu"
EXTRAPOLATION_RUNS = ROOT / "runs" / "cpu_extrapolation"
FULL_FIT = HERE / "fit.json"
LOWER_FIT = HERE / "lower_fit.json"
PREDICTION_CONFIG = HERE / "extrapolation_config.toml"
RESULT = HERE / "extrapolation.json"
RESULTS_TABLE = HERE / "results.csv"
SWEEP_CONFIG = HERE / "sweep_low_utd.toml"

THRESHOLDS = (300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0)
TARGET_THRESHOLD = 900.0
MAX_FITTED_UTD = 4.0
DELTA = 1000.0 * 3748
SEEDS = (0, 1, 2, 3)
N_BOOTSTRAP = 100
ENV_STEPS_MARGIN = 1.5
SWEEP_EVAL_INTERVAL = 500
RUN_EVAL_INTERVAL = 250


def predict() -> dict:
    """Fit on σ ≤ MAX_FITTED_UTD, recommend for the largest budget, write the config to run."""
    table = load_runs(SWEEP_RUNS)
    lower_table = table[table["utd"] <= MAX_FITTED_UTD]
    lower = fit_laws(lower_table, FitOptions(thresholds=THRESHOLDS, delta=DELTA, n_bootstrap=N_BOOTSTRAP, seed=0))
    lower_fit = lower.to_dict()
    write_json_atomically(LOWER_FIT, lower_fit)
    budget = _target_budget(lower)
    prediction = recommend(lower, budget, threshold=TARGET_THRESHOLD)
    env_steps = SWEEP_EVAL_INTERVAL * math.ceil(ENV_STEPS_MARGIN * prediction.data_interval[1] / SWEEP_EVAL_INTERVAL)
    sweep = _sweep_settings()
    PREDICTION_CONFIG.write_text(
        "# The config the lower-budget fit recommends for the target budget (written by extrapolate.py predict).\n"
        f"# F = {budget:.4g} FLOPs; predicted J = {prediction.threshold:.1f} after D = {prediction.data:.0f} env steps.\n"
        f'env = "{sweep["env"]}"\nalgo = "sac"\n'
        f"configs = [{{utd = {prediction.utd:.6g}, batch_size = {prediction.batch_size}, learning_rate = {prediction.learning_rate:.6g}}}]\n"
        f"seeds = {list(SEEDS)}\nenv_steps = {env_steps}\neval_interval = {RUN_EVAL_INTERVAL}\n"
        + "".join(f"{key} = {sweep[key]}\n" for key in ("eval_episodes", "learning_starts", "buffer_capacity", "hidden_width", "hidden_depth"))
    )
    result = {
        "protocol": __doc__.split("Protocol (see README.md):\n", 1)[1].strip(),
        "thresholds": list(THRESHOLDS),
        "target_threshold": TARGET_THRESHOLD,
        "max_fitted_utd": MAX_FITTED_UTD,
        "delta": DELTA,
        "lower_fit": {
            "budget_law": lower_fit["budget_law"],
            "batch_size_law": {key: lower_fit["batch_size_law"][key] for key in ("alpha", "alpha_ci", "intercept")},
            "learning_rate_law": {key: lower_fit["learning_rate_law"][key] for key in ("alpha", "alpha_ci", "intercept")},
            "notes": lower_fit["notes"],
        },
        "prediction": prediction.to_dict(),
        "measured": None,
    }
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["prediction"], indent=1))
    print(f"wrote {PREDICTION_CONFIG} ({env_steps} env steps) and {RESULT}")
    return result


def compare() -> dict:
    """Measure D_J of the recommended config and compare with the prediction and the full fit."""
    result = json.loads(RESULT.read_text())
    prediction = result["prediction"]
    table = load_runs(EXTRAPOLATION_RUNS)
    lower = load_fit(LOWER_FIT)
    measured = _measure(lower, table[table["env_step"] % SWEEP_EVAL_INTERVAL == 0], prediction["threshold"])
    measured["eval_interval"] = SWEEP_EVAL_INTERVAL
    measured["finer"] = {**_measure(lower, table, prediction["threshold"]), "eval_interval": RUN_EVAL_INTERVAL}
    low, high = prediction["data_interval"]
    measured["within_predicted_interval"] = measured["data"] is not None and low <= measured["data"] <= high
    measured["relative_error"] = None if measured["data"] is None else (measured["data"] - prediction["data"]) / prediction["data"]
    result["measured"] = measured
    full_fit = load_fit(FULL_FIT)
    result["full_fit_recommendation"] = recommend(full_fit, _target_budget(full_fit), threshold=TARGET_THRESHOLD).to_dict()
    law = full_fit.data_law_for(TARGET_THRESHOLD, "all")
    result["grid_best_data"] = [{"utd": point.utd, "data": point.time, "data_interval": list(point.ci)} for point in law.points]
    RESULT.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown_table(result))
    return result


def _measure(fit, table, threshold: float) -> dict:
    """D_J of the table's single config (`rlscale validate`): seed-mean point, bootstrap median and
    5–95% interval, and the fit's prediction at its σ with the resampled laws' interval."""
    [record] = validate_runs(fit, table, threshold, N_BOOTSTRAP, seed=0).configs
    return {
        "threshold": threshold,
        "data": _finite_or_none(record.measured),
        "data_median": _finite_or_none(record.measured_median),
        "data_interval": [_finite_or_none(value) for value in record.measured_interval],
        "resamples_reaching_threshold": record.resamples_reaching,
        "final_normalized_return": record.final_normalized_return,
        "last_env_step": record.last_env_step,
        "seeds": record.seeds,
        "predicted": record.predicted,
        "predicted_interval": [_finite_or_none(value) for value in record.predicted_interval],
    }


def results_table() -> None:
    """Per config of the sweep: seeds, final seed-mean normalized return, and D_J (seed-mean,
    isotonic, first evaluation at or above J; empty when never reached) for every J in THRESHOLDS."""
    table, _ = normalize_returns(validate_table(load_runs(SWEEP_RUNS)))
    curves = build_config_curves(table)
    times = times_to_threshold(curves, np.array(THRESHOLDS), 1, np.random.default_rng(0))
    rows = curves.configs[["utd", "batch_size", "learning_rate"]].copy()
    rows["seeds"] = [returns.shape[0] for returns in curves.returns]
    rows["last_env_step"] = [int(steps[-1]) for steps in curves.steps]
    rows["final_normalized_return"] = np.round(curves.final_mean_return(), 1)
    for index, threshold in enumerate(THRESHOLDS):
        rows[f"D_{threshold:g}"] = np.where(np.isfinite(times.point[:, index]), times.point[:, index], np.nan)
    rows.sort_values(["utd", "batch_size", "learning_rate"]).to_csv(RESULTS_TABLE, index=False, float_format="%.6g")
    print(f"wrote {RESULTS_TABLE} ({len(rows)} configs)")


def markdown_table(result: dict) -> str:
    """Prediction (lower-budget fit) vs measurement vs the full fit, as a Markdown table."""
    prediction, measured, full = result["prediction"], result["measured"], result["full_fit_recommendation"]

    def span(values, spec):
        return "–".join(format(value, spec) if value is not None else "never" for value in values)

    rows = [
        ("UTD σ*", f"{prediction['utd']:.3g} ({span(prediction['utd_interval'], '.3g')})", "(run as predicted)", f"{full['utd']:.3g} ({span(full['utd_interval'], '.3g')})"),
        ("batch size B*", f"{prediction['batch_size']} ({span(prediction['batch_size_interval'], 'd')})", "(run as predicted)", f"{full['batch_size']} ({span(full['batch_size_interval'], 'd')})"),
        ("learning rate η*", f"{prediction['learning_rate']:.3g} ({span(prediction['learning_rate_interval'], '.3g')})", "(run as predicted)", f"{full['learning_rate']:.3g} ({span(full['learning_rate_interval'], '.3g')})"),
        (
            "data D_J (env steps)",
            f"{prediction['data']:.0f} ({span(prediction['data_interval'], '.0f')})",
            f"{_format(measured['data'])} ({span(measured['data_interval'], '.0f')}); every {measured['finer']['eval_interval']} steps: "
            f"{_format(measured['finer']['data'])} ({span(measured['finer']['data_interval'], '.0f')})",
            f"{full['data']:.0f} ({span(full['data_interval'], '.0f')})",
        ),
    ]
    lines = [
        f"Target: J = {result['target_threshold']:g} at budget F*(J) = {prediction['budget']:.3g} FLOPs of the σ ≤ "
        f"{result['max_fitted_utd']:g} fit (held out of its budget law); full fit at its own F*(J) = {full['budget']:.3g}. "
        "Intervals 5–95%.",
        "",
        "| quantity | predicted (fit on σ ≤ %g) | measured (%d seeds) | full fit (all σ) |" % (result["max_fitted_utd"], measured["seeds"]),
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def _target_budget(fit) -> float:
    """F*(TARGET_THRESHOLD): the budget-law point (pooled scope) of the target threshold of a FitResult."""
    for point in fit.budget_law.points:
        if math.isclose(point.threshold, TARGET_THRESHOLD):
            return float(point.budget)
    raise ValueError(f"the fit has no budget point at J={TARGET_THRESHOLD:g}")


def _format(value) -> str:
    return "never" if value is None else f"{value:.0f}"


def _finite_or_none(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def _sweep_settings() -> dict:
    import tomllib

    return tomllib.loads(SWEEP_CONFIG.read_text())


if __name__ == "__main__":
    commands = {"predict": predict, "compare": compare, "table": results_table}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(f"usage: python {Path(__file__).name} {{{'|'.join(commands)}}}", file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]]()
