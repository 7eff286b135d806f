"""Envs as plug-ins (`rlscale.envs.register`, the `rlscale.envs` entry-point group) and by reference
in a sweep file ('brax-class:...', 'playground:...', 'gymnax:...'): validated with the rest of the
sweep, one message naming a broken reference and what was expected."""

from __future__ import annotations

import pytest

from plugin_install import write_dist_info
from rlscale.config import ConfigError, SweepConfig
from rlscale.envs import EnvEntry, get_spec, make_env, plugin_suite, register

PENDULUM_SPEC = {"observation_size": 3, "action_size": 1, "episode_length": 200, "return_low": -1226.7,
                 "return_high": -150.0, "normalization_source": "rlscale's pendulum constants"}


@pytest.fixture
def restore_plugins():
    with plugin_suite.PLUGINS.restored(reread=True):
        yield


def test_a_registered_env_is_a_sweep_env_with_action_repeat(restore_plugins):
    register("my/pendulum", "rlscale.envs.pure_jax:Pendulum", PENDULUM_SPEC)
    SweepConfig(env="my/pendulum", env_options={"action_repeat": 2}).validate()
    spec = get_spec("my/pendulum", action_repeat=2)
    assert (spec.suite, spec.episode_length, spec.action_repeat, spec.return_low) == ("plugin", 100, 2, -1226.7)
    _, env = make_env("my/pendulum", action_repeat=2)
    assert env.action_repeat == 2
    with pytest.raises(ConfigError) as raised:
        SweepConfig(env="my/pendulum", env_options={"gravity": 9.8}).validate()
    assert raised.value.errors == [
        "env_options: unknown option 'gravity' for env 'my/pendulum'; allowed options: action_repeat: "
        "int >= 1 dividing the episode's steps (default 1; added by rlscale)"
    ]


def test_register_rejects_bad_entries_with_every_problem(restore_plugins):
    with pytest.raises(ValueError) as raised:
        register("pendulum", 42, {"observation_size": 0, "extra": 1}, options={"action_repeat": "mine"})
    message = str(raised.value)
    for expected in ("factory must be a callable", "spec misses action_size", "unknown field(s) extra",
                     "spec.observation_size must be an integer >= 1, got 0", "option 'action_repeat' is added by rlscale",
                     "env 'pendulum' is built in"):
        assert expected in message, message


def test_an_installed_env_plugin_is_found_and_a_broken_one_named(tmp_path, monkeypatch, restore_plugins):
    site = tmp_path / "site"
    site.mkdir()
    (site / "my_envs.py").write_text(
        "from rlscale.envs import EnvEntry\n"
        f"ENV = EnvEntry('my/pendulum', 'rlscale.envs.pure_jax:Pendulum', {PENDULUM_SPEC!r})\n"
    )
    write_dist_info(site, "my-envs", {"rlscale.envs": {"my/pendulum": "my_envs:ENV", "my/broken": "my_envs:NOTHING"}})
    monkeypatch.syspath_prepend(str(site))
    assert get_spec("my/pendulum").observation_size == 3
    with pytest.raises(ConfigError) as raised:
        SweepConfig(env="my/broken").validate()
    assert raised.value.errors == [
        "plug-in 'my/broken' (entry point 'my_envs:NOTHING' of package 'my-envs', group 'rlscale.envs') could "
        "not be loaded: AttributeError: module 'my_envs' has no attribute 'NOTHING'"
    ]
    assert isinstance(plugin_suite.PLUGINS.entries()["my/pendulum"], EnvEntry)


@pytest.mark.parametrize(
    "env, expected",
    [
        ("pendulm", "env 'pendulm' is unknown; `rlscale envs` lists them (or name one by reference: 'brax-class:...'"),
        ("brax-class:brax.envs.ant", "env 'brax-class:brax.envs.ant': expected 'brax-class:package.module:ClassName' "
                                     "naming a subclass of brax.envs.base.Env"),
        ("brax-class:no_such_package.envs:Ant", "module 'no_such_package.envs' could not be imported (ModuleNotFoundError"),
        ("brax-class:brax.envs.ant:Antt", "module 'brax.envs.ant' has no attribute 'Antt'"),
        ("brax-class:rlscale.config:SweepConfig", "rlscale.config:SweepConfig is <class 'rlscale.config.SweepConfig'>, "
                                                   "not a Brax Env class"),
        ("playground:NoSuchEnv", "expected a MuJoCo Playground registry name, one of AcrobotSwingup,"),
    ],
)
def test_a_bad_env_reference_is_one_message_naming_it(env, expected):
    with pytest.raises(ConfigError) as raised:
        SweepConfig(env=env, utd=[0.0]).validate()
    assert expected in raised.value.errors[0] and len(raised.value.errors) == 2  # and the utd error
    assert raised.value.errors[1].startswith("utd must be in (0, 64]")


def test_brax_class_constructor_options_and_failures_are_reported():
    spec = get_spec("brax-class:brax.envs.inverted_pendulum:InvertedPendulum", backend="generalized", return_high=500.0)
    assert (spec.observation_size, spec.action_size, spec.episode_length, spec.return_high) == (4, 1, 1000, 500.0)
    assert spec.normalization_source == "given in env_options"
    with pytest.raises(ConfigError) as raised:
        SweepConfig(env="brax-class:brax.envs.inverted_pendulum:InvertedPendulum", env_options={"backend": "warp"}).validate()
    assert "InvertedPendulum(backend='warp') failed" in raised.value.errors[0]


def test_playground_envs_that_need_downloaded_assets_fail_with_one_message(monkeypatch):
    from mujoco_playground._src import mjx_env

    if mjx_env.MENAGERIE_PATH.exists():
        pytest.skip("mujoco_menagerie is present here: Playground's robot envs load")
    with pytest.raises(ConfigError) as raised:
        SweepConfig(env="playground:Go1JoystickFlatTerrain").validate()
    (message,) = raised.value.errors
    assert message.startswith("env 'playground:Go1JoystickFlatTerrain': MuJoCo Playground could not load it")
    assert "fetch their robot assets (mujoco_menagerie, by git clone) on first use" in message


def test_gymnax_references_need_gymnax_and_continuous_actions(monkeypatch):
    try:
        import gymnax  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"gymnax is not installed .*pip install rlscale\[gymnax\]"):
            SweepConfig(env="gymnax:Pendulum-v1").validate()
        return
    assert get_spec("gymnax:Pendulum-v1").episode_length == 200
    with pytest.raises(ConfigError, match="its action space is Discrete; rlscale's agents act in continuous"):
        SweepConfig(env="gymnax:CartPole-v1").validate()
