"""Seeds: different seeds differ, the same seed reproduces exactly; changing values never retraces."""

import chex
import jax
import numpy as np
import pytest

from rlscale.engine.loop import GroupTrainer, get_trainer
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


SMALL_ACTOR = (("actor_hidden_depth", 1), ("actor_hidden_width", 16))


@pytest.mark.parametrize(
    "algo, options",
    [
        ("sac", ()),
        ("pql", SMALL_ACTOR),
        # BRO with resets due during the chunks (every 30 gradient steps): its compile is long on CPU.
        pytest.param("bro", (*SMALL_ACTOR, ("critic_quantiles", 4), ("reset_interval", 30)), marks=pytest.mark.slow),
    ],
)
def test_changing_hyperparameter_values_does_not_retrace(algo, options):
    trainer = GroupTrainer(
        small_spec(algo=algo, agent_options=options, num_configs=3, max_batch_size=64, update_slots=2)
    )
    chex.clear_trace_counter()  # counts are kept per function, across the parametrized agents
    init = jax.jit(chex.assert_max_traces(trainer.init_fn, n=1))
    chunk = jax.jit(chex.assert_max_traces(trainer.train_chunk_fn, n=1), static_argnums=1)
    evaluate = jax.jit(chex.assert_max_traces(trainer.evaluate_fn, n=1))
    for learning_rate, batch_size, utd, seed in [
        ([1e-3, 3e-4, 1e-4], [64, 32, 16], [1.0, 2.0, 0.5], [0, 1, 2]),
        ([2e-3, 1e-3, 5e-4], [8, 64, 40], [0.25, 1.5, 2.0], [7, 8, 9]),
    ]:
        state = init(make_hparams(learning_rate, batch_size, utd, seed))
        state, _ = chunk(state, 120)
        evaluate(state, 0)
        evaluate(state, 1)


def test_equal_specs_share_one_trainer():
    assert get_trainer(small_spec(num_configs=2)) is get_trainer(small_spec(num_configs=2))
