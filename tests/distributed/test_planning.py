"""Cost estimates, the costliest-first worker schedule, the merge of group rows, executor choice."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from distributed_helpers import TWO_GROUP_SWEEP
from rlscale.config import ConfigError, SweepConfig
from rlscale.engine.sharding import padded_num_configs
from rlscale.engine.spec import resolve_config_axis
from rlscale.plan import decide_config_axis, make_plan, schedule_on_workers
from rlscale.run.checkpoint import RunDirectoryError
from rlscale.run.executors import LocalExecutor, group_directory, make_executor, merge_group_rows

UNEVEN_SWEEP = {
    "env": "pendulum",
    "utd": [0.5, 1.0, 4.0],
    "batch_size": [32, 128],
    "seeds": [0, 1],
    "env_steps": 2000,
    "eval_interval": 500,
    "hidden_width": 16,
    "max_group_size": 2,
}


def _cost_model_flops(group, learning_starts: int) -> float:
    """The planner's cost model written out independently: every executed update slot computes K
    padded batches (6 FLOPs per parameter and row), acting one forward pass per env step."""
    configs = len(group.configs)
    learning_steps = group.env_steps - learning_starts
    rows = configs * max(c.batch_size for c in group.configs) * max(c.utd for c in group.configs) * learning_steps
    return group.parameter_count * (6 * rows + 2 * configs * group.env_steps)


def test_costliest_group_goes_first_and_costs_follow_the_work():
    config = SweepConfig.from_dict(UNEVEN_SWEEP)
    plan = make_plan(config)
    costs = [plan.estimated_flops(group) for group in plan.groups]
    assert costs == pytest.approx([_cost_model_flops(group, config.learning_starts) for group in plan.groups])
    order = plan.costliest_first()
    assert sorted(order) == list(range(len(plan.groups)))
    assert [costs[i] for i in order] == sorted(costs, reverse=True)
    # The costliest group is the one with the largest UTD and batch size.
    most = plan.groups[order[0]]
    assert max(run.utd for run in most.configs) == 4.0 and most.spec.max_batch_size == 128
    assert [g["estimated_flops"] for g in plan.summary()] == pytest.approx(costs)


def test_map_lanes_divide_every_utd_and_batch_size_class():
    """A map group's lane width is the largest that divides the number of configs of each (σ, B)."""
    base = {**UNEVEN_SWEEP, "config_axis": "map", "max_group_size": 64}
    (group,) = make_plan(SweepConfig.from_dict(base)).groups
    assert group.spec.lane_width == 2  # 3 σ x 2 B, 2 seeds each
    explicit = [(1.0, seed) for seed in range(4)] + [(2.0, seed) for seed in range(6)]
    uneven = {key: value for key, value in base.items() if key not in ("utd", "batch_size", "seeds")}
    uneven["configs"] = [{"utd": utd, "batch_size": 32, "learning_rate": 1e-3, "seed": seed} for utd, seed in explicit]
    (group,) = make_plan(SweepConfig.from_dict(uneven)).groups
    assert group.spec.lane_width == 2  # gcd(4, 6)
    (group,) = make_plan(SweepConfig.from_dict({**base, "config_axis": "vmap", "max_wasted_fraction": 1.0})).groups
    assert group.spec.lane_width == 1
    # At width 256 a CPU gains nothing from batching: config by config, unless one lane is the
    # whole group (updated in place); an accelerator batches.
    wide = SweepConfig.from_dict({**base, "hidden_width": 256})
    (group,) = make_plan(wide, platform="cpu", num_devices=1).groups
    assert group.spec.lane_width == 1
    (group,) = make_plan(wide, platform="gpu", num_devices=1).groups
    assert group.spec.lane_width == 2
    one_pair = SweepConfig.from_dict({**base, "hidden_width": 256, "utd": [1.0], "batch_size": [32]})
    (group,) = make_plan(one_pair, platform="cpu", num_devices=1).groups
    assert group.spec.lane_width == len(group.configs) == 2


def _optimal_makespan(costs: list[float], workers: int) -> float:
    """The smallest makespan of any assignment of `costs` to `workers` (exhaustive search)."""
    best = math.inf
    for assignment in itertools.product(range(workers), repeat=len(costs)):
        loads = [0.0] * workers
        for cost, worker in zip(costs, assignment):
            loads[worker] += cost
        best = min(best, max(loads))
    return best


