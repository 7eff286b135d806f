"""The grid-edge report and the self-extending grid: unit cases with hand-made times, the extension loop
on a synthetic sweep whose optimum starts outside the grid, and on the authors' DMC sweep started from a
corner of its grid."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rlscale.laws import FitOptions, fit_laws
from rlscale.laws.crossings import ThresholdTimes
from rlscale.laws.grid_edges import (
    AxisExtension,
    DeferredAddition,
    ExtensionConfig,
    GridExtension,
    GridLimits,
    compact,
    describe,
    describe_unmade,
    edge_report,
    propose_extension,
    within_budget,
)
from rlscale.laws.synthetic import SyntheticLaws, synthetic_runs
from rlscale.run.tables import load_runs

DMC_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "dmc_sweep" / "dmc_sweep.csv.gz"
CONFIG_COLUMNS = ["env", "utd", "batch_size", "learning_rate"]
FASTEST_TOLERANCE = 1.15
"""The extended corner's fastest time to J per σ, at most this many times the full grid's (measured: 1.00–1.12)."""


def _report(rows: list[tuple], times: list[list[float]], thresholds=(500.0,)):
    """An edge report of configs `rows` (env, σ, B, η) with point times `times` (C, J)."""
    configs = pd.DataFrame(rows, columns=CONFIG_COLUMNS)
    point = np.array(times, dtype=float)
    return edge_report(configs, ThresholdTimes(np.array(thresholds), point, point[None])), configs


def test_edges_of_the_fastest_config():
    rows = [("e", 1.0, b, lr) for b in (32, 64, 128) for lr in (1e-4, 3e-4, 1e-3)]
    # Fastest: B 32 (low edge), η 3e-4 (inside) at J=500; B 64, η 1e-3 (inside, high edge) at J=700.
    times = [[10, 90], [5, 90], [20, 90], [30, 90], [40, 90], [50, 8], [60, 90], [70, 90], [80, 90]]
    report, _ = _report(rows, times, thresholds=(500.0, 700.0))
    first, second = report.cells
    assert (first.batch_size, first.learning_rate, first.batch_size_edge, first.learning_rate_edge) == (32, 3e-4, "low", None)
    assert (second.batch_size, second.learning_rate, second.batch_size_edge, second.learning_rate_edge) == (64, 1e-3, None, "high")
    assert not first.inside and not second.inside
    assert report.inside_share == 0.0
    assert report.edge_counts == {"batch_size": {"low": 1, "high": 0, "only": 0}, "learning_rate": {"low": 0, "high": 1, "only": 0}}
    assert report.to_dict()["cells"][0]["inside"] is False


def test_ties_put_a_cell_on_an_edge_only_when_every_tied_config_is_there():
    rows = [("e", 1.0, b, 1e-3) for b in (32, 64, 128)] + [("e", 1.0, b, 3e-3) for b in (32, 64, 128)]
    # B 32 and B 64 tie (the same logged step): not on the B edge; η 3e-3 for both: on the η edge.
    report, _ = _report(rows, [[20], [20], [30], [10], [10], [40]])
    (cell,) = report.cells
    assert cell.batch_size == 32 and cell.learning_rate == 3e-3
    assert cell.batch_size_edge is None and cell.learning_rate_edge == "high"
    assert cell.tied_with_edge and report.inside_tied_with_edge == 0
    # Every config tied on the low B edge of its row: on the edge.
    report, _ = _report(rows, [[10], [20], [30], [10], [20], [40]])
    assert report.cells[0].batch_size_edge == "low" and report.cells[0].learning_rate_edge is None
    # B 32 (its row's low edge) ties with B 64 (inside) at the middle η: the tied configs disagree on
    # the B edge, so the cell counts inside, but only by the tie.
    rows = [("e", 1.0, b, r) for r in (1e-3, 2e-3, 3e-3) for b in (32, 64, 128)]
    report, _ = _report(rows, [[40], [40], [40], [10], [10], [40], [40], [40], [40]])
    (cell,) = report.cells
    assert cell.inside and cell.tied_with_edge and report.inside_tied_with_edge == 1
    assert "(1 of them only because configs tied for fastest, some on an edge, disagree on it)" in report.summary()
    assert report.to_dict()["inside_tied_with_edge"] == 1
    # The fastest config alone and inside: no flag, no parenthesis.
    report, _ = _report(rows, [[40], [40], [40], [20], [10], [40], [40], [40], [40]])
    assert report.cells[0].inside and not report.cells[0].tied_with_edge and "only because" not in report.summary()


def test_a_single_value_and_unreached_cells():
    rows = [("e", 1.0, 64, 1e-3), ("e", 1.0, 64, 3e-3), ("e", 2.0, 64, 1e-3), ("e", 2.0, 64, 3e-3)]
    report, _ = _report(rows, [[10, np.inf], [20, np.inf], [np.inf, np.inf], [np.inf, np.inf]], thresholds=(300.0, 900.0))
    (cell,) = report.cells  # σ=2 reaches nothing and σ=1 not J=900: no cell
    assert (cell.utd, cell.threshold, cell.batch_size_edge, cell.learning_rate_edge) == (1.0, 300.0, "only", "low")


def test_extension_keeps_the_grids_spacing_completes_the_rectangle_and_respects_limits():
    rows = [("e", s, b, lr) for s in (1.0, 4.0) for b in (32, 64) for lr in (1e-4, 2e-4, 4e-4)]
    # σ=1: fastest at B 64 (high edge), η 4e-4 (high edge); σ=4: fastest at B 32 (low), η 2e-4 (inside).
    times = [[9], [8], [7], [6], [5], [1]] + [[1], [0.5], [3], [4], [5], [6]]
    report, configs = _report(rows, times)
    extension = propose_extension(report, configs, GridLimits(batch_size_range=(32, 4096)))
    added = {(item.utd, item.axis, item.edge): (item.value, item.added) for item in extension.axes}
    assert added == {
        (1.0, "batch_size", "high"): (128.0, True),
        (1.0, "learning_rate", "high"): (8e-4, True),
        (4.0, "batch_size", "low"): (16.0, False),  # below the limit of 32: refused
    }
    new = {(config.utd, config.batch_size, config.learning_rate) for config in extension.configs}
    # σ=1: B 128 × every η, and η 8e-4 × every B (the rectangle's missing corner included).
    assert new == {(1.0, 128, lr) for lr in (1e-4, 2e-4, 4e-4, 8e-4)} | {(1.0, b, 8e-4) for b in (32, 64)}
    assert extension.status == "extend"


def test_extension_of_a_single_value_uses_the_default_factor_and_stops_when_bracketed():
    rows = [("e", 1.0, 64, lr) for lr in (1e-3, 3e-3, 9e-3)]
    report, configs = _report(rows, [[5], [3], [4]])
    extension = propose_extension(report, configs, GridLimits())
    # η inside; B is the only value, so both sides are added at the default factor 2.
    assert sorted((item.axis, item.edge, item.value) for item in extension.axes) == [
        ("batch_size", "high", 128.0), ("batch_size", "low", 32.0)
    ]
    rows = [("e", 1.0, b, lr) for b in (32, 64, 128) for lr in (1e-3, 3e-3, 9e-3)]
    report, configs = _report(rows, [[9], [9], [9], [9], [1], [9], [9], [9], [9]])
    assert report.bracketed
    assert propose_extension(report, configs).status == "bracketed"


def test_a_round_over_the_budget_keeps_the_sigma_most_often_on_an_edge_first():
    axes = (
        AxisExtension("e", 1.0, "batch_size", "high", 256.0, 0.4, True),
        AxisExtension("e", 2.0, "batch_size", "high", 256.0, 0.8, True),
        AxisExtension("e", 2.0, "learning_rate", "low", 5e-4, 0.3, True),
        AxisExtension("e", 4.0, "learning_rate", "high", 0.02, 0.6, False),
        AxisExtension("e", 8.0, "learning_rate", "low", 5e-4, 0.4, True),
    )
    configs = (
        *(ExtensionConfig("e", 1.0, 256, rate) for rate in (1e-3, 2e-3)),
        *(ExtensionConfig("e", 2.0, batch, rate) for batch in (64, 128, 256) for rate in (5e-4, 1e-3)),
        *(ExtensionConfig("e", 8.0, batch, 5e-4) for batch in (64, 128)),
    )
    extension = GridExtension("extend", axes=axes, configs=configs, inside_share=0.5)
    assert within_budget(extension, len(configs)) is extension
    # σ = 2 (80 % of its cells on an edge) first; σ = 1 and σ = 8 share 40 %: the smaller σ next; σ = 8 does not fit.
    cut = within_budget(extension, 9)
    assert cut.status == "extend" and {config.utd for config in cut.configs} == {1.0, 2.0} and len(cut.configs) == 8
    assert cut.deferred == (DeferredAddition("e", 8.0, 2),)
    assert {(item.utd, item.added) for item in cut.axes} == {(1.0, True), (2.0, True), (4.0, False)}
    assert "σ=8: deferred by the budget cap" in compact(cut)
    assert "env 'e' σ=8: deferred by the budget cap (its 2 new config(s) do not fit the runs left)" in describe(cut)
    # The extension's lines keep the values added and refused in the order decided: σ after σ.
    assert [line.split(":")[0].split()[-1] for line in describe(extension)[:5]] == ["σ=1", "σ=2", "σ=2", "σ=4", "σ=8"]
    # What the study report lists under "Stopped": the value refused by the limits and the deferred σ, nothing added.
    unmade = describe_unmade(cut)
    assert len(unmade) == 2 and unmade[0].startswith("env 'e' σ=4: not added") and unmade[1].startswith("env 'e' σ=8: deferred")
    # A σ further down the order still fills the room a bigger one leaves.
    cut = within_budget(extension, 5)
    assert {config.utd for config in cut.configs} == {1.0, 8.0} and {item.utd for item in cut.deferred} == {2.0}
    cut = within_budget(extension, 1)
    assert cut.status == "budget" and not cut.configs and len(cut.deferred) == 3
    assert GridExtension.from_dict(cut.to_dict()) == cut


def test_only_value_extends_both_sides():
    rows = [("e", 1.0, 64, 1e-3)]
    report, configs = _report(rows, [[5]])
    extension = propose_extension(report, configs, GridLimits(learning_rate_factor=2.0))
    values = sorted((item.axis, item.value) for item in extension.axes)
    assert values == [("batch_size", 32.0), ("batch_size", 128.0), ("learning_rate", 5e-4), ("learning_rate", 2e-3)]
    assert len(extension.configs) == 3 * 3 - 1


def test_limits_are_checked():
    assert GridLimits().errors() == []
    errors = GridLimits(edge_share=1.5, batch_size_factor=1.0, batch_size_range=(0, 8), learning_rate_range=(1e-3, 1e-4)).errors()
    assert len(errors) == 4
    with pytest.raises(ValueError, match="edge_share"):
        propose_extension(*_report([("e", 1.0, 64, 1e-3)], [[5]]), GridLimits(edge_share=2.0))


def _loop(table_of, start: pd.DataFrame, options: FitOptions, limits: GridLimits, max_rounds: int):
    """Run the extension loop with `table_of(configs) -> rows` as the trainer; the final table, fit,
    and the statuses of every round."""
    configs = start
    table = table_of(configs)
    statuses = []
    for _ in range(max_rounds):
        fit = fit_laws(table, options)
        extension = propose_extension(fit.grid_edges, configs, limits)
        statuses.append(extension.status)
        if extension.status != "extend":
            return table, fit, statuses
        new = pd.DataFrame([(c.env, c.utd, c.batch_size, c.learning_rate) for c in extension.configs], columns=CONFIG_COLUMNS)
        configs = pd.concat([configs, new], ignore_index=True)
        table = pd.concat([table, table_of(new)], ignore_index=True)
    return table, fit_laws(table, options), statuses


def test_synthetic_grid_started_off_the_optimum_extends_until_it_brackets_it():
    laws = SyntheticLaws(
        batch_beta={"env-a": 256.0**2},
        learning_rate_beta={"env-a": 1e-3 ** (1 / 0.3)},
        tau_d_min={"env-a": 20_000.0},
        tau_beta={"env-a": 40.0},
        tau_scale={"env-a": 10_000.0},
    )
    sigmas = (1.0, 4.0, 16.0)  # B* = 256, 128, 64; η* = 1e-3, 6.6e-4, 4.4e-4
    start = pd.DataFrame([("env-a", s, b, lr) for s in sigmas for b in (32, 64) for lr in (1e-4, 2e-4)], columns=CONFIG_COLUMNS)
    horizon = 8.0 * float(laws.tau_star("env-a", 1.0))
    seeds = iter(range(1000))

    def train(configs):
        return synthetic_runs(laws, configs, n_seeds=4, n_evals=160, seed_noise=0.02, eval_noise=2.0, seed=next(seeds), horizon=horizon)

    table, fit, statuses = _loop(
        train,
        start,
        FitOptions(thresholds=(400.0, 600.0), selection_threshold=600.0, n_bootstrap=10),
        GridLimits(learning_rate_factor=2.0, learning_rate_range=(1e-6, 1e-1)),
        max_rounds=12,
    )
    assert statuses[-1] == "bracketed", statuses
    assert fit.grid_edges.inside_share >= 0.8
    assert statuses.count("extend") >= 3  # B from 64 to past 256 and η from 2e-4 to past 1e-3, in steps of 2
    assert fit.batch_size_law.alpha == pytest.approx(laws.batch_alpha, abs=0.15)
    assert fit.learning_rate_law.alpha == pytest.approx(laws.learning_rate_alpha, abs=0.15)


@pytest.fixture(scope="module")
def cartpole_table():
    if not DMC_CSV.exists():
        pytest.skip(f"the published DMC sweep is not at {DMC_CSV} (it lives in the shared data checkout)")
    table = load_runs(DMC_CSV)
    table = table[table["env"] == "cartpole-swingup"].copy()
    table["env"] = table["env"].cat.remove_unused_categories()
    return table


def test_running_max_leaves_the_authors_sweep_unchanged(cartpole_table):
    """The authors' DMC curves are shipped as running maxima (non-decreasing per seed): the option
    changes nothing there, so it puts runs that log raw evaluations on the same footing."""
    options = FitOptions(n_bootstrap=10)
    assert cartpole_table.sort_values(["batch_size", "learning_rate", "utd", "seed", "env_step"]).groupby(
        ["batch_size", "learning_rate", "utd", "seed"], observed=True
    )["return"].apply(lambda returns: bool((returns.diff().dropna() >= 0).all())).all()
    plain = fit_laws(cartpole_table, options).to_dict()
    best_so_far = fit_laws(cartpole_table, dataclasses.replace(options, running_max=True)).to_dict()
    assert best_so_far["running_max"] and not plain["running_max"]
    for key in ("batch_size_law", "learning_rate_law", "data_law", "grid_edges"):
        assert best_so_far[key] == plain[key]


def test_authors_dmc_sweep_from_a_corner_of_its_grid(cartpole_table):
    """Started at B ∈ {32, 64}, η ∈ {1.5e-4, 3e-4} (the corner of the authors' 5 × 4 grid, 6 σ), the
    loop takes each round's runs from the authors' rows and grows until the optimum is bracketed or the
    next values leave their grid; at every σ it then holds a config within FASTEST_TOLERANCE of the
    full grid's fastest time to the selection threshold, having run only part of the grid."""
    keys = cartpole_table[CONFIG_COLUMNS].astype({"env": str})
    start = keys[keys["batch_size"].isin([32, 64]) & keys["learning_rate"].isin([1.5e-4, 3e-4])].drop_duplicates()

    def runs_of(configs):
        wanted = set(map(tuple, configs[CONFIG_COLUMNS].astype({"env": str}).itertuples(index=False)))
        return cartpole_table[np.array([key in wanted for key in keys.itertuples(index=False)])]

    options = FitOptions(thresholds=(600.0, 700.0, 800.0), selection_threshold=800.0, n_bootstrap=10)
    limits = GridLimits(batch_size_range=(32, 512), learning_rate_range=(1.5e-4, 1.2e-3))
    table, fit, statuses = _loop(runs_of, start, options, limits, max_rounds=8)
    assert statuses[0] == "extend" and statuses[-1] in ("bracketed", "limits"), statuses
    assert fit.grid_edges.inside_share > 2 * fit_laws(runs_of(start), options).grid_edges.inside_share
    run_configs = table[CONFIG_COLUMNS].drop_duplicates()
    assert len(run_configs) < len(keys.drop_duplicates())
    full = fit_laws(cartpole_table, options)
    for best in (item for item in full.best_hparams if math.isclose(item.threshold, 800.0)):
        (found,) = [item for item in fit.best_hparams if item.utd == best.utd and math.isclose(item.threshold, 800.0)]
        assert found.time_to_threshold <= FASTEST_TOLERANCE * best.time_to_threshold, (found, best)


def test_fit_command_reports_edges_and_the_horizon(tmp_path, small_sweep):
    """`rlscale fit --horizon-cuts` writes the edge report and the horizon refits into fit.json and
    prints both; the horizon cut refits the laws at the full fit's thresholds."""
    import json
    import subprocess
    import sys

    table = tmp_path / "runs.csv"
    small_sweep.to_csv(table, index=False)
    out = tmp_path / "fit"
    done = subprocess.run(
        [sys.executable, "-m", "rlscale.cli", "fit", str(table), "--out", str(out), "--thresholds", "400", "600",
         "--bootstrap", "10", "--horizon-cuts", "0.5", "0.75"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "grid edges: fastest (B, η) inside the grid in" in done.stdout and "horizon cut to 0.5" in done.stdout
    fit = json.loads((out / "fit.json").read_text())
    cells = fit["grid_edges"]["cells"]
    assert len(cells) == 2 * 4 * 2 and 0.0 <= fit["grid_edges"]["inside_share"] <= 1.0
    assert [cut["fraction"] for cut in fit["horizon"]["cuts"]] == [0.5, 0.75]
    expected = fit_laws(small_sweep[small_sweep["env_step"] <= 0.5 * small_sweep.groupby("env")["env_step"].transform("max")],
                        FitOptions(thresholds=(400.0, 600.0), selection_threshold=600.0, n_bootstrap=10))
    assert fit["horizon"]["cuts"][0]["batch_size_alpha"] == pytest.approx(expected.batch_size_law.alpha, rel=1e-9)
    assert fit["horizon"]["crossing"]["n_reached"] > 0 and fit["horizon"]["crossing"]["ratio_median"] >= 1.0
