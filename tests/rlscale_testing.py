"""Small engine set-ups shared by the engine, agent and distributed tests."""

import json

import jax
import numpy as np

from rlscale.agents.core import HyperParams, single_config_context
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.spec import GroupSpec

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


def relative_difference(a, b) -> float:
    """||a - b|| / ||b|| over all leaves of two pytrees."""
    a_leaves = [np.asarray(x, np.float64).ravel() for x in jax.tree_util.tree_leaves(a)]
    b_leaves = [np.asarray(x, np.float64).ravel() for x in jax.tree_util.tree_leaves(b)]
    a_flat, b_flat = np.concatenate(a_leaves), np.concatenate(b_leaves)
    return float(np.linalg.norm(a_flat - b_flat) / np.linalg.norm(b_flat))


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


def jit_update(agent):
    """`agent.update` of one config updated on its own (its `due` flags are the group's), jitted:
    update(state, batch, mask, hparams, rng, env_step=0) -> (state, metrics)."""

    def update(state, batch, mask, hparams, rng, env_step=0):
        context = single_config_context(agent, state, hparams, env_step)
        return agent.update(state, batch, mask, hparams, rng, context)

    return jax.jit(update)
