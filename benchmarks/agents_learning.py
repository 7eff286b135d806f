"""Does a preset learn no worse than the alternative it replaced? Learning curves on pendulum.

For each variant, one group of `SEEDS` configs (same eta, B = 128, UTD 1) trains for
`ENV_STEPS` env steps with `EVAL_INTERVAL`-step chunks; every chunk ends in a deterministic
evaluation. Variants: BRO's preset (100-quantile critic, pessimism 0) against the scalar twin
critic with clipped double Q (pessimism 1) it had before. Widths are small (critic and actors
64 x 1 block) so the whole comparison runs in minutes on a 2-core CPU.

`python -m benchmarks.agents_learning` prints one JSON line per variant: the mean and per-seed
return at every evaluation.
"""

from __future__ import annotations

import json

import numpy as np

from rlscale.agents.core import HyperParams
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import GroupSpec

SEEDS = (0, 1, 2)
ENV_STEPS = 6_000
EVAL_INTERVAL = 1_000
LEARNING_STARTS = 1_000
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
WIDTH = 64
VARIANTS = (
    ("bro", "preset (100 quantiles, pessimism 0)", ()),
    ("bro", "scalar critic, pessimism 1", (("critic_quantiles", 0), ("pessimism", 1.0))),
)


def learning_curve(algo: str, options: tuple) -> dict:
    """Eval returns f32[evals, seeds] of one group of len(SEEDS) configs."""
    options = tuple(sorted(options + (("actor_hidden_width", WIDTH),)))
    spec = GroupSpec(
        env="pendulum", algo=algo, network=NetworkConfig(WIDTH, 1), agent_options=options,
        num_configs=len(SEEDS), num_envs=1, buffer_capacity=ENV_STEPS, max_batch_size=BATCH_SIZE,
        update_slots=1, learning_starts=LEARNING_STARTS, eval_episodes=5,
    )
    trainer = get_trainer(spec)
    k = len(SEEDS)
    state = trainer.init(HyperParams.stack([LEARNING_RATE] * k, [BATCH_SIZE] * k, [1.0] * k, list(SEEDS)))
    returns = []
    for index in range(ENV_STEPS // EVAL_INTERVAL):
        state, _ = trainer.train_chunk(state, EVAL_INTERVAL)
        returns.append(np.asarray(trainer.evaluate(state, index)).tolist())
    return {"env_steps": [EVAL_INTERVAL * (i + 1) for i in range(len(returns))], "returns": returns}


if __name__ == "__main__":
    for algo, label, options in VARIANTS:
        curve = learning_curve(algo, options)
        means = [round(float(np.mean(r)), 1) for r in curve["returns"]]
        print(json.dumps({"algo": algo, "variant": label, "env_steps": curve["env_steps"],
                          "mean_return": means, "returns": curve["returns"]}))