@pytest.mark.parametrize(
    "sweep",
    [UNEVEN_SWEEP, {**UNEVEN_SWEEP, "utd": [1.0], "batch_size": [32], "seeds": [0, 1, 2, 3], "max_group_size": 1}],
    ids=["uneven groups", "four equal groups"],
)
def test_worker_schedule_is_within_the_lpt_guarantee(sweep):
    plan = make_plan(SweepConfig.from_dict(sweep))
    costs = [plan.estimated_flops(group) for group in plan.groups]
    total = sum(costs)
    one = schedule_on_workers(plan, 1)
    assert one.makespan == pytest.approx(total) and one.speedup == pytest.approx(1.0)
    for workers in (2, 3, 64):
        schedule = schedule_on_workers(plan, workers)
        assert sorted(i for worker in schedule.assignments for i in worker) == list(range(len(plan.groups)))
        assert sum(schedule.loads) == pytest.approx(total)
        # Graham's bound for LPT: makespan <= (4/3 - 1/(3m)) * OPT, with OPT found exhaustively.
        optimum = _optimal_makespan(costs, min(workers, len(costs)))
        assert max(max(costs), total / workers) <= optimum + 1e-6
        assert optimum - 1e-6 <= schedule.makespan <= (4 / 3 - 1 / (3 * workers)) * optimum + 1e-6
    with pytest.raises(ValueError, match="num_workers"):
        schedule_on_workers(plan, 0)


def test_four_equal_groups_on_three_workers_take_two_group_times():
    sweep = {**UNEVEN_SWEEP, "utd": [1.0], "batch_size": [32], "seeds": [0, 1, 2, 3], "max_group_size": 1}
    plan = make_plan(SweepConfig.from_dict(sweep))
    cost = plan.estimated_flops(plan.groups[0])
    assert len(plan.groups) == 4
    schedule = schedule_on_workers(plan, 3)
    # Above 4/3 of the lower bound max(largest, total / m) = 4/3 group times, and optimal.
    assert schedule.makespan == pytest.approx(2 * cost)
    assert sorted(len(worker) for worker in schedule.assignments) == [1, 1, 2]


def _write_group_rows(out, index, rows):
    directory = group_directory(out, index)
    directory.mkdir(parents=True)
    (directory / "evals.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_merge_keeps_group_order_and_rejects_missing_or_repeated_rows(tmp_path):
    config = SweepConfig.from_dict(TWO_GROUP_SWEEP)
    plan = make_plan(config)
    expected = []
    for index, group in enumerate(plan.groups):
        rows = [
            {"config_id": run.config_id, "group": index, "env_step": step, "return": float(index)}
            for step in range(250, 1001, 250)
            for run in group.configs
        ]
        _write_group_rows(tmp_path, index, rows)
        expected.extend(rows)
    assert merge_group_rows(tmp_path, [1, 0], config) == 8
    merged = [json.loads(line) for line in (tmp_path / "evals.jsonl").read_text().splitlines()]
    assert merged == expected

    group_file = group_directory(tmp_path, 1) / "evals.jsonl"
    lines = group_file.read_text().splitlines()
    group_file.write_text("\n".join(lines + lines[-1:]) + "\n")
    with pytest.raises(RunDirectoryError, match="5 rows \\(4 distinct\\)"):
        merge_group_rows(tmp_path, [0, 1], config)
    group_file.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(RunDirectoryError, match="exactly 4"):
        merge_group_rows(tmp_path, [0, 1], config)


def test_executor_choice():
    assert isinstance(make_executor("local"), LocalExecutor)
    with pytest.raises(ConfigError, match="--address 'head:6379' is for --executor ray"):
        make_executor("local", "head:6379")
    with pytest.raises(ConfigError, match="executor must be one of local, ray"):
        make_executor("slurm")


def test_several_devices_vectorize_and_pad_the_config_axis_to_a_multiple_of_them():
    """The planning half of sharding (the training half, a sharded group against the same group on
    one device, is tests/distributed/test_sharding.py in `make test-slow`)."""
    assert [padded_num_configs(configs, 2) for configs in (1, 2, 3, 4)] == [2, 2, 4, 4]
    assert padded_num_configs(5, 4) == 8
    assert resolve_config_axis("auto", "cpu", 2) == "vmap" and resolve_config_axis("auto", "cpu", 1) == "map"
    config = SweepConfig.from_dict({**TWO_GROUP_SWEEP, "config_axis": "auto"})
    decision = decide_config_axis(config, platform="cpu", num_devices=2)
    assert (decision.config_axis, decision.num_devices) == ("vmap", 2)
    assert {group.spec.config_axis for group in make_plan(config, platform="cpu", num_devices=2).groups} == {"vmap"}


def _write_toml(path, values: dict) -> None:
    path.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()))


def test_dry_run_prints_costs_and_their_split(tmp_path, capsys):
    from rlscale.cli import main

    config = tmp_path / "sweep.toml"
    _write_toml(config, UNEVEN_SWEEP)
    assert main(["sweep", str(config), "--dry-run", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    groups = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert all(group["estimated_flops"] > 0 for group in groups)
    assert "estimated cost:" in out and "64 device(s): busiest" in out
    assert not (tmp_path / "run").exists()


def test_address_without_ray_executor_is_an_error(tmp_path, capsys):
    from rlscale.cli import main

    config = tmp_path / "sweep.toml"
    _write_toml(config, UNEVEN_SWEEP)
    assert main(["sweep", str(config), "--out", str(tmp_path / "run"), "--address", "head:6379"]) == 2
    assert "--address 'head:6379' is for --executor ray" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
