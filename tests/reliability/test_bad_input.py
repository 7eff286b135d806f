"""Bad input never gets a traceback: `rlscale sweep` exits 2 with one message naming the field and
value, before anything is compiled or written."""

from __future__ import annotations

import subprocess
import sys

import pytest
from reliability_helpers import REPO, TINY_SWEEP
from rlscale_testing import toml_text

from rlscale.cli import main
from rlscale.config import ConfigError, SweepConfig
from rlscale.plan import make_plan
from rlscale.run.runner import ResourceError, check_memory

# (name, config overrides, fragments the message must contain)
BAD_CONFIGS = [
    ("unknown env", {"env": "pendulm"}, ["env 'pendulm' is unknown"]),
    ("zero batch size", {"batch_size": [0]}, ["batch_size", "got 0"]),
    ("negative batch size", {"batch_size": [-32]}, ["batch_size", "got -32"]),
    ("zero utd", {"utd": [0.0]}, ["utd must be in (0, 64]", "got 0.0"]),
    ("negative utd", {"utd": [-1.0]}, ["utd must be in (0, 64]", "got -1.0"]),
    ("zero learning rate", {"learning_rate": [0.0]}, ["learning_rate must be in (0, 1)", "got 0.0"]),
    ("negative learning rate", {"learning_rate": [-0.001]}, ["learning_rate", "got -0.001"]),
    ("buffer smaller than batch", {"buffer_capacity": 16}, ["buffer_capacity (16)", "batch_size (32)"]),
    ("repeated seeds", {"seeds": [0, 1, 0]}, ["seeds must be distinct", "[0, 1, 0]"]),
    ("misspelled field", {"learnig_rate": [0.001]}, ["unknown field 'learnig_rate'"]),
    ("string batch size", {"batch_size": ["big"]}, ["batch_size must be a list of integers", "'big'"]),
    ("negative checkpoint interval", {"checkpoint_every_seconds": -5.0}, ["checkpoint_every_seconds", "got -5.0"]),
    ("env steps not a multiple", {"env_steps": 1250}, ["env_steps (1250)", "eval_interval (500)"]),
    ("group too large for memory", {"buffer_capacity": 10**12}, ["needs an estimated", "GiB", "buffer_capacity"]),
    ("unknown tracker", {"tracker": "tensorbord"}, ["tracker must list names of ('tensorboard', 'wandb')", "'tensorbord'"]),
    ("repeated tracker", {"tracker": ["wandb", "wandb"]}, ["tracker must list each tracker once"]),
]


@pytest.mark.parametrize("overrides, fragments", [case[1:] for case in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_gets_one_clear_message(overrides, fragments, tmp_path, capsys):
    config_path = tmp_path / "bad.toml"
    config_path.write_text(toml_text({**TINY_SWEEP, **overrides}))
    out = tmp_path / "out"
    assert main(["sweep", str(config_path), "--out", str(out), "--plain", "--no-fit"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("rlscale sweep: ")
    for fragment in fragments:
        assert fragment in stderr
    assert not out.exists()


def test_unknown_keys_and_bad_types_do_not_hide_range_errors(tmp_path, capsys):
    config_path = tmp_path / "bad.toml"
    values = {**TINY_SWEEP, "learnig_rate": [1e-3], "eval_episodes": "five", "num_envs": 0, "env_steps": 1250}
    config_path.write_text(toml_text(values))
    out = tmp_path / "out"
    assert main(["sweep", str(config_path), "--out", str(out), "--dry-run"]) == 2
    stderr = capsys.readouterr().err
    for fragment in (
        "unknown field 'learnig_rate'",
        "eval_episodes must be an integer, got 'five'",
        "num_envs must be >= 1, got 0",
        "env_steps (1250) must be a positive multiple of eval_interval (500)",
    ):
        assert fragment in stderr
    # Checks that involve the mistyped field are left out (its default would be reported otherwise).
    assert stderr.count("\n  - ") == 4
    assert not out.exists()


def test_explicit_configs_are_checked_against_their_own_batch_sizes():
    values = {key: value for key, value in TINY_SWEEP.items() if key not in ("utd", "batch_size", "learning_rate")}
    config = SweepConfig.from_dict(
        {**values, "buffer_capacity": 100, "configs": [{"utd": 1.0, "batch_size": 64, "learning_rate": 1e-3}]}
    )
    assert config.buffer_capacity == 100
    with pytest.raises(ConfigError, match=r"buffer_capacity \(50\) must be >= the largest batch_size \(64\)"):
        SweepConfig.from_dict({**values, "buffer_capacity": 50, "configs": [{"utd": 1.0, "batch_size": 64, "learning_rate": 1e-3}]})


def test_unparsable_and_missing_config_files(tmp_path, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text("utd = [1, 2\n")
    assert main(["sweep", str(broken), "--out", str(tmp_path / "out")]) == 2
    assert "is not valid TOML" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "absent.toml"), "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_input_through_the_installed_command_has_no_traceback(tmp_path):
    config_path = tmp_path / "bad.toml"
    config_path.write_text(toml_text({**TINY_SWEEP, "batch_size": [0], "seeds": [3, 3]}))
    result = subprocess.run(
        [sys.executable, "-m", "rlscale.cli", "sweep", str(config_path), "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "batch_size must be an integer >= 1, got 0" in result.stderr
    assert "seeds must be distinct, got [3, 3]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_memory_guard_names_the_largest_group_that_fits():
    plan = make_plan(SweepConfig.from_dict({**TINY_SWEEP, "seeds": list(range(8)), "max_group_size": 16}))
    (group,) = plan.groups
    per_config = plan.memory_bytes(group) / len(group.configs)
    check_memory(plan, available_bytes=plan.memory_bytes(group))
    with pytest.raises(ResourceError, match=r"group 0 \(16 configs\).*largest group that fits has 5 config\(s\): set max_group_size = 5"):
        check_memory(plan, available_bytes=int(5.5 * per_config))
    with pytest.raises(ResourceError, match="not even one config fits: lower buffer_capacity"):
        check_memory(plan, available_bytes=int(0.5 * per_config))


def test_dry_run_reports_a_plan_too_large_for_the_device(tmp_path, capsys):
    config_path = tmp_path / "huge.toml"
    config_path.write_text(toml_text({**TINY_SWEEP, "buffer_capacity": 10**12}))
    assert main(["sweep", str(config_path), "--out", str(tmp_path / "out"), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "compiled group(s)" in captured.out
    assert "needs an estimated" in captured.err
