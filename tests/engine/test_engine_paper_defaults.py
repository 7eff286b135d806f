"""The engine's defaults follow the paper and its authors' code (issue 27): N is the critics'
parameter count, an unset width is the agent's preset (BroNet 512 for BRO), an unset replay is the
paper's 1M transitions as far as a run fills it, and PQL explores with its mixed noise."""

from __future__ import annotations

import dataclasses
import json

import jax
import numpy as np
import pytest

from rlscale.agents import AgentEntry, make_agent, registry
from rlscale.agents.core import HyperParams
from rlscale.agents.pql.agent import PQLAgent
from rlscale.agents.pql.options import PQLOptions
from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.options import SACOptions
from rlscale.agents.spec import NetworkConfig
from rlscale.config import PAPER_REPLAY_CAPACITY, ConfigError, SweepConfig
from rlscale.plan import decide_config_axis, make_plan
from rlscale.run.runner import MODEL_SIZE_WHOLE_AGENT, run_sweep, write_manifest
from rlscale.run.store import read_evals

GYM_OBSERVATION_SIZE, GYM_ACTION_SIZE = 17, 6
"""HalfCheetah's sizes: the paper's Gym runs (SAC 256 x 2, N = 1.5e5)."""
PAPER_GYM_MODEL_SIZE = 1.5e5


