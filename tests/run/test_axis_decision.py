"""The config axis is decided once, by a rule of the devices, and recorded: a resumed sweep keeps
the recorded decision whatever this process's devices would decide."""

from __future__ import annotations

import json

from rlscale.config import SweepConfig
from rlscale.plan import AxisDecision, decide_config_axis
from rlscale.run.runner import run_sweep

# Two groups of two configs, each group mixing σ = 0.5 and 1 (explicit configs keep that order):
# vmap computes the σ = 1 slot for both configs (measured waste 0.25), map only what each needs (0).
MIXED_SIGMA = dict(
    env="pendulum",
    configs=[{"utd": utd, "batch_size": 32, "learning_rate": 1e-3} for utd in (0.5, 1.0, 0.5, 1.0)],
    seeds=[0],
    env_steps=200,
    eval_interval=200,
    eval_episodes=1,
    learning_starts=100,
    hidden_width=16,
    max_group_size=2,
    max_wasted_fraction=1.0,
    checkpoint_every_seconds=0.0,
)
VMAP_WASTE = 0.25
"""1 - mean σ / max σ of a group of σ = 0.5 and 1."""


def test_a_resumed_sweep_keeps_the_recorded_axis(tmp_path):
    config = SweepConfig.from_dict(MIXED_SIGMA)
    # This CPU's rule decides map (nothing wasted): only the recorded decision can make it vmap.
    assert decide_config_axis(config).config_axis == "map"
    gpu_decision = AxisDecision("auto", "vmap", "gpu", 1, "auto on 1 gpu device(s): vmap")
    # The first process (say, on a GPU) trains group 0 and records its decision ...
    (first,) = run_sweep(config, tmp_path / "resumed", groups=[0], axis_decision=gpu_decision)
    assert first.measured_wasted_fraction == VMAP_WASTE
    # ... the same command on this CPU continues with it: group 1 runs under vmap too.
    results = run_sweep(config, tmp_path / "resumed")
    assert [result.measured_wasted_fraction for result in results] == [VMAP_WASTE, VMAP_WASTE]
    manifest = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert AxisDecision.from_dict(manifest["config_axis"]) == gpu_decision
    assert {group["config_axis"] for group in manifest["plan"]} == {"vmap"}
