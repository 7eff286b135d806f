"""fits/dmc_cartpole_bracketed: the committed side-by-side fits of rlscale's own grid (the grid and its
extension rounds) are what `rlscale fit` gives on the committed rows with the options of
`side_by_side.sh`, so the comparison with the authors' grid can be regenerated from the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from committed_fits import assert_close

from rlscale.laws import FitOptions, fit_laws
from rlscale.run.tables import load_runs, load_tables

HERE = Path(__file__).resolve().parents[2] / "fits" / "dmc_cartpole_bracketed"
GRID_ROWS = [HERE / "grid" / "evals.parquet", *sorted(HERE.glob("grid_round_*/evals.parquet"))]
AUTHORS_DMC_SWEEP = Path(__file__).resolve().parents[3] / "shared" / "data" / "dmc_sweep" / "dmc_sweep.csv.gz"
LAW_KEYS = ("thresholds", "selection_threshold", "best_hparams", "batch_size_law", "learning_rate_law", "data_law", "grid_edges")


def _refit(table, committed: dict, crossing: str, running_max: bool) -> dict:
    options = FitOptions(
        thresholds=tuple(committed["thresholds"]), selection_threshold=committed["selection_threshold"],
        n_bootstrap=committed["n_bootstrap"], crossing=crossing, running_max=running_max,
    )
    fitted = json.loads(json.dumps(fit_laws(table, options).to_dict()))
    for key in LAW_KEYS:
        assert_close(fitted[key], committed[key], key)
    return fitted


def _committed(name: str) -> dict:
    return json.loads((HERE / "side_by_side" / name / "fit.json").read_text())


@pytest.mark.parametrize("running_max", [False, True], ids=["rows", "running_max"])
@pytest.mark.parametrize("crossing", ["interpolated", "logged"])
def test_side_by_side_grid_fit_is_reproduced_from_the_committed_rows(crossing, running_max):
    committed = _committed(f"rlscale{'_max' if running_max else ''}_{crossing}")
    assert committed["n_rows"] == 7500 and len(GRID_ROWS) == 4  # the grid and extension rounds 1-3
    fitted = _refit(load_tables(GRID_ROWS), committed, crossing, running_max)
    if not running_max:
        # The README's claim: both slopes are decided (their 90 % intervals exclude 0) by either rule.
        for law in ("batch_size_law", "learning_rate_law"):
            low, high = fitted[law]["alpha_ci"]
            assert low > 0 and high > 0, (law, low, high)


@pytest.mark.parametrize("crossing", ["interpolated", "logged"])
def test_side_by_side_authors_fit_is_reproduced_from_their_rows(crossing):
    if not AUTHORS_DMC_SWEEP.exists():
        pytest.skip(f"the published DMC sweep is not at {AUTHORS_DMC_SWEEP} (it lives in the shared data checkout)")
    table = load_runs(AUTHORS_DMC_SWEEP)
    _refit(table[table["env"] == "cartpole-swingup"], _committed(f"authors_{crossing}"), crossing, running_max=False)
