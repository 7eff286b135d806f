"""The measurement scripts under fits/: each imports (a renamed helper must not break one silently),
and the noise measurement they share recovers known noise from synthetic runs."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FITS = Path(__file__).resolve().parents[2] / "fits"
SCRIPTS = sorted(FITS.glob("*/*.py"))
BRACKETED = FITS / "dmc_cartpole_bracketed"


def _import(path: Path):
    sys.path.insert(0, str(path.parent))
    try:
        return importlib.import_module(path.stem)
    finally:
        sys.path.remove(str(path.parent))


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(path.relative_to(FITS)) for path in SCRIPTS])
def test_every_script_imports(script):
    _import(script)


def _straight_runs(noise_std_at: dict[float, float], rng: np.random.Generator) -> pd.DataFrame:
    """Runs whose returns climb linearly from 100 to 850 over 200 evaluations, plus independent
    Gaussian noise of the given std per learning rate."""
    steps = np.arange(200) * 250
    frames = []
    for rate, std in noise_std_at.items():
        for seed in range(20):
            frames.append(pd.DataFrame({
                "utd": 1.0, "batch_size": 64, "learning_rate": rate, "seed": seed, "env_step": steps,
                "return": np.linspace(100.0, 850.0, len(steps)) + rng.normal(0.0, std, len(steps)),
            }))
    return pd.concat(frames, ignore_index=True)


def test_evaluation_noise_recovers_a_known_std_and_its_growth_with_the_learning_rate():
    measurements = _import(BRACKETED / "measurements.py")
    rng = np.random.default_rng(0)
    exponent = 0.4  # std ∝ η^0.4: ×2^0.4 = ×1.32 per doubling
    runs = _straight_runs({rate: 50.0 * (rate / 1e-3) ** exponent for rate in (1e-3, 2e-3, 4e-3)}, rng)
    noise = measurements.EvaluationNoise.measure(runs)
    # Pooled over the three rates, the std is their root mean square.
    pooled = np.sqrt(np.mean([(50.0 * 2.0 ** (exponent * doublings)) ** 2 for doublings in (0, 1, 2)]))
    measured = noise.std[1:5]  # the bins the curve crosses from 200 to 800
    np.testing.assert_allclose(measured, pooled, rtol=0.1)
    np.testing.assert_allclose(noise.growth_per_doubling[1:5], 2.0**exponent, rtol=0.05)
    # Sampling returns draws of that size, scaled back up and down around the middle rate.
    draws = noise.sample(np.full(30000, 500.0), np.repeat([1e-3, 4e-3], 15000), rng, grow_with_rate=True)
    assert np.std(draws[15000:]) / np.std(draws[:15000]) == pytest.approx(4.0**exponent, rel=0.1)


def test_our_spacing_keeps_the_authors_first_evaluation_after_each_of_our_intervals():
    degrade = _import(BRACKETED / "authors_toward_ours.py")
    table = pd.DataFrame({"env_step": np.arange(5000, 30001, 1000)})
    assert degrade.our_spacing(table, None)["env_step"].tolist() == [5000, 8000, 10000, 13000, 15000, 18000, 20000, 23000, 25000, 28000, 30000]


def test_rebuild_refuses_committed_rows_that_are_not_the_sweep_asked_for():
    rebuild = _import(BRACKETED / "rebuild_run_directory.py")
    from rlscale.config import SweepConfig
    from rlscale.run.study_runner import read_study

    grid = SweepConfig.from_dict(read_study(rebuild.STUDY_FILE).grid)
    rows = pd.read_parquet(BRACKETED / "grid" / "evals.parquet")
    rebuild._check_runs(grid, rows, Path("grid"))
    with pytest.raises(SystemExit, match="not the sweep the study asks for"):
        rebuild._check_runs(grid, rows[rows["seed"] != 4], Path("grid"))
    with pytest.raises(SystemExit, match="stop before 50000 env steps"):
        rebuild._check_runs(grid, rows[rows["env_step"] < 50000], Path("grid"))


@pytest.mark.slow
def test_rebuilt_run_directory_replays_the_extension_rounds_as_first_decided(tmp_path, monkeypatch):
    rebuild = _import(BRACKETED / "rebuild_run_directory.py")
    out = tmp_path / "study"
    monkeypatch.setattr(sys, "argv", ["rebuild_run_directory.py", str(out)])
    rebuild.main()
    state = json.loads((out / "study_state.json").read_text())
    assert [(item["directory"], item["runs"], item["done"]) for item in state["grid_rounds"]] == [
        ("grid_round_1", 70, True), ("grid_round_2", 45, True)
    ]
    assert state["grid_extension_stop"]["reason"] == "max_rounds = 2 reached"
    assert state["stages"]["grid_sweep"]["done"] and state["stages"]["grid_extend"]["done"]
