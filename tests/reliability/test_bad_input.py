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
    ("negative validation interval", {"validation_interval": -1}, ["validation_interval must be an integer >= 0", "got -1"]),
    ("env steps not a multiple", {"env_steps": 1100}, ["env_steps (1100)", "eval_interval (250)"]),
    ("group too large for memory", {"buffer_capacity": 2**31 - 1}, ["needs an estimated", "GiB", "buffer_capacity"]),
    # Integers beyond 32 bits: seeds, counters, shapes and agent options are int32 in the engine.
    ("seed beyond 32 bits", {"seeds": [99999999999999999999]},
     ["seeds must be at most 2147483647 (the engine holds it as a 32-bit integer), got 99999999999999999999"]),
    ("env steps beyond 32 bits", {"env_steps": 500 * 2**32}, ["env_steps must be at most 2147483647", str(500 * 2**32)]),
    ("batch size beyond 32 bits", {"batch_size": [2**31]}, ["batch_size must be at most 2147483647", "got 2147483648"]),
    ("buffer beyond 32 bits", {"buffer_capacity": 2**40}, ["buffer_capacity must be at most 2147483647"]),
    ("explicit seed beyond 32 bits", {"configs": [{"utd": 1.0, "batch_size": 32, "learning_rate": 1e-3, "seed": 2**63}]},
     ["configs[0].seed must be at most 2147483647", str(2**63)]),
    ("model size beyond 32 bits", {"model_sizes": [{"hidden_width": 2**32}]}, ["model_sizes[0].hidden_width must be at most"]),
    ("pql with one env", {"algo": "pql"},
     ['num_envs must be >= 2 for algo = "pql", got 1', "would explore at std 0.05 only"]),
    ("agent option beyond 32 bits", {"algo": "bro", "agent": {"reset_interval": 2**40}},
     ["agent.reset_interval must be an integer in [-2147483648, 2147483647], got 1099511627776"]),
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
    values = {**TINY_SWEEP, "learnig_rate": [1e-3], "eval_episodes": "five", "num_envs": 0, "env_steps": 1100}
    config_path.write_text(toml_text(values))
    out = tmp_path / "out"
    assert main(["sweep", str(config_path), "--out", str(out), "--dry-run"]) == 2
    stderr = capsys.readouterr().err
    for fragment in (
        "unknown field 'learnig_rate'",
        "eval_episodes must be an integer, got 'five'",
        "num_envs must be >= 1, got 0",
        "env_steps (1100) must be a positive multiple of eval_interval (250)",
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


def test_a_file_that_is_not_utf8_or_sets_nothing_gets_one_message(tmp_path, capsys):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('env = "pendulum"  # réglé\n'.encode("latin-1"))
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing set yet\n\n")
    for path, fragment in (
        (latin1, "is not UTF-8 text (byte 0xe9 at offset 21); TOML files are UTF-8"),
        (empty, "sets no field (it is empty or only comments)"),
    ):
        assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dry-run"]) == 2
        stderr = capsys.readouterr().err
        assert stderr.startswith(f"rlscale sweep: invalid sweep config:\n  - config file '{path}' {fragment}")
        assert stderr.count("\n  - ") == 1
    assert not (tmp_path / "out").exists()


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


@pytest.mark.parametrize(
    "text",
    ['env = "pendulum"\nseeds = [99999999999999999999]\n'.encode(), 'env = "pendule à gaz"\n'.encode("latin-1")],
    ids=["seed-overflow", "not-utf8"],
)
def test_the_two_inputs_that_crashed_get_a_message_through_the_installed_command(text, tmp_path):
    """The issue's two tracebacks (OverflowError, UnicodeDecodeError), as a new user meets them."""
    config_path = tmp_path / "bad.toml"
    config_path.write_bytes(text)
    result = subprocess.run(
        [sys.executable, "-m", "rlscale.cli", "sweep", str(config_path), "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr
    assert result.stderr.count("\n  - ") == 1
    assert "seeds must be at most 2147483647" in result.stderr or "is not UTF-8 text" in result.stderr
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
    config_path.write_text(toml_text({**TINY_SWEEP, "buffer_capacity": 2**31 - 1}))
    assert main(["sweep", str(config_path), "--out", str(tmp_path / "out"), "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "compiled group(s)" in captured.out
    assert "needs an estimated" in captured.err
