"""Cost estimates, the costliest-first worker schedule, the merge of group rows, executor choice."""

from __future__ import annotations

import json

import pytest

from distributed_helpers import TWO_GROUP_SWEEP
from rlscale.config import ConfigError, SweepConfig
from rlscale.plan import make_plan, schedule_on_workers
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


def test_costliest_group_goes_first_and_costs_follow_the_work():
    plan = make_plan(SweepConfig.from_dict(UNEVEN_SWEEP))
    costs = [plan.estimated_flops(group) for group in plan.groups]
    order = plan.costliest_first()
    assert sorted(order) == list(range(len(plan.groups)))
    assert [costs[i] for i in order] == sorted(costs, reverse=True)
    # The costliest group is the one with the largest UTD and batch size.
    most = plan.groups[order[0]]
    assert max(run.utd for run in most.configs) == 4.0 and most.spec.max_batch_size == 128
    assert [g["estimated_flops"] for g in plan.summary()] == costs


def test_worker_schedule_balances_and_bounds_the_speedup():
    plan = make_plan(SweepConfig.from_dict(UNEVEN_SWEEP))
    total = sum(plan.estimated_flops(group) for group in plan.groups)
    one = schedule_on_workers(plan, 1)
    assert one.makespan == pytest.approx(total) and one.speedup == pytest.approx(1.0)
    for workers in (2, 3, 64):
        schedule = schedule_on_workers(plan, workers)
        assert sorted(i for worker in schedule.assignments for i in worker) == list(range(len(plan.groups)))
        assert sum(schedule.loads) == pytest.approx(total)
        # The busiest worker holds at least the largest group and at most LPT's 4/3 bound.
        bound = max(max(plan.estimated_flops(group) for group in plan.groups), total / workers)
        assert bound <= schedule.makespan <= 4 / 3 * bound + 1e-6
    with pytest.raises(ValueError, match="num_workers"):
        schedule_on_workers(plan, 0)


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
