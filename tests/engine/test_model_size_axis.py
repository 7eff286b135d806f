"""Model size (critic/actor width and depth) as a sweep axis: config and plan. The rows and manifest
of a sweep over two sizes (each size's parameter counts) are tested through the command line in
tests/cli/test_td_overfitting_cli.py."""

import pytest

from rlscale.agents import make_agent
from rlscale.agents.spec import NetworkConfig
from rlscale.config import ConfigError, SweepConfig
from rlscale.envs.registry import get_spec
from rlscale.plan import make_plan


def _tiny(**overrides) -> SweepConfig:
    values = dict(
        env="pendulum",
        utd=[1.0],
        batch_size=[32],
        seeds=[0],
        env_steps=400,
        eval_interval=200,
        eval_episodes=1,
        learning_starts=100,
        buffer_capacity=400,
        hidden_depth=1,
        model_sizes=[{"hidden_width": 8}, {"hidden_width": 16}],
        checkpoint_every_seconds=0.0,
    )
    values.update(overrides)
    return SweepConfig.from_dict(values)


def _parameter_count(width: int, depth: int) -> int:
    spec = get_spec("pendulum")
    return make_agent("sac", spec.observation_size, spec.action_size, NetworkConfig(width, depth)).parameter_count()


def _twin_critic_count(width: int, depth: int) -> int:
    """Parameters of SAC's two pendulum critics (obs 3 + action 1 in, `depth` hidden layers of
    `width`, one output), weights and biases counted by hand: the paper's N."""
    spec = get_spec("pendulum")
    sizes = [spec.observation_size + spec.action_size] + [width] * depth + [1]
    return 2 * sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def test_model_size_is_the_outermost_grid_axis():
    config = _tiny(utd=[1.0, 2.0], model_sizes=[{"hidden_width": 8}, {"hidden_width": 16, "hidden_depth": 2}])
    runs = config.run_configs()
    assert [r.config_id for r in runs] == [0, 1, 2, 3]
    assert [(r.hidden_width, r.hidden_depth, r.utd) for r in runs] == [
        (8, 1, 1.0), (8, 1, 2.0), (16, 2, 1.0), (16, 2, 2.0)
    ]


def test_without_model_sizes_the_grid_is_unchanged():
    config = SweepConfig(utd=[1.0, 2.0], hidden_width=64, hidden_depth=3, max_wasted_fraction=1.0)
    runs = config.run_configs()
    assert [(r.config_id, r.utd, r.hidden_width, r.hidden_depth) for r in runs] == [(0, 1.0, 64, 3), (1, 2.0, 64, 3)]
    assert "model_sizes" not in config.to_dict()
    plan = make_plan(config)
    assert len(plan.groups) == 1 and plan.parameter_count == _parameter_count(64, 3)


def test_each_size_gets_its_own_groups_with_its_parameter_count():
    # max_wasted_fraction = 1 would put everything into one group if sizes could share one.
    plan = make_plan(_tiny(utd=[1.0, 2.0], max_wasted_fraction=1.0))
    assert len(plan.groups) == 2
    networks = [group.spec.network for group in plan.groups]
    assert [n.hidden_width for n in networks] == [8, 16]
    counts = [group.parameter_count for group in plan.groups]
    assert counts == [_parameter_count(8, 1), _parameter_count(16, 1)] and counts[0] < counts[1]
    for group in plan.groups:
        assert {(c.hidden_width, c.hidden_depth) for c in group.configs} == {
            (group.spec.network.hidden_width, group.spec.network.hidden_depth)
        }
    critic_counts = [group.critic_parameter_count for group in plan.groups]
    assert critic_counts == [_twin_critic_count(8, 1), _twin_critic_count(16, 1)]
    assert plan.parameter_count == max(counts) and plan.critic_parameter_counts == critic_counts
    summary = plan.summary()
    assert [g["parameter_count"] for g in summary] == counts
    assert [g["critic_parameter_count"] for g in summary] == critic_counts
    assert [g["hidden_width"] for g in summary] == [8, 16]
    # Same configs otherwise: cost and memory scale with the group's own parameter count.
    assert plan.estimated_flops(plan.groups[0]) < plan.estimated_flops(plan.groups[1])
    assert plan.memory_bytes(plan.groups[0]) < plan.memory_bytes(plan.groups[1])


@pytest.mark.parametrize(
    "model_sizes, needle",
    [
        ([{"hidden_width": 0}], "model_sizes[0].hidden_width must be an integer >= 1, got 0"),
        ([{"hidden_width": 8}, {"hidden_depth": -1}], "model_sizes[1].hidden_depth must be an integer >= 1, got -1"),
        ([{"hidden_width": 8.5}], "model_sizes[0].hidden_width must be an integer >= 1, got 8.5"),
        ([{"width": 8}], "model_sizes[0]: unknown key 'width'"),
        ([{"hidden_width": 8}, {"hidden_width": 8, "hidden_depth": 1}], "model_sizes[1]"),
        ([5], "model_sizes must be a list of tables"),
    ],
)
def test_bad_model_sizes_name_the_field(model_sizes, needle):
    with pytest.raises(ConfigError) as error:
        _tiny(model_sizes=model_sizes)
    assert any(needle in message for message in error.value.errors), error.value.errors


def test_explicit_config_sizes_conflict_with_model_sizes():
    with pytest.raises(ConfigError, match=r"configs\[0\].hidden_width"):
        _tiny(configs=[{"utd": 1.0, "batch_size": 32, "learning_rate": 3e-4, "hidden_width": 8}])
    config = _tiny(
        model_sizes=[],
        configs=[
            {"utd": 1.0, "batch_size": 32, "learning_rate": 3e-4, "hidden_width": 8},
            {"utd": 1.0, "batch_size": 32, "learning_rate": 3e-4},
        ],
    )
    assert [r.hidden_width for r in config.run_configs()] == [8, 256]
    assert len(make_plan(config).groups) == 2
