"""fits/sigma_n_pendulum: the committed grid fit of the (σ, N) study and its held-out check are what
rlscale gives on the committed rows with the study's options (read from its config), so the README's
numbers can be regenerated from the repository alone. The whole refit from the rows takes minutes
(every size's fit, the joint laws and the allocation over 100 bootstrap resamples): it is slow; the
joint laws refitted from the committed D_J(σ, N) points and the held-out check are not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from committed_fits import assert_close

from rlscale.laws import fit_laws
from rlscale.laws.sigma_n_laws import fit_joint_data_laws
from rlscale.laws.validation import validate_runs
from rlscale.run.fit_files import load_fit
from rlscale.run.study_runner import grid_fit_options, read_study
from rlscale.run.tables import load_runs

HERE = Path(__file__).resolve().parents[2] / "fits" / "sigma_n_pendulum"
SIGMA_N_KEYS = (
    "thresholds_sigma_n", "selection_threshold_sigma_n", "model_sizes_sigma_n", "data_points_sigma_n", "data_law_sigma_n",
    "batch_size_law_sigma_n", "learning_rate_law_sigma_n", "allocation_sigma_n",
)
LAW_PARAMETERS = ("c", "a", "alpha", "b", "beta", "rms_log_residual")


def _committed_fit() -> dict:
    return json.loads((HERE / "grid_fit" / "fit.json").read_text())


@pytest.mark.slow
def test_the_joint_laws_are_reproduced_from_the_committed_grid_rows():
    study = read_study(HERE / "studies" / "pendulum.toml")
    fitted = json.loads(json.dumps(fit_laws(load_runs(HERE / "grid" / "evals.parquet"), grid_fit_options(study)).to_dict()))
    committed = _committed_fit()
    assert committed["data_law_sigma_n"] and committed["allocation_sigma_n"]
    for key in SIGMA_N_KEYS:
        assert_close(fitted[key], committed[key], key)


def test_the_joint_laws_are_reproduced_from_their_committed_points():
    laws = sorted((law for law in _committed_fit()["data_law_sigma_n"] if law["scope"] == "pendulum"), key=lambda law: law["threshold"])
    assert len(laws) == 5 and all(law["shared_exponents"] for law in laws)
    sigmas = np.array([point["utd"] for point in laws[0]["points"]])
    sizes = np.array([point["model_size"] for point in laws[0]["points"]])
    times = np.array([[point["value"] for point in law["points"]] for law in laws])
    for law, refit in zip(laws, fit_joint_data_laws(sigmas, sizes, times, shared=True)):
        assert_close([float(getattr(refit, name)) for name in LAW_PARAMETERS], [law[name] for name in LAW_PARAMETERS], f"J={law['threshold']}")


def test_the_held_out_check_is_reproduced_from_the_committed_rows():
    committed = json.loads((HERE / "validation" / "validation.json").read_text())
    validation = validate_runs(load_fit(HERE / "grid_fit"), load_runs(HERE / "holdout" / "evals.parquet"), committed["threshold"])
    assert_close(json.loads(json.dumps(validation.to_dict())), committed, "validation")
    [record] = committed["configs"]
    assert record["data_law"] == "D_J(σ, N)" and record["model_size"] > max(_committed_fit()["model_sizes_sigma_n"])
    assert record["measured_within_predicted"]
