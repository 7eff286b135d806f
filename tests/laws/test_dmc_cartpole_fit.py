"""fits/dmc_cartpole: the committed fits are what `rlscale fit` gives on the committed rows (the
study's grid and stage-2 evaluations), so the side-by-side table can be regenerated from the
repository alone."""

from __future__ import annotations

import json
from pathlib import Path

from committed_fits import assert_close

from rlscale.laws import FitOptions, fit_laws
from rlscale.run.fit_files import load_fit
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parents[2] / "fits" / "dmc_cartpole"
SIDE_BY_SIDE_THRESHOLDS = (300.0, 400.0, 500.0, 600.0, 700.0, 800.0)
SELECTION_THRESHOLD = 700.0


def _committed(path: Path) -> dict:
    return json.loads(path.read_text())


def _same_laws(fitted: dict, committed: dict) -> None:
    """The fit is deterministic (seeded bootstrap): every law is the committed one, to rounding."""
    assert committed["data_law"] and committed["best_hparams"]
    for key in ("thresholds", "selection_threshold", "best_hparams", "batch_size_law", "learning_rate_law", "data_law"):
        assert_close(fitted[key], committed[key], key)


def test_grid_fit_of_the_side_by_side_is_reproduced_from_the_committed_rows():
    fitted = fit_laws(
        load_runs(HERE / "grid" / "evals.parquet"),
        FitOptions(thresholds=SIDE_BY_SIDE_THRESHOLDS, selection_threshold=SELECTION_THRESHOLD),
    ).to_dict()
    _same_laws(json.loads(json.dumps(fitted)), _committed(HERE / "side_by_side" / "rlscale_grid" / "fit.json"))


def test_stage2_fit_is_reproduced_from_the_committed_rows_and_grid_fit():
    grid_fit = load_fit(HERE / "grid_fit")
    committed = _committed(HERE / "stage2_fit" / "fit.json")
    fitted = fit_laws(
        load_runs(HERE / "stage2" / "evals.parquet"),
        FitOptions(
            thresholds=tuple(committed["thresholds"]), hparam_laws=grid_fit,
            baseline_utd=committed["baseline"][0]["utd"] if committed["baseline"] else None,
        ),
    ).to_dict()
    _same_laws(json.loads(json.dumps(fitted)), committed)
