"""Small engine set-ups shared by the engine, agent and distributed tests."""

import json

import jax

from rlscale.agents.core import HyperParams
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import GroupSpec
from rlscale.testing.conformance import jit_update, relative_difference  # noqa: F401 (shared with the tests)

SMALL_NETWORK = NetworkConfig(hidden_width=32, hidden_depth=2)

make_hparams = HyperParams.stack


def small_spec(**overrides) -> GroupSpec:
    """A cheap pendulum group spec; keyword arguments override its fields."""
    values = dict(
        env="pendulum",
        network=SMALL_NETWORK,
        num_configs=1,
        max_batch_size=64,
        update_slots=1,
        learning_starts=100,
        buffer_capacity=1000,
        eval_episodes=2,
    )
    values.update(overrides)
    return GroupSpec(**values)


def config_of(tree, index: int):
    """Config `index`'s part of a group's pytree (every leaf has leading axis K)."""
    return jax.tree_util.tree_map(lambda leaf: leaf[index], tree)


def trained_alone(spec: GroupSpec, index: int, columns, iterations: int):
    """Config `index` of a group, given by its hyperparameter `columns` (learning rates, batch
    sizes, UTDs, seeds), trained alone under `spec` (a group of one) for `iterations`: (state, stats)."""
    trainer = get_trainer(spec)
    state = trainer.init(make_hparams(*([column[index]] for column in columns)))
    return trainer.train_chunk(state, iterations)


def toml_value(value) -> str:
    """A TOML literal (numbers, strings, booleans, lists and inline tables), e.g. for `--set`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


def toml_text(values: dict) -> str:
    """A TOML document of one `key = value` line per entry of `values` (tables written inline)."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in values.items())
