"""The authors' archive layout (utd_<σ>/<env>/<metric>/bs_<B>_lr_<η>.npy) read by `rlscale fit`,
on small archives the tests write (a directory and a zip, with and without a step column)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from rlscale.laws import FitInputError
from rlscale.cli import main
from rlscale.run.archive import ArchiveOptions, is_archive, read_archive
from rlscale.run.tables import load_runs

# η spelled the ways the authors' file names spell it.
RATES = {"3e-4": 3e-4, "15e-5": 1.5e-4, "0.0012": 1.2e-3}
UTDS = (1, 2, 4)
BATCHES = (64, 256)
N_SEEDS, N_STEPS = 3, 40


def _curve(utd: float, batch: int, rate: float, seed: int) -> np.ndarray:
    """A rising return curve, faster at higher σ and nearer B=256, η=3e-4, shape (N_STEPS,)."""
    speed = utd**0.5 * (1.0 - 0.2 * abs(np.log2(batch / 256)) - 0.2 * abs(np.log2(rate / 3e-4))) * (1.0 + 0.03 * seed)
    return 1000.0 * (1.0 - np.exp(-speed * np.arange(1, N_STEPS + 1) / 8.0))


def _write(root, with_steps: bool, metric: str = "online_returns", top: str = "sweep") -> None:
    for utd in UTDS:
        for batch in BATCHES:
            for text, rate in RATES.items():
                folder = root / top / f"utd_{utd}" / "cartpole-swingup" / metric
                folder.mkdir(parents=True, exist_ok=True)
                returns = np.stack([_curve(utd, batch, rate, seed) for seed in range(N_SEEDS)], axis=1)
                if with_steps:
                    returns = np.column_stack([5000 + 1000 * np.arange(N_STEPS), returns])
                np.save(folder / f"bs_{batch}_lr_{text}.npy", returns)


def test_a_directory_with_a_step_column(tmp_path):
    _write(tmp_path, with_steps=True)
    assert is_archive(tmp_path) and not is_archive(tmp_path / "missing")
    table = read_archive(tmp_path, ArchiveOptions(suite="dmc"))
    assert len(table) == len(UTDS) * len(BATCHES) * len(RATES) * N_SEEDS * N_STEPS
    assert sorted(table["learning_rate"].unique()) == sorted(RATES.values())
    assert sorted(table["utd"].unique()) == [1.0, 2.0, 4.0] and set(table["seed"]) == {0, 1, 2}
    row = table[(table["utd"] == 2.0) & (table["batch_size"] == 64) & (table["learning_rate"] == 1.5e-4) & (table["seed"] == 1)]
    np.testing.assert_array_equal(row["env_step"], 5000 + 1000 * np.arange(N_STEPS))
    np.testing.assert_allclose(row["return"], _curve(2.0, 64, 1.5e-4, 1))


def test_a_zip_without_a_step_column_needs_start_and_frequency(tmp_path):
    _write(tmp_path / "src", with_steps=False)
    archive = tmp_path / "sweep.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for file in (tmp_path / "src").rglob("*.npy"):
            handle.write(file, file.relative_to(tmp_path / "src"))
    with pytest.raises(FitInputError, match="not an increasing env-step column"):
        read_archive(archive)
    table = load_runs(archive, ArchiveOptions(step_start=5000, step_every=1000, suite="dmc"))
    assert table["env_step"].min() == 5000 and table["env_step"].max() == 5000 + 1000 * (N_STEPS - 1)
    assert len(table) == len(UTDS) * len(BATCHES) * len(RATES) * N_SEEDS * N_STEPS


def test_nan_entries_are_left_out_and_metrics_are_chosen(tmp_path):
    _write(tmp_path, with_steps=True)
    _write(tmp_path, with_steps=True, metric="episode.return")
    path = tmp_path / "sweep" / "utd_1" / "cartpole-swingup" / "online_returns" / "bs_64_lr_3e-4.npy"
    values = np.load(path)
    values[30:, 2] = np.nan
    np.save(path, values)
    with pytest.raises(FitInputError, match="several metrics"):
        read_archive(tmp_path)
    with pytest.raises(FitInputError, match="no metric 'returns'"):
        read_archive(tmp_path, ArchiveOptions(metric="returns"))
    table = read_archive(tmp_path, ArchiveOptions(metric="online_returns"))
    assert len(table) == len(UTDS) * len(BATCHES) * len(RATES) * N_SEEDS * N_STEPS - (N_STEPS - 30)
    with pytest.raises(FitInputError, match="give both"):
        ArchiveOptions(step_start=5000)


def test_rlscale_fit_reads_the_archive(tmp_path, capsys):
    _write(tmp_path / "archive", with_steps=False)
    arguments = [
        "fit", str(tmp_path / "archive"), "--out", str(tmp_path / "fit"), "--archive-step-start", "5000",
        "--archive-step-every", "1000", "--archive-suite", "dmc", "--thresholds", "500", "700", "800", "900",
        "--bootstrap", "5",
    ]
    assert main(arguments) == 0, capsys.readouterr().err
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["envs"] == ["cartpole-swingup"] and fit["utds"] == [1.0, 2.0, 4.0] and fit["n_configs"] == 18
    # η*(σ): the curves are fastest at η = 3e-4 at every σ.
    assert all(point["value"] == pytest.approx(3e-4) for point in fit["learning_rate_law"]["points"])
