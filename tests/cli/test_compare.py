"""`rlscale compare`: fits side by side. The decision rules on hand-made intervals; synthetic grids
drawn from known laws (the same laws agree, a law with another slope does not); the committed
cartpole-swingup fits through the command line; and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlscale.laws import FitOptions, fit_laws
from rlscale.laws.comparison import Slope, comparison_markdown, option_differences, slope_summary
from rlscale.laws.synthetic import SyntheticLaws, synthetic_sweep

CARTPOLE = Path(__file__).resolve().parents[2] / "fits" / "dmc_cartpole"
OURS = CARTPOLE / "side_by_side" / "rlscale_grid"
AUTHORS = CARTPOLE / "side_by_side" / "authors"


def _rlscale(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rlscale.cli", "compare", *args], capture_output=True, text=True, timeout=120)


def test_a_slope_is_decided_when_its_interval_excludes_zero_or_is_narrow():
    assert Slope(-0.3, -0.5, -0.1).decided and Slope(-0.3, -0.5, -0.1).excludes_zero
    assert Slope(0.02, -0.1, 0.12).decided and not Slope(0.02, -0.1, 0.12).excludes_zero
    assert not Slope(0.0, -0.66, 0.66).decided
    assert not Slope(0.0, -0.15, 0.15).decided
    assert Slope(-0.3, -0.5, -0.1).overlaps(Slope(0.0, -0.1, 0.2))
    assert not Slope(-0.3, -0.5, -0.11).overlaps(Slope(0.0, -0.1, 0.2))


@pytest.fixture(scope="module")
def synthetic_fits():
    """Grid fits of three synthetic sweeps of one env: two drawn from the same laws (other noise
    seeds), one whose B*(σ) falls twice as steeply."""
    options = FitOptions(n_bootstrap=20)
    sweep = dict(
        utds=(1.0, 2.0, 4.0, 8.0), batch_sizes=(64, 128, 256, 512, 1024), learning_rates=(1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3),
        n_seeds=4, n_evals=80,
    )
    base = SyntheticLaws(
        batch_beta={"env-a": 512.0**2}, learning_rate_beta={"env-a": 8e-4 ** (1 / 0.3)}, tau_d_min={"env-a": 20_000.0},
        tau_beta={"env-a": 40.0}, tau_scale={"env-a": 10_000.0},
    )
    steeper = SyntheticLaws(**{**base.__dict__, "batch_alpha": 1.0, "batch_beta": {"env-a": 1024.0}})
    return {
        label: fit_laws(synthetic_sweep(laws, seed=seed, **sweep), options).to_dict()
        for label, laws, seed in (("first", base, 1), ("second", base, 2), ("steeper", steeper, 3))
    }


def test_fits_of_the_same_laws_agree_and_a_steeper_law_does_not(synthetic_fits):
    fits = json.loads(json.dumps(synthetic_fits))
    summary = slope_summary(fits)
    batch = summary["batch_size_law"]
    assert batch["first"]["decided"] and batch["second"]["decided"] and batch["steeper"]["decided"]
    assert batch["first"]["value"] == pytest.approx(-0.5, abs=0.15)
    assert batch["steeper"]["value"] == pytest.approx(-1.0, abs=0.2)
    agreement = summary["agreement"]["batch_size_law"]
    assert agreement == {"first vs second": True, "first vs steeper": False, "second vs steeper": False}
    assert summary["agreement"]["learning_rate_law"]["first vs second"]
    assert option_differences(fits) == []
    report = comparison_markdown(fits, {label: f"{label}/fit.json" for label in fits}, "synthetic")
    assert "The fits share their options." in report
    assert "| first | " in report and "(smallest) |" in report
    assert "first vs steeper: no" in report and "first vs second: yes" in report


def test_committed_cartpole_fits_side_by_side(tmp_path):
    """The committed study grid fit against the authors' rows of the same env: the slopes and
    their agreement are those of the fit.json files; the report is written where asked."""
    result = _rlscale(str(OURS), str(AUTHORS), "--label", "ours", "--label", "authors", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("batch_size_law", "learning_rate_law"):
        for label, path in (("ours", OURS), ("authors", AUTHORS)):
            law = json.loads((path / "fit.json").read_text())[key]
            assert summary["slopes"][key][label]["value"] == pytest.approx(-law["alpha"])
            assert summary["slopes"][key][label]["low"] == pytest.approx(-law["alpha_ci"][1])
    assert not summary["slopes"]["batch_size_law"]["ours"]["decided"]
    assert summary["slopes"]["learning_rate_law"]["authors"]["decided"]
    assert summary["slopes"]["agreement"]["learning_rate_law"] == {"ours vs authors": False}
    assert summary["option_differences"] == []

    out = tmp_path / "side_by_side.md"
    result = _rlscale(str(OURS / "fit.json"), str(AUTHORS), "--out", str(out), "--title", "cartpole")
    assert result.returncode == 0, result.stderr
    report = out.read_text()
    assert report.startswith("# cartpole\n")
    assert "| rlscale_grid | 16 | 6% | 1 | 2 / 4 | 1 / 14 | 5% / 3% (smallest) |" in report
    assert "rlscale_grid vs authors: no" in report


def test_differing_options_are_named(tmp_path):
    authors = json.loads((AUTHORS / "fit.json").read_text())
    changed = tmp_path / "changed"
    changed.mkdir()
    edges = {**authors["grid_edges"], "inside_tied_with_edge": 3}
    (changed / "fit.json").write_text(json.dumps({**authors, "selection_threshold": 800.0, "crossing": "interpolated", "grid_edges": edges}))
    result = _rlscale(str(OURS), str(changed))
    assert result.returncode == 0, result.stderr
    assert "**Not compared on equal terms:** selection_threshold differs: rlscale_grid 700.0; changed 800.0" in result.stdout
    assert "crossing differs: rlscale_grid logged; changed interpolated" in result.stdout
    assert f"| changed | {len(edges['cells'])} | {edges['inside_share']:.0%} | 3 |" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        ([str(OURS)], "compare needs at least two FITs, got 1"),
        ([str(OURS), str(AUTHORS), "--label", "a"], "--label given 1 times for 2 FITs"),
        ([str(OURS), str(OURS)], "labels must differ"),
        ([str(OURS), "no/such/fit.json"], "no such file: no/such/fit.json"),
        ([str(OURS), str(CARTPOLE / "recommendation.json")], "is not a fit.json written by `rlscale fit`"),
    ],
)
def test_bad_input_gets_one_message(args, message):
    result = _rlscale(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
