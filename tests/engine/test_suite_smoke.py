"""The engine trains on one env of every suite: pure JAX, Brax (generalized and MJX), DMC (MJX).

The physics suites are slow-marked here, as is their training (with a checkpoint and resume) through
the real CLI in tests/reliability/test_suites_resume.py: the default suite trains pure JAX only, and
steps DMC's and Brax's envs under jit and vmap in tests/envs/test_dmc.py and tests/envs/test_brax.py.
"""

import jax
import numpy as np
import pytest

from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale_testing import make_hparams, small_spec

SUITE_ENVS = [
    pytest.param("pendulum", (), id="jax-pendulum"),
    pytest.param(
        "brax/inverted_pendulum", (("backend", "generalized"),), id="brax-generalized", marks=pytest.mark.slow
    ),
    pytest.param("dmc/cartpole-swingup", (), id="dmc-mjx", marks=pytest.mark.slow),
    pytest.param(
        "brax/inverted_pendulum", (("backend", "mjx"),), id="brax-mjx", marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("env, options", SUITE_ENVS)
def test_a_few_hundred_training_steps(env, options):
    spec = small_spec(
        env=env, env_options=options, network=NetworkConfig(16, 1), num_configs=2,
        max_batch_size=32, update_slots=2, learning_starts=100, buffer_capacity=400, eval_episodes=1,
    )
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams([1e-3, 3e-4], [32, 16], [1.0, 2.0], [0, 1]))
    state, stats = trainer.train_chunk(state, 300)
    returns = np.asarray(trainer.evaluate(state, 0))
    assert np.asarray(stats.grad_steps).tolist() == [200, 400]
    assert np.all(np.isfinite(returns))
    assert np.all(np.asarray(state.diverged_iteration) == -1)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(state.agent))
    assert int(state.replay.size[0]) == 300
