"""`rlscale sweep --dry-run` is a dry run: for every sweep file the repository ships (and for each
agent) it prints the plan at once and compiles nothing. Compiles are counted by JAX's own monitoring
event, and the calibration that a dry run used to run is made to fail if it is reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlscale.agents import registry
from rlscale.cli import main
from rlscale.run import estimate
from rlscale_testing import recorded_compile_events, shipped_sweep_files, toml_text

REPO = Path(__file__).resolve().parents[2]
TD3_PACKAGE = REPO / "examples" / "rlscale-td3"
SWEEP_FILES = sorted(
    [*shipped_sweep_files(), *(path for path in REPO.glob("examples/*/*.toml") if path.name != "pyproject.toml")]
)
PLAN_LINES = ("compiled group(s) for", "config axis:", "total:", "estimated cost:")


@pytest.fixture
def no_compile(monkeypatch):
    """The list of XLA compiles made while the test runs; reaching the calibration fails the test."""

    def no_calibration(group):
        raise AssertionError("a dry run calibrated a group")

    monkeypatch.setattr(estimate, "_calibrate_group", no_calibration)
    with recorded_compile_events() as compiled:
        yield compiled


@pytest.fixture
def td3_plugin(monkeypatch):
    """The example TD3 plug-in registered in this process, as `pip install -e examples/rlscale-td3`
    would make it (undone after the test)."""
    monkeypatch.syspath_prepend(str(TD3_PACKAGE))
    from rlscale_td3.plugin import AGENT

    with registry.PLUGINS.restored():
        registry.PLUGINS.add(AGENT, replace=True)
        yield


def test_every_kind_of_shipped_sweep_file_is_covered():
    folders = {path.relative_to(REPO).parts[0] for path in SWEEP_FILES}
    assert folders == {"rlscale", "fits", "examples"}
    assert any("gpu" in path.parts for path in SWEEP_FILES)


def _dry_run(path, tmp_path, capsys) -> tuple[int, str, str]:
    out = tmp_path / "out"
    status = main(["sweep", str(path), "--dry-run", "--out", str(out)])
    captured = capsys.readouterr()
    assert not out.exists()
    return status, captured.out, captured.err


@pytest.mark.parametrize("path", SWEEP_FILES, ids=[str(path.relative_to(REPO)) for path in SWEEP_FILES])
def test_dry_run_of_a_shipped_file_prints_its_plan_and_compiles_nothing(path, tmp_path, capsys, no_compile, td3_plugin):
    status, out, err = _dry_run(path, tmp_path, capsys)
    assert no_compile == []
    for line in PLAN_LINES:
        assert line in out, out
    # A paper-scale GPU plan may not fit this machine's memory: then the memory guard refuses it, after
    # the plan, with its one message.
    assert (status == 0 and "wall time: not estimated" in out) or (status == 2 and "needs an estimated" in err), err


@pytest.mark.parametrize(
    "values",
    [
        {"algo": "bro", "utd": [1.0, 2.0]},
        {"algo": "pql", "num_envs": 4, "batch_size": [32, 64]},
        {"algo": "sac", "model_sizes": [{"hidden_width": 32}, {"hidden_width": 64}], "config_axis": "vmap"},
    ],
    ids=["bro", "pql", "sac-model-sizes-vmap"],
)
def test_dry_run_of_each_agent_compiles_nothing(values, tmp_path, capsys, no_compile):
    path = tmp_path / "sweep.toml"
    path.write_text(toml_text({"env": "pendulum", "env_steps": 2000, "eval_interval": 1000, **values}))
    status, out, err = _dry_run(path, tmp_path, capsys)
    assert status == 0, err
    assert no_compile == []
    for line in PLAN_LINES:
        assert line in out


STUDY_FILES = sorted([*REPO.glob("rlscale/configs/studies/*.toml"), *REPO.glob("fits/**/studies/*.toml")])


@pytest.mark.parametrize("path", STUDY_FILES, ids=[str(path.relative_to(REPO)) for path in STUDY_FILES])
def test_study_dry_run_plans_every_stage_and_compiles_nothing(path, tmp_path, capsys, no_compile):
    out = tmp_path / "study"
    status = main(["study", str(path), "--out", str(out), "--dry-run"])
    printed = capsys.readouterr().out
    assert status == 0 and not out.exists() and no_compile == []
    held_out = "stage 3, held-out run:" if "model_sizes" in path.read_text() else "stage 4, held-out run:"
    for stage in ("stage 1, grid:", "stage 1, extension:", "stage 2:", held_out, "gradient updates"):
        assert stage in printed, printed
