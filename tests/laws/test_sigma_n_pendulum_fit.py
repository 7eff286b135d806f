"""fits/sigma_n_pendulum: the committed grid fit of the (σ, N) study and its held-out check are what
rlscale gives on the committed rows with the study's options (read from its config), so the README's
numbers can be regenerated from the repository alone."""

from __future__ import annotations

import json
from pathlib import Path

from committed_fits import assert_close

from rlscale.laws import fit_laws
from rlscale.laws.validation import validate_runs
from rlscale.run.fitting import load_fit
from rlscale.run.study_command import grid_fit_options, read_study
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parents[2] / "fits" / "sigma_n_pendulum"
SIGMA_N_KEYS = (
    "thresholds_sigma_n", "selection_threshold_sigma_n", "model_sizes_sigma_n", "data_points_sigma_n", "data_law_sigma_n",
    "batch_size_law_sigma_n", "learning_rate_law_sigma_n", "allocation_sigma_n",
)


def test_the_joint_laws_are_reproduced_from_the_committed_grid_rows():
    study = read_study(HERE / "studies" / "pendulum.toml")
    fitted = json.loads(json.dumps(fit_laws(load_runs(HERE / "grid" / "evals.parquet"), grid_fit_options(study)).to_dict()))
    committed = json.loads((HERE / "grid_fit" / "fit.json").read_text())
    assert committed["data_law_sigma_n"] and committed["allocation_sigma_n"]
    for key in SIGMA_N_KEYS:
        assert_close(fitted[key], committed[key], key)


def test_the_held_out_check_is_reproduced_from_the_committed_rows():
    committed = json.loads((HERE / "validation" / "validation.json").read_text())
    validation = validate_runs(load_fit(HERE / "grid_fit"), load_runs(HERE / "holdout" / "evals.parquet"), committed["threshold"])
    assert_close(json.loads(json.dumps(validation.to_dict())), committed, "validation")
    [record] = committed["configs"]
    trained = json.loads((HERE / "grid_fit" / "fit.json").read_text())["model_sizes_sigma_n"]
    assert record["data_law"] == "D_J(σ, N)" and record["model_size"] > max(trained)
