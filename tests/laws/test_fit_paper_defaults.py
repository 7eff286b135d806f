"""Every fitting default is the paper's (its code, qscaled) unless README's "Defaults and the paper" says
why not, the alternatives stay reachable as options, `rlscale fit` flags and STUDY [fit] keys, and
fit.json records and names the choices. The thresholds, the reset filter, the unreached (env, σ)
votes and the data law's least squares are pinned where their rules are tested (test_recovery.py,
test_resets.py, test_grid_qscaled.py, test_pooling.py); here the σ range of σ*(J) and the option
plumbing."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from rlscale.laws import FitInputError, FitOptions, ResetSchedule, fit_laws
from rlscale.laws.options import OPTION_ALIASES as FIT_OPTION_NAMES
from rlscale.study import FIT_KEYS, StudyConfig, StudyError


def test_fit_options_default_to_the_papers_choices():
    options = FitOptions()
    assert options.data_law_loss == "linear"  # qscaled utils/power_law.py: mean squared error of D itself
    assert options.sigma_grid_extension == 1.0  # qscaled make_smooth_x_range: [min σ, max σ] of the runs
    assert options.unreached_cells == "smallest"  # qscaled bootstrapping.py: argmin over all-inf times
    assert options.tied_votes == "smallest"  # qscaled bootstrapping.py: argmin, the first of tied times
    assert options.crossing == "logged"  # qscaled: the first logged step of the isotonic curve at or above J
    assert not options.running_max  # qscaled: the returns as logged (the DMC sweep is shipped as running maxima)
    assert options.n_default_thresholds == 10  # qscaled experiments/2_fitted: logspace(…, 10)
    assert (options.resets.window, options.resets.at_reset_step) == (1, "after")  # dmc_explore.ipynb: window=1
    assert options.resets == ResetSchedule()


def test_budget_optima_are_searched_over_the_runs_sigma_range(small_sweep):
    result = fit_laws(small_sweep, FitOptions(n_bootstrap=2))
    low, high = min(result.utds), max(result.utds)
    for curve in result.frontier:
        assert (curve.sigma[0], curve.sigma[-1]) == pytest.approx((low, high))
    assert all(low <= point.sigma <= high for point in result.budget_law.points)
    assert any(f"the runs' σ range [{low:g}, {high:g}]" in note for note in result.notes)
    widened = fit_laws(small_sweep, FitOptions(n_bootstrap=2, sigma_grid_extension=2.0))
    assert (widened.frontier[0].sigma[0], widened.frontier[0].sigma[-1]) == pytest.approx((low / 2, high * 2))
    assert any("widened ×2" in note for note in widened.notes)


def test_budget_grid_points_of_qscaled_put_sigma_star_on_its_grid(small_sweep):
    result = fit_laws(small_sweep, FitOptions(n_bootstrap=2, budget_grid_points=100))
    qscaled_grid = np.logspace(np.log10(min(result.utds)), np.log10(max(result.utds)), 100)
    for point in result.budget_law.points:
        assert np.min(np.abs(qscaled_grid / point.sigma - 1)) < 1e-12
    assert result.budget_grid_points == 100
    with pytest.raises(FitInputError, match="budget_grid_points and sigma_grid_points must be at least 2"):
        FitOptions(budget_grid_points=1)


def test_every_study_fit_key_is_a_fit_option():
    fields = {field.name for field in dataclasses.fields(FitOptions)}
    assert {FIT_OPTION_NAMES.get(key, key) for key in FIT_KEYS} <= fields
    assert {"unreached_cells", "tied_votes", "crossing", "running_max", "n_thresholds", "lowest_threshold", "sigma_grid_extension", "budget_grid_points"} <= set(FIT_KEYS)


def test_a_stage2_fit_names_times_to_threshold_measured_otherwise_than_its_grid_fits(small_sweep):
    grid = fit_laws(small_sweep, FitOptions(n_bootstrap=2))
    same = fit_laws(small_sweep, FitOptions(n_bootstrap=2, hparam_laws=grid))
    other = fit_laws(small_sweep, FitOptions(n_bootstrap=2, hparam_laws=grid, crossing="interpolated", running_max=True))
    assert not any("other times to threshold" in note for note in same.notes)
    assert any(
        "other times to threshold (crossing='logged' there, 'interpolated' here; running_max=False there, True here)" in note
        for note in other.notes
    )


def test_study_fit_table_sets_the_crossing_rule():
    grid = {"env": "pendulum", "utd": [1.0, 2.0], "batch_size": [16], "learning_rate": [1e-3], "seeds": [0, 1]}
    stage2 = {"utd": [1.0, 2.0], "seeds": [0, 1]}
    study = StudyConfig.from_dict({"grid": grid, "stage2": stage2, "fit": {"crossing": "interpolated"}})
    assert study.fit_options().crossing == "interpolated"
    with pytest.raises(StudyError) as error:
        StudyConfig.from_dict({"grid": grid, "stage2": stage2, "fit": {"crossing": "midpoint"}})
    assert error.value.errors == ["[fit] crossing must be one of logged, interpolated, got 'midpoint'"]


def _fit(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rlscale.cli", "fit", "runs.csv", "--bootstrap", "2", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


def test_fit_command_defaults_flags_and_fit_json(tmp_path, small_sweep):
    small_sweep[small_sweep["env"] == "env-a"].to_csv(tmp_path / "runs.csv", index=False)
    result = _fit("--out", "paper", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    paper = json.loads((tmp_path / "paper" / "fit.json").read_text())
    assert (paper["data_law_loss"], paper["unreached_cells"], paper["sigma_grid_extension"]) == ("linear", "smallest", 1.0)
    assert paper["crossing"] == "logged" and not any("crossing=" in note for note in paper["notes"])
    assert not paper["running_max"] and not any("running maximum" in note for note in paper["notes"])
    assert paper["tied_votes"] == "smallest" and {ties["hyperparameter"] for ties in paper["vote_ties"]} == {"batch_size", "learning_rate"}
    assert (paper["resets"]["window"], paper["resets"]["at_reset_step"], len(paper["thresholds"])) == (1, "after", 10)
    assert any("the paper's (qscaled's fit_powerlaw)" in note for note in paper["notes"])

    result = _fit(
        "--out", "other", "--data-law-loss", "log", "--unreached-cells", "drop", "--sigma-grid-extension", "2",
        "--budget-grid-points", "100", "--reset-window", "0", "--reset-at-step", "before", "--n-thresholds", "4",
        "--lowest-threshold", "500", "--tied-votes", "split", "--crossing", "interpolated", "--running-max", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    other = json.loads((tmp_path / "other" / "fit.json").read_text())
    assert (other["data_law_loss"], other["unreached_cells"], other["sigma_grid_extension"], other["budget_grid_points"]) == (
        "log", "drop", 2.0, 100
    )
    assert (other["resets"]["window"], other["resets"]["at_reset_step"], other["tied_votes"]) == (0, "before", "split")
    assert other["crossing"] == "interpolated" and any("crossing='interpolated'" in note for note in other["notes"])
    assert other["running_max"] and any("running maximum" in note for note in other["notes"])
    np.testing.assert_allclose(other["thresholds"], 1000 - np.geomspace(500, 200, 4), atol=1e-6)
    assert any("least squares on log D" in note for note in other["notes"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--sigma-grid-extension", "0.5"), "sigma_grid_extension must be >= 1, got 0.5"),
        (("--lowest-threshold", "1000"), "lowest_threshold must be in (0, 1000), got 1000.0"),
        (("--n-thresholds", "0"), "n_default_thresholds must be at least 1, got 0"),
        (("--reset-window", "-1"), "reset window must be >= 0 evaluations, got -1"),
    ],
)
def test_bad_fit_option_is_one_message(tmp_path, small_sweep, arguments, message):
    small_sweep.iloc[:2000].to_csv(tmp_path / "runs.csv", index=False)
    result = _fit("--out", "out", *arguments, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