def _mlp_count(sizes: list[int]) -> int:
    """Weights and biases of dense layers between consecutive `sizes`."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def test_model_size_is_the_critics_parameter_count_as_in_the_paper():
    agent = make_agent("sac", GYM_OBSERVATION_SIZE, GYM_ACTION_SIZE, NetworkConfig(256, 2))
    twin_critic = 2 * _mlp_count([GYM_OBSERVATION_SIZE + GYM_ACTION_SIZE, 256, 256, 1])
    actor = _mlp_count([GYM_OBSERVATION_SIZE, 256, 256, 2 * GYM_ACTION_SIZE])
    assert agent.critic_parameter_count() == twin_critic == 144_386
    assert agent.parameter_count() == twin_critic + actor
    # The paper's Gym N (1.5e5, two significant digits) is the critics, not the whole agent (2.2e5).
    assert abs(twin_critic / PAPER_GYM_MODEL_SIZE - 1) < 0.05
    assert abs(agent.parameter_count() / PAPER_GYM_MODEL_SIZE - 1) > 0.4
    for algo, network in (("bro", NetworkConfig(16, 2)), ("pql", NetworkConfig(16, 2))):
        other = make_agent(algo, 3, 1, network)
        assert 0 < other.critic_parameter_count() < other.parameter_count()


@dataclasses.dataclass(frozen=True)
class _AgentWithoutCriticCount:
    """A plug-in agent that implements the protocol but not the optional critic_parameter_count."""

    agent: SACAgent

    @property
    def batch_spec(self):
        return self.agent.batch_spec

    def init(self, rng, hparams):
        return self.agent.init(rng, hparams)

    def act(self, state, obs, rng, deterministic):
        return self.agent.act(state, obs, rng, deterministic)

    def due(self, state, hparams, env_step):
        return self.agent.due(state, hparams, env_step)

    def update(self, state, batch, mask, hparams, rng, context):
        return self.agent.update(state, batch, mask, hparams, rng, context)

    def parameter_count(self) -> int:
        return self.agent.parameter_count()


def test_a_plug_in_without_a_critic_count_has_its_whole_agent_as_model_size(tmp_path):
    entry = AgentEntry(
        "sac-without-critic-count",
        lambda observation_size, action_size, network, options: _AgentWithoutCriticCount(
            SACAgent(observation_size, action_size, network, options)
        ),
        SACOptions,
    )
    with registry.PLUGINS.restored():
        registry.PLUGINS.add(entry)
        config = SweepConfig(algo=entry.name, hidden_width=16, env_steps=1000)
        plan = make_plan(config)
        (group,) = plan.groups
        assert group.critic_parameter_count == group.parameter_count and plan.critic_counts_are_whole_agent
        write_manifest(tmp_path, config, plan, decide_config_axis(config))
        assert json.loads((tmp_path / "manifest.json").read_text())["model_size"] == MODEL_SIZE_WHOLE_AGENT


@pytest.mark.parametrize("algo, width", [("sac", 256), ("bro", 512), ("pql", 256)])
def test_an_unset_width_is_the_agents_preset(algo, width):
    extra = {"num_envs": 2} if algo == "pql" else {}
    config = SweepConfig(algo=algo, **extra)
    assert config.resolved_hidden_width == width
    assert {run.hidden_width for run in config.run_configs()} == {width}
    assert config.to_dict()["hidden_width"] == width  # the manifest records the width trained
    assert any(note.startswith(f"hidden_width unset: {width}, the {algo} preset") for note in config.default_notes())
    # An explicit width wins, and model_sizes take the preset where they name no width.
    assert SweepConfig(algo=algo, hidden_width=64, **extra).run_configs()[0].hidden_width == 64
    sizes = SweepConfig(algo=algo, model_sizes=[{"hidden_depth": 1}, {"hidden_width": 128}], **extra)
    assert sizes.model_size_list() == [(width, 1), (128, 2)]
    assert not any(note.startswith("hidden_width") for note in SweepConfig(algo=algo, hidden_width=64, **extra).default_notes())


def test_a_bro_sweep_without_a_width_plans_bronet_512():
    (group,) = make_plan(SweepConfig(algo="bro", env_steps=2000)).groups
    assert group.spec.network.hidden_width == 512


@pytest.mark.parametrize(
    "values, capacity",
    [
        ({"env_steps": 20_000}, 20_000),  # a 20k-step sweep allocates 20k rows, never 1M
        ({"env_steps": 1_000_000, "eval_interval": 10_000}, PAPER_REPLAY_CAPACITY),
        ({"env_steps": 2_000_000, "eval_interval": 10_000}, PAPER_REPLAY_CAPACITY),
        ({"env_steps": 3_000_000, "eval_interval": 3_000, "num_envs": 3}, 999_999),  # a multiple of num_envs
        ({"env_steps": 1_000, "batch_size": [2_048]}, 2_048),  # room for the largest batch
    ],
)
def test_an_unset_replay_is_the_papers_million_as_far_as_the_run_fills_it(values, capacity):
    config = SweepConfig(**values)
    assert config.resolved_buffer_capacity == capacity
    assert config.to_dict()["buffer_capacity"] == capacity
    assert {group.spec.buffer_capacity for group in make_plan(config).groups} == {capacity}
    notes = config.default_notes()
    assert any(note.startswith(f"buffer_capacity unset: {capacity} transitions per config") for note in notes)
    evicts = config.env_steps > capacity
    assert any(note.startswith("replay: each config collects") for note in notes) == evicts


def test_a_run_longer_than_its_explicit_replay_says_so():
    config = SweepConfig(env_steps=20_000, buffer_capacity=5_000)
    assert config.resolved_buffer_capacity == 5_000
    assert config.default_notes()[-1] == (
        "replay: each config collects 20000 transitions, more than its buffer_capacity 5000: the oldest "
        "are evicted from env step 5001 on"
    )


def test_a_replay_as_long_as_the_run_trains_exactly_as_a_larger_one(tmp_path):
    """A replay's samples depend only on what it holds: a run that never fills its buffer gives the
    rows of one with a 4x larger buffer (what min(1M, env_steps) relies on for the paper's 1M)."""
    values = dict(
        env="pendulum", utd=[2.0], batch_size=[32], seeds=[0], env_steps=600, eval_interval=300,
        eval_episodes=1, learning_starts=100, hidden_width=16, checkpoint_every_seconds=0.0,
    )
    rows = {}
    for name, capacity in (("default", None), ("larger", 2_400)):
        config = SweepConfig(**values, buffer_capacity=capacity)
        run_sweep(config, tmp_path / name)
        rows[name] = read_evals(tmp_path / name)[["env_step", "grad_step", "return"]]
    assert SweepConfig(**values).resolved_buffer_capacity == 600
    assert rows["default"].equals(rows["larger"])


def test_pql_refuses_one_env_for_its_mixed_noise():
    with pytest.raises(ConfigError) as raised:
        SweepConfig.from_dict({"algo": "pql"})
    (message,) = raised.value.errors
    assert message.startswith('num_envs must be >= 2 for algo = "pql", got 1: PQL explores with mixed noise')
    assert "explore at std 0.05 only" in message and "agent.noise_scale_min = agent.noise_scale_max" in message
    SweepConfig.from_dict({"algo": "pql", "num_envs": 2})
    # One fixed std needs no mix of envs.
    SweepConfig.from_dict({"algo": "pql", "agent": {"noise_scale_min": 0.2, "noise_scale_max": 0.2}})


def test_pql_explores_each_env_at_its_own_std_from_min_to_max():
    """Env i of n acts with noise of the i-th of n stds linearly spaced over [min, max], as
    Improbable-AI/pql's add_mixed_normal_noise (a max below the action clip keeps clipping out)."""
    num_envs, samples = 4, 4_000
    agent = PQLAgent(3, 1, NetworkConfig(8, 1), PQLOptions(noise_scale_min=0.05, noise_scale_max=0.3))
    state = agent.init(jax.random.PRNGKey(0), HyperParams.single())
    obs = np.zeros((num_envs, 3), np.float32)
    mean = np.asarray(agent.act(state, obs, jax.random.PRNGKey(1), True))
    keys = jax.random.split(jax.random.PRNGKey(2), samples)
    actions = np.asarray(jax.vmap(lambda key: agent.act(state, obs, key, False))(keys))
    measured = (actions - mean).std(axis=0)[:, 0]
    np.testing.assert_allclose(measured, np.linspace(0.05, 0.3, num_envs), rtol=0.05)
