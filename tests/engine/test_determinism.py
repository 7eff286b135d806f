"""Seeds: different seeds differ, the same seed reproduces exactly. (That changing hyperparameter
values never retraces is the conformance kit's no_retrace check: tests/testing.)"""

import jax
import numpy as np

from rlscale.engine.loop import get_trainer
from rlscale_testing import make_hparams, small_spec


def _train(trainer, hparams, iterations=150):
    state = trainer.init(hparams)
    state, _ = trainer.train_chunk(state, iterations)
    return state


def test_same_seed_identical_and_different_seeds_differ():
    trainer = get_trainer(small_spec(num_configs=2))
    hparams = make_hparams([1e-3, 1e-3], [64, 64], [1.0, 1.0], [5, 6])
    first = _train(trainer, hparams)
    second = _train(trainer, hparams)
    for a, b in zip(jax.tree_util.tree_leaves(first), jax.tree_util.tree_leaves(second)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    params = jax.tree_util.tree_leaves(first.agent.actor_params)
    assert any(not np.array_equal(np.asarray(p[0]), np.asarray(p[1])) for p in params)


def test_equal_specs_share_one_trainer():
    assert get_trainer(small_spec(num_configs=2)) is get_trainer(small_spec(num_configs=2))
