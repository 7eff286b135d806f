"""Agents as plug-ins: registered from Python, or found through an installed package's
`rlscale.agents` entry point (the example package examples/rlscale-td3), validated JAX-free with
everything else, trained by `rlscale sweep`, fitted by `rlscale fit` (slow: the fit needs the
example's whole sweep to learn); broken plug-ins are one message."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from plugin_install import TD3_PACKAGE, install_like_editable, subprocess_env, write_dist_info
from rlscale.agents import registry
from rlscale.config import ConfigError, SweepConfig

FIT_THRESHOLD = "300"
"""Normalized return both σ reach within 1,500 env steps (seed mean; TD3 32x2 on pendulum)."""
TD3_SWEEP = TD3_PACKAGE / "td3_pendulum.toml"
"""The example's own sweep file (pendulum, σ ∈ {4, 8}, 2 seeds, 1,500 env steps)."""
SHORT_ENV_STEPS = 500
"""The example's sweep cut to its first two evaluations (env_steps is no part of the compiled program)."""


@dataclasses.dataclass(frozen=True)
class TinyOptions:
    depth: int = 1

    def validate(self) -> list[str]:
        return [] if self.depth >= 1 else [f"depth must be >= 1, got {self.depth}"]


@pytest.fixture
def restore_registry():
    with registry.PLUGINS.restored():
        yield


def test_a_registered_agent_is_validated_like_a_built_in(restore_registry):
    registry.register("tiny", "rlscale.agents.sac.agent:SACAgent", TinyOptions, tau=0.01)
    config = SweepConfig(algo="tiny", agent={"depth": 2})
    config.validate()
    assert config.resolved_tau == 0.01 and config.agent_options() == (("depth", 2),)
    with pytest.raises(ConfigError) as raised:
        SweepConfig.from_dict({"algo": "tiny", "agent": {"depth": 0, "width": 3}, "num_envs": 0})
    assert raised.value.errors[0].startswith("agent: unknown option 'width'")
    assert "agent.depth must be >= 1, got 0" in raised.value.errors
    assert any(error.startswith("num_envs must be >= 1") for error in raised.value.errors)


def test_register_rejects_bad_entries_with_every_problem(restore_registry):
    with pytest.raises(ValueError) as raised:
        registry.register("sac", "no colon", dict, tau=2.0)
    message = str(raised.value)
    for expected in ("factory must be a callable or 'package.module:attribute'", "options must be a dataclass type",
                     "tau must be in (0, 1]", "agent 'sac' is built in"):
        assert expected in message
    registry.register("tiny", "rlscale.agents.sac.agent:SACAgent", TinyOptions)
    with pytest.raises(ValueError, match="already registered; pass replace=True"):
        registry.register("tiny", "rlscale.agents.sac.agent:SACAgent", TinyOptions)
    registry.register("tiny", "missing.module:Agent", TinyOptions, replace=True)
    from rlscale.agents import make_agent
    from rlscale.agents.spec import NetworkConfig

    with pytest.raises(ValueError, match="agent 'tiny': its factory 'missing.module:Agent' could not be imported"):
        make_agent("tiny", 3, 1, NetworkConfig())


def _run(code: str, *paths, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(*paths),
                          cwd=cwd, timeout=600)


def test_an_installed_plugin_is_found_through_its_entry_point_without_importing_jax(tmp_path):
    paths = install_like_editable(TD3_PACKAGE, tmp_path / "site")
    code = (
        "import sys\n"
        "from rlscale.agents import agent_names, option_errors\n"
        "from rlscale.config import SweepConfig\n"
        "assert agent_names() == ('sac', 'bro', 'pql', 'td3'), agent_names()\n"
        "errors = option_errors('td3', {'policy_delay': 0, 'bogus': 1})\n"
        "assert len(errors) == 2 and 'bogus' in errors[0] and 'policy_delay must be >= 1' in errors[1], errors\n"
        "assert SweepConfig(algo='td3', agent={'policy_delay': 3}).agent_options() == (('policy_delay', 3),)\n"
        "assert 'jax' not in sys.modules, 'validating a plug-in agent imported JAX'\n"
    )
    result = _run(code, *paths)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def installed(tmp_path, monkeypatch, restore_registry):
    """Installs packages into a fresh site directory on sys.path (like `pip install -e`) and makes
    the registry read the entry points again: install(name, {group: {entry: value}})."""
    site = tmp_path / "installed"
    monkeypatch.syspath_prepend(str(TD3_PACKAGE))
    monkeypatch.syspath_prepend(str(site))
    with registry.PLUGINS.restored(reread=True):
        yield lambda name, entry_points: write_dist_info(site, name, entry_points)


def test_broken_plugins_are_one_message_naming_the_entry_point(installed):
    installed("broken-agents", {"rlscale.agents": {
        "missing": "not_a_module.anywhere:AGENT",
        "wrong": "json:dumps",
        "sac": "rlscale_td3.plugin:AGENT",
        "renamed": "rlscale_td3.plugin:AGENT",
    }})
    installed("rlscale-td3", {"rlscale.agents": {"td3": "rlscale_td3.plugin:AGENT"}})
    expected = {
        "missing": "algo 'missing': plug-in 'missing' (entry point 'not_a_module.anywhere:AGENT' of package "
                   "'broken-agents', group 'rlscale.agents') could not be loaded: ModuleNotFoundError",
        "wrong": "algo 'wrong': agent plug-in 'wrong' (entry point group 'rlscale.agents') must name an "
                 "rlscale.agents.AgentEntry, got function",
        "renamed": "names an AgentEntry called 'td3'; the two names must match",
    }
    for algo, message in expected.items():
        with pytest.raises(ConfigError) as raised:
            SweepConfig.from_dict({"algo": algo, "agent": {"anything": 1}})
        assert len(raised.value.errors) == 1 and message in raised.value.errors[0], raised.value.errors
    # The built-in SAC is untouched by a plug-in that takes its name; the good plug-in loads.
    assert registry.get_entry("sac").factory == "rlscale.agents.sac.agent:SACAgent"
    assert registry.agent_names() == ("sac", "bro", "pql", "td3")


