"""A group's config axis sharded across two (forced host) devices trains like the unsharded group.

Runs in a subprocess because the device count (XLA_FLAGS=--xla_force_host_platform_device_count=2)
is fixed when JAX starts. K = 3 configs are padded to 4 (two per device). It compiles two groups in
a fresh process (about a minute on 2 cores), so it runs in `make test-slow`; the planning of a sharded
group (padding, device count in the manifest) stays in the default suite (test_planning.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from distributed_helpers import REPO

SHARDED_VS_UNSHARDED = """
import json, sys
import jax, numpy as np
sys.path.insert(0, "tests")
from rlscale_testing import make_hparams, small_spec
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.sharding import ShardedTrainer, get_group_trainer

spec = small_spec(num_configs=3, network=NetworkConfig(16, 2), max_batch_size=32, update_slots=2,
                  learning_starts=100, buffer_capacity=500)
hparams = make_hparams([1e-3, 3e-4, 1e-3], [32, 16, 8], [1.0, 2.0, 0.5], [0, 1, 2])
runs = {}
for name, trainer in (("sharded", get_group_trainer(spec)), ("single", get_trainer(spec))):
    state = trainer.init(hparams)
    state, stats = trainer.train_chunk(state, 150)
    runs[name] = (state, stats, trainer.evaluate(state, 0))
sharded, single = runs["sharded"], runs["single"]
# The runner's calibrated estimate works with several devices (calibrated on one of them).
from rlscale.config import SweepConfig
from rlscale.plan import make_plan
from rlscale.run.estimate import estimate_plan
plan = make_plan(SweepConfig(env="pendulum", utd=[1.0], batch_size=[16], seeds=[0, 1, 2], env_steps=200,
                             eval_interval=100, learning_starts=50, buffer_capacity=200, hidden_width=16))
estimated_s = [estimate.seconds for estimate in estimate_plan(plan, 200, 100, run_here=True).values()]
agent_leaves = jax.tree_util.tree_leaves(sharded[0].agent)
flat = lambda leaves: np.concatenate([np.asarray(x, np.float64)[:3].ravel() for x in leaves])
a, b = flat(agent_leaves), flat(jax.tree_util.tree_leaves(single[0].agent))
# A map group in one lane of 3 configs, padded to 4 on two devices, trains as on one device.
lane_spec = small_spec(num_configs=3, network=NetworkConfig(16, 2), max_batch_size=16, batch_sizes=(16,),
                       update_slots=1, learning_starts=100, buffer_capacity=500, config_axis="map", lane_width=3)
lane_hparams = make_hparams([1e-3, 3e-4, 2e-3], [16] * 3, [1.0] * 3, [0, 1, 2])
lane_runs = [trainer.train_chunk(trainer.init(lane_hparams), 150)
             for trainer in (get_group_trainer(lane_spec), get_trainer(lane_spec))]
lane_a, lane_b = (flat(jax.tree_util.tree_leaves(state.agent)) for state, _ in lane_runs)
print(json.dumps({
    "num_devices": len(jax.local_devices()),
    "is_sharded_trainer": isinstance(get_group_trainer(spec), ShardedTrainer),
    "devices_per_agent_leaf": sorted({len(x.sharding.device_set) for x in agent_leaves}),
    "shard_rows": sorted({s.data.shape[0] for x in agent_leaves for s in x.addressable_shards}),
    "state_rows": int(sharded[0].iteration.shape[0]),
    "grad_steps": [np.asarray(r[1].grad_steps).tolist() for r in (sharded, single)],
    "returns": [np.asarray(r[2]).tolist() for r in (sharded, single)],
    "relative_difference": float(np.linalg.norm(a - b) / np.linalg.norm(b)),
    "bitwise": bool((a == b).all()),
    "estimated_s": estimated_s,
    "lane_grad_steps": [np.asarray(run[1].grad_steps).tolist() for run in lane_runs],
    "lane_relative_difference": float(np.linalg.norm(lane_a - lane_b) / np.linalg.norm(lane_b)),
}))
"""


@pytest.mark.slow
def test_sharded_group_matches_single_device_group(tmp_path):
    env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu", RLSCALE_CACHE_DIR=str(tmp_path))
    completed = subprocess.run(
        [sys.executable, "-c", SHARDED_VS_UNSHARDED],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])

    assert result["num_devices"] == 2 and result["is_sharded_trainer"]
    assert len(result["estimated_s"]) == 1 and result["estimated_s"][0] > 0
    # Every agent leaf is split across both devices, two (padded) configs on each.
    assert result["devices_per_agent_leaf"] == [2]
    assert result["shard_rows"] == [2]
    assert result["state_rows"] == 4
    sharded_steps, single_steps = result["grad_steps"]
    assert sharded_steps == single_steps == [50, 100, 25]
    # Not bitwise (a K/2-config program rounds differently in the last bits): within the
    # project's equivalence tolerance.
    assert result["relative_difference"] <= 1e-5
    sharded_returns, single_returns = result["returns"]
    assert len(sharded_returns) == 3
    for sharded_return, single_return in zip(sharded_returns, single_returns):
        assert abs(sharded_return - single_return) <= 1e-5 * abs(single_return)
    # A sharded map group in lanes trains as on one device.
    sharded_lane_steps, single_lane_steps = result["lane_grad_steps"]
    assert sharded_lane_steps == single_lane_steps == [50, 50, 50]
    assert result["lane_relative_difference"] <= 1e-5
