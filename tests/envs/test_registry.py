"""The registry: names, cheap specs for every env, option validation."""

import subprocess
import sys
import time

import pytest

from rlscale.envs import EnvSpec, env_names, get_spec, make_env

REQUIRED = [
    "pendulum",
    "cartpole-balance",
    "brax/halfcheetah",
    "brax/hopper",
    "brax/walker2d",
    "brax/ant",
    "brax/humanoid",
    "brax/inverted_pendulum",
    "brax/inverted_double_pendulum",
    "dmc/cartpole-swingup",
    "dmc/cheetah-run",
    "dmc/finger-spin",
    "dmc/humanoid-stand",
    "dmc/walker-walk",
]


def test_required_names_are_registered_and_unique():
    names = env_names()
    assert len(names) == len(set(names))
    assert set(REQUIRED) <= set(names)
    assert all(name.startswith(("brax/", "dmc/")) or "/" not in name for name in names)


def test_every_spec_is_cheap_and_consistent():
    start = time.perf_counter()
    for name in env_names():
        spec = get_spec(name)
        assert isinstance(spec, EnvSpec) and spec.name == name
        assert spec.suite == {"brax": "brax", "dmc": "dmc"}.get(name.split("/")[0], "jax")
        assert spec.observation_size > 0 and spec.action_size > 0
        assert spec.action_repeat == 1 and spec.episode_length > 0
        assert spec.return_high > spec.return_low and spec.normalization_source
        if spec.suite != "jax":
            assert spec.episode_length == 1000
    assert time.perf_counter() - start < 1.0


def test_dmc_normalization_is_identity():
    spec = get_spec("dmc/walker-walk")
    assert (spec.return_low, spec.return_high) == (0.0, 1000.0)


def test_action_repeat_divides_the_episode():
    assert get_spec("dmc/cheetah-run", action_repeat=2).episode_length == 500
    assert get_spec("brax/ant", action_repeat=4).episode_length == 250
    with pytest.raises(ValueError, match="action_repeat must divide"):
        get_spec("dmc/cheetah-run", action_repeat=3)


def test_options_are_validated_with_clear_errors():
    with pytest.raises(ValueError, match="option 'backend'.*mjx, generalized, positional, spring.*'warp'"):
        get_spec("brax/ant", backend="warp")
    with pytest.raises(ValueError, match="unknown option 'backend' for env 'dmc/cheetah-run'"):
        get_spec("dmc/cheetah-run", backend="mjx")
    with pytest.raises(ValueError, match="unknown env name 'brax/swimmer'.*brax/halfcheetah"):
        make_env("brax/swimmer")


def test_backend_is_an_option_not_a_spec_field():
    """The spec is the same for every backend; the engine keys compiles on (name, options)."""
    for backend in ("mjx", "generalized", "positional", "spring"):
        assert get_spec("brax/halfcheetah", backend=backend) == get_spec("brax/halfcheetah")
    with pytest.raises(ValueError, match="hashable"):
        get_spec("brax/halfcheetah", backend=["mjx"])


def test_validating_a_sweep_file_imports_no_jax(tmp_path):
    """The built-in suites are static tables: a sweep file on any of them is validated (its env and
    options included) before JAX is imported; only building an env, or loading a reference, needs it."""
    paths = []
    for index, (env, options) in enumerate((("pendulum", "{action_repeat = 2}"), ("brax/ant", '{backend = "generalized"}'),
                                            ("dmc/cartpole-swingup", "{action_repeat = 2}"))):
        path = tmp_path / f"sweep{index}.toml"
        path.write_text(f'env = "{env}"\nenv_options = {options}\nutd = [1, 2]\n')
        paths.append(str(path))
    code = (
        "import sys\n"
        "from rlscale.config import ConfigError, SweepConfig\n"
        f"for path in {paths!r}:\n"
        "    SweepConfig.from_toml(path)\n"
        "try:\n"
        "    SweepConfig.from_dict({'env': 'dmc/cheetah-run', 'env_options': {'backend': 'mjx'}})\n"
        "except ConfigError as error:\n"
        "    assert \"unknown option 'backend' for env 'dmc/cheetah-run'\" in str(error), error\n"
        "else:\n"
        "    raise AssertionError('a bad env option was accepted')\n"
        "assert 'jax' not in sys.modules, 'validating a sweep file imported JAX'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