def test_a_broken_plugin_stops_rlscale_sweep_before_anything_is_written(tmp_path):
    site = tmp_path / "site"
    write_dist_info(site, "broken-agents", {"rlscale.agents": {"missing": "not_a_module.anywhere:AGENT"}})
    (tmp_path / "sweep.toml").write_text('algo = "missing"\n')
    result = subprocess.run([sys.executable, "-m", "rlscale.cli", "sweep", "sweep.toml", "--out", "run"],
                            cwd=tmp_path, capture_output=True, text=True, env=subprocess_env(site), timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "could not be loaded: ModuleNotFoundError: No module named 'not_a_module'" in result.stderr
    assert not (tmp_path / "run").exists()


def _rlscale(*args, cwd, paths):
    return subprocess.run([sys.executable, "-m", "rlscale.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=subprocess_env(*paths), timeout=900)


def _sweep_the_example(tmp_path, *flags: str) -> tuple[list[Path], list[dict]]:
    """`pip install -e examples/rlscale-td3` (here: its entry point made visible the same way), then
    `rlscale sweep` of the example's own file (algo = "td3") with `flags`: the path entries and the rows."""
    paths = install_like_editable(TD3_PACKAGE, tmp_path / "site")
    (tmp_path / "td3.toml").write_text(TD3_SWEEP.read_text())
    result = _rlscale("sweep", "td3.toml", "--out", "run", "--plain", "--no-fit", *flags, cwd=tmp_path, paths=paths)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["algo"] == "td3" and manifest["agent_options"]["policy_delay"] == 2
    rows = [json.loads(line) for line in (tmp_path / "run" / "evals.jsonl").read_text().splitlines()]
    assert {row["algo"] for row in rows} == {"td3"}
    # The env spec's normalization travels with the rows, so any env's (a plug-in's) rows fit.
    assert {(row["return_low"], row["return_high"]) for row in rows} == {(-1226.7, -150.0)}
    return paths, rows


def test_the_example_plugin_trains_in_a_sweep(tmp_path):
    """The example plug-in installed, `rlscale sweep` with algo = "td3" (its own sweep file, cut to two
    evaluations), and `rlscale check-agent td3`."""
    paths, rows = _sweep_the_example(tmp_path, "--set", f"env_steps={SHORT_ENV_STEPS}")
    assert len(rows) == 4 * 2  # 4 configs, 2 evaluations each
    assert all(math.isfinite(row["return"]) and row["diverged_at_env_step"] is None for row in rows)
    # Updates ran (from learning_starts = 250, at σ ∈ {4, 8}).
    assert {(row["utd"], row["grad_step"]) for row in rows if row["env_step"] == SHORT_ENV_STEPS} == {(4.0, 1000), (8.0, 2000)}
    result = _rlscale("check-agent", "td3", "--check", "finite_update", "--check", "masked_batch",
                      cwd=tmp_path, paths=paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS finite_update" in result.stdout and "PASS masked_batch" in result.stdout


@pytest.mark.slow
def test_the_example_plugins_full_sweep_is_fitted(tmp_path):
    """The example's whole sweep (1,500 env steps) learns enough for `rlscale fit` to fit D_J(σ) at
    FIT_THRESHOLD on its rows."""
    paths, rows = _sweep_the_example(tmp_path)
    assert len(rows) == 4 * 6
    result = _rlscale("fit", "run", "--out", "fit", "--thresholds", FIT_THRESHOLD, "--bootstrap", "10",
                      cwd=tmp_path, paths=paths)
    assert result.returncode == 0, result.stdout + result.stderr
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["thresholds"] == [float(FIT_THRESHOLD)], fit.keys()


@pytest.mark.slow
def test_the_example_plugin_passes_the_conformance_kit(installed):
    """What examples/rlscale-td3/tests does, through the registry's entry-point path."""
    installed("rlscale-td3", {"rlscale.agents": {"td3": "rlscale_td3.plugin:AGENT"}})
    from rlscale.testing import check_agent

    check_agent("td3", {"actor_hidden_width": 16, "actor_hidden_depth": 1}).assert_passed()


def test_pip_install_e_of_the_example_makes_td3_an_algo(tmp_path):
    """The real install: a fresh venv that sees this interpreter's packages, `pip install --no-deps
    -e examples/rlscale-td3` (pip builds it with setuptools from the package index), then the
    entry point is found and `algo = "td3"` validates without importing JAX."""
    venv = tmp_path / "venv"
    # Without its own pip: the parent's (visible through parent.pth) installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(TD3_PACKAGE)],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0 and "No matching distribution found for setuptools" in install.stderr:
        pytest.skip("pip cannot reach a package index with setuptools to build the example here")
    assert install.returncode == 0, install.stderr
    code = (
        "import sys\n"
        "from rlscale.agents import agent_names\n"
        "from rlscale.config import SweepConfig\n"
        "assert 'td3' in agent_names(), agent_names()\n"
        "SweepConfig(algo='td3', agent={'policy_delay': 3}).agent_options()\n"
        "assert 'jax' not in sys.modules\n"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert result.returncode == 0, result.stderr
