"""Evaluation returns: rewards after an episode's end never reach the return (even non-finite
ones), and a non-finite return marks its config diverged instead of writing a NaN row."""

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

import rlscale.run.runner as runner
from rlscale.config import SweepConfig
from rlscale.engine.loop import GroupTrainer
from rlscale.laws.table import validate_table
from rlscale.run.progress import PlainProgress
from rlscale.run.store import read_evals
from rlscale_testing import make_hparams, small_spec

STEPS_TO_TERMINATION = 3


@flax.struct.dataclass
class _CountdownState:
    obs: jax.Array
    reward: jax.Array
    done: jax.Array
    steps: jax.Array


class _CountdownEnv:
    """Pendulum-sized env that terminates after 3 steps of reward 1 and returns NaN rewards after
    that (as a physics state may once an episode has ended)."""

    def reset(self, rng):
        return _CountdownState(jnp.zeros(3), jnp.float32(0.0), jnp.float32(0.0), jnp.int32(0))

    def step(self, state, action):
        steps = state.steps + 1
        reward = jnp.where(steps > STEPS_TO_TERMINATION, jnp.nan, 1.0)
        done = (steps >= STEPS_TO_TERMINATION).astype(jnp.float32)
        return _CountdownState(state.obs + action.sum(), reward, done, steps)


def test_rewards_after_termination_never_reach_the_return():
    trainer = GroupTrainer(small_spec(num_configs=2))
    trainer.env = _CountdownEnv()  # before the first (tracing) call
    state = trainer.init(make_hparams([1e-3, 1e-3], [64, 64], [1.0, 1.0], [0, 1]))
    np.testing.assert_array_equal(np.asarray(trainer.evaluate(state, 0)), [3.0, 3.0])


SWEEP = {
    "env": "pendulum", "utd": [0.5, 1.0], "batch_size": [32], "learning_rate": [1e-3], "seeds": [0, 1],
    "env_steps": 600, "eval_interval": 200, "eval_episodes": 1, "learning_starts": 100,
    "buffer_capacity": 1000, "hidden_width": 16, "checkpoint_every_seconds": 0.0,
}
POISONED_CONFIG, POISONED_EVAL = 1, 1


class _PoisonedEvaluation:
    """A trainer whose evaluation of one config returns NaN from one evaluation on."""

    def __init__(self, trainer):
        self.trainer = trainer

    def __getattr__(self, name):
        return getattr(self.trainer, name)

    def evaluate(self, state, eval_index):
        returns = np.array(self.trainer.evaluate(state, eval_index))
        if eval_index >= POISONED_EVAL:
            returns[POISONED_CONFIG] = np.nan
        return returns


def test_non_finite_return_marks_the_config_diverged(tmp_path, monkeypatch):
    get_group_trainer = runner.get_group_trainer
    monkeypatch.setattr(runner, "get_group_trainer", lambda spec: _PoisonedEvaluation(get_group_trainer(spec)))
    (result,) = runner.run_sweep(SweepConfig.from_dict(SWEEP), tmp_path, progress=PlainProgress())
    assert result.diverged_config_ids == [POISONED_CONFIG]

    rows = read_evals(tmp_path)
    poisoned = rows[rows.config_id == POISONED_CONFIG].sort_values("env_step")
    diverged_at = (POISONED_EVAL + 1) * SWEEP["eval_interval"]
    assert poisoned["return"].isna().tolist() == [False, True, True]
    assert poisoned["diverged_at_env_step"].tolist()[1:] == [diverged_at, diverged_at]
    # Frozen from its divergence on: no further gradient steps.
    assert poisoned["grad_step"].tolist()[1] == poisoned["grad_step"].tolist()[2]
    others = rows[rows.config_id != POISONED_CONFIG]
    assert others["return"].notna().all() and others["diverged_at_env_step"].isna().all()
    # The fit layer takes the table: the config's rows without a return are dropped.
    clean = validate_table(rows)
    assert len(clean) == len(rows) - 2 and np.isfinite(clean["return"]).all()
    assert len(pd.read_parquet(tmp_path / "evals.parquet")) == len(rows)
    # SAC never resets; the sweep set no agent options.
    assert rows["reset_env_steps"].map(len).eq(0).all() and rows["agent_options"].eq("{}").all()
