"""fits/dmc_cartpole_bracketed: every committed fit of the study is what the study's own options give on
the committed rows, link by link: the grid's rows (the grid and its extension rounds) → grid_fit (the
laws stage 2 was proposed from) → the stage-2 rows → stage2_fit → the held-out rows → validation; and
the grid with the η = 5e-4 columns run after the study (`grid_eta_below.sh`). So each number of the
README can be regenerated from the repository, without the run directory."""

from __future__ import annotations

import json
from pathlib import Path

from committed_fits import assert_close

from rlscale.laws import FitOptions, fit_laws
from rlscale.laws.validation import validate_runs
from rlscale.run.fit_files import load_fit
from rlscale.run.study_runner import grid_fit_options, read_study
from rlscale.run.tables import load_runs, load_tables

HERE = Path(__file__).resolve().parents[2] / "fits" / "dmc_cartpole_bracketed"
STUDY = read_study(HERE / "studies" / "cartpole_swingup.toml")
GRID_ROWS = [HERE / "grid" / "evals.parquet", *sorted(HERE.glob("grid_round_*/evals.parquet"))]
GRID_LAW_KEYS = ("thresholds", "selection_threshold", "best_hparams", "batch_size_law", "learning_rate_law", "grid_edges", "horizon")
STAGE2_LAW_KEYS = ("thresholds", "data_law", "baseline_data_law", "budget_law", "frontier")


def _committed(*parts: str) -> dict:
    return json.loads(HERE.joinpath(*parts).read_text())


def _json(result) -> dict:
    return json.loads(json.dumps(result.to_dict()))


def _reproduces_grid_fit(fitted: dict, committed: dict, cells_inside: int) -> None:
    """`fitted` has the committed grid fit's laws and edges; the README's claims: `cells_inside` of the
    40 (σ, J) cells inside, both slopes decided (their 90 % intervals exclude 0)."""
    for key in GRID_LAW_KEYS:
        assert_close(fitted[key], committed[key], key)
    assert round(fitted["grid_edges"]["inside_share"] * 40) == cells_inside
    for law in ("batch_size_law", "learning_rate_law"):
        low, high = fitted[law]["alpha_ci"]
        assert low > 0 and high > 0, (law, low, high)


def test_grid_fit_is_reproduced_from_the_grid_rows_with_the_study_options():
    committed = _committed("grid_fit", "fit.json")
    assert committed["n_rows"] == 7500 and len(GRID_ROWS) == 4  # the grid and extension rounds 1-3
    _reproduces_grid_fit(_json(fit_laws(load_tables(GRID_ROWS), grid_fit_options(STUDY))), committed, cells_inside=29)


def test_stage2_fit_is_reproduced_from_the_stage2_rows_and_the_grid_fit():
    committed = _committed("stage2_fit", "fit.json")
    options = STUDY.fit_options(hparam_laws=load_fit(HERE / "grid_fit"))
    fitted = _json(fit_laws(load_runs(HERE / "stage2" / "evals.parquet"), options))
    assert fitted["utds"] == [1.0, 1.5, 2.0, 3.0, 4.0]
    for key in STAGE2_LAW_KEYS:
        assert_close(fitted[key], committed[key], key)


def test_validation_is_reproduced_from_the_holdout_rows_and_the_stage2_fit():
    committed = _committed("validation", "validation.json")
    threshold = _committed("recommendation.json")["threshold"]
    validation = validate_runs(load_fit(HERE / "stage2_fit"), load_runs(HERE / "holdout" / "evals.parquet"), threshold)
    assert_close(_json(validation), committed, "validation")


def test_grid_with_the_eta_columns_run_after_the_study_is_reproduced():
    committed = _committed("grid_eta_below_fit", "fit.json")
    rows = load_tables([*GRID_ROWS, HERE / "grid_eta_below" / "evals.parquet"])
    options = FitOptions(n_bootstrap=100, crossing="interpolated", horizon_cuts=(0.5, 0.75))  # grid_eta_below.sh's
    fitted = _json(fit_laws(rows, options))
    assert fitted["n_rows"] == 7500 + 50 * 20  # 10 configs × 5 seeds × 20 evaluations more
    _reproduces_grid_fit(fitted, committed, cells_inside=32)  # the 80 %
