"""The conformance kit (rlscale.testing): the built-in agents and env suites pass it, and it
reports agents and envs that break the contract, by name, with a nonzero exit status."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlscale import cli
from rlscale.agents import registry as agent_registry
from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.options import SACOptions
from rlscale.envs import plugin_suite, pure_jax
from rlscale.testing import check_agent, check_env

SMALL_ACTOR = {"actor_hidden_width": 16, "actor_hidden_depth": 1}


@pytest.mark.parametrize(
    "algo, options",
    [
        # Slow-marked for the default suite's time: the example plug-in (TD3, on the same core)
        # runs the whole kit in the default suite, and SAC's equivalence and padding checks run
        # in tests/engine and tests/agents.
        pytest.param("sac", {}, marks=pytest.mark.slow),
        # PQL's group-vs-alone and BRO's padding checks also run in tests/agents; BRO's compile is
        # long on CPU (its update alone takes over a minute here).
        pytest.param("pql", SMALL_ACTOR, marks=pytest.mark.slow),
        pytest.param("bro", {**SMALL_ACTOR, "critic_quantiles": 4, "reset_interval": 30}, marks=pytest.mark.slow),
    ],
)
def test_built_in_agent_passes_the_conformance_kit(algo, options):
    check_agent(algo, options).assert_passed()


@dataclasses.dataclass(frozen=True)
class _Broken:
    """SAC with one violation of the agent contract."""

    inner: SACAgent
    fault: str

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def update(self, state, batch, mask, hparams, rng, context):
        if self.fault == "reads_padding":
            mask = jnp.ones_like(mask)
        if self.fault == "mean_over_b_max":
            hparams = hparams.replace(batch_size=jnp.int32(mask.shape[0]))
        state, metrics = self.inner.update(state, batch, mask, hparams, rng, context)
        if self.fault == "nan":
            metrics = {**metrics, "critic_loss": jnp.float32(jnp.nan)}
        return state, metrics


@pytest.fixture
def broken_agents():
    with agent_registry.PLUGINS.restored():
        for fault in ("reads_padding", "mean_over_b_max", "nan"):
            agent_registry.register(
                fault, lambda obs, act, network, options, fault=fault: _Broken(SACAgent(obs, act, network, options), fault),
                SACOptions,
            )
        yield


@pytest.mark.parametrize(
    "fault, check, message",
    [
        ("mean_over_b_max", "masked_batch", "losses must be sum(mask * row) / B_k"),
        pytest.param("reads_padding", "masked_batch", "changing only the padding rows changed the update",
                     marks=pytest.mark.slow),
        pytest.param("nan", "finite_update", "update 1 gave non-finite metrics", marks=pytest.mark.slow),
    ],
)
def test_check_agent_names_what_an_agent_breaks_and_exits_nonzero(broken_agents, capsys, fault, check, message):
    assert cli.main(["check-agent", fault, "--check", check]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {check}" in out and message in out and f"fails 1 of 1 checks: {check}" in out


@pytest.mark.parametrize(
    "name", [pytest.param("pendulum", marks=pytest.mark.slow), "cartpole-balance", pytest.param("pointmass", marks=pytest.mark.slow)]
)
def test_pure_jax_envs_pass_the_conformance_kit(name):
    check_env(name).assert_passed()


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, options",
    [
        ("brax/inverted_pendulum", {"backend": "generalized"}),
        ("brax/hopper", {}),  # MJX, with terminations
        ("dmc/cartpole-swingup", {}),
        ("dmc/cheetah-run", {"action_repeat": 2}),
        ("brax-class:brax.envs.inverted_pendulum:InvertedPendulum", {"backend": "generalized"}),
        ("playground:CartpoleBalance", {}),
    ],
)
def test_physics_suites_and_references_pass_the_conformance_kit(name, options):
    check_env(name, options).assert_passed()


def test_gymnax_envs_pass_the_conformance_kit():
    pytest.importorskip("gymnax")
    check_env("gymnax:Pendulum-v1").assert_passed()


class _TimeLimitedPendulum:
    """Pendulum that raises done at its time limit (a truncation reported as a termination)."""

    def __init__(self):
        self.env = pure_jax.Pendulum()

    def reset(self, rng):
        state = self.env.reset(rng)
        return state.replace(info={**state.info, "t": jnp.int32(0)})

    def step(self, state, action):
        stepped = self.env.step(state, action)
        t = state.info["t"] + 1
        return stepped.replace(info={**stepped.info, "t": t}, done=(t >= 200).astype(jnp.float32))


class _Nondeterministic:
    """Pendulum whose observations get host-side NumPy noise (a callback outside JAX's PRNG)."""

    def __init__(self):
        self.env, self.noise = pure_jax.Pendulum(), np.random.default_rng()

    def reset(self, rng):
        return self.env.reset(rng)

    def step(self, state, action):
        stepped = self.env.step(state, action)
        shape = jax.ShapeDtypeStruct(stepped.obs.shape, jnp.float32)
        noise = jax.pure_callback(lambda: self.noise.normal(size=shape.shape).astype(np.float32), shape)
        return stepped.replace(obs=stepped.obs + noise)


PENDULUM_SPEC = {"observation_size": 3, "action_size": 1, "episode_length": 200, "return_low": -1226.7,
                 "return_high": -150.0, "normalization_source": "rlscale's pendulum"}


@pytest.fixture
def broken_envs():
    with plugin_suite.PLUGINS.restored():
        plugin_suite.register("test/time-limited", _TimeLimitedPendulum, PENDULUM_SPEC, replace=True)
        plugin_suite.register("test/nondeterministic", _Nondeterministic, PENDULUM_SPEC, replace=True)
        yield


def test_the_kit_names_what_an_env_breaks(broken_envs, capsys):
    report = check_env("test/time-limited")
    assert [r.name for r in report.failed] == ["termination_vs_truncation"]
    assert "done fires at the time limit (step 200) in every rollout" in report.failed[0].detail
    with pytest.raises(AssertionError, match="FAIL termination_vs_truncation"):
        report.assert_passed()
    report = check_env("test/nondeterministic", only=["determinism"])
    assert "with the same key and random actions differ" in report.failed[0].detail
    assert cli.main(["check-env", "test/time-limited", "--check", "termination_vs_truncation"]) == 1
    assert "FAIL termination_vs_truncation" in capsys.readouterr().out
    assert cli.main(["check-env", "nope"]) == 2 and cli.main(["check-agent", "nope"]) == 2
    assert "unknown env name 'nope'" in capsys.readouterr().err
