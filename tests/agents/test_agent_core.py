"""The shared agent core: the JAX-free registry and agent options, one source for the learning
rate, fixed step sizes for the temperature, and optional agent work kept a real branch under vmap
by the engine's group-level flags."""

import functools
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from agents_reference import scalar_hparams
from rlscale_testing import jit_update, make_hparams, relative_difference, small_spec
from rlscale.agents import make_agent
from rlscale.agents.core import NStepTransition, Transition, UpdateContext
from rlscale.agents.spec import NetworkConfig
from rlscale.config import ConfigError, SweepConfig
from rlscale.engine.loop import GroupTrainer
from rlscale.plan import make_plan

NETWORK = NetworkConfig(hidden_width=16, hidden_depth=1)
MAX_BATCH = 32


@functools.cache
def _agent_and_update(algo: str):
    """`algo` on NETWORK and its jitted update, built once per module: `jit_update` makes a new
    function (so a new compile) at each call, and the tests of one agent run the same update."""
    agent = make_agent(algo, 3, 1, NETWORK)
    return agent, jit_update(agent)


def _batch(seed=0, n_step=False):
    rngs = jax.random.split(jax.random.PRNGKey(seed), 4)
    fields = dict(
        obs=jax.random.normal(rngs[0], (MAX_BATCH, 3)),
        action=jax.random.uniform(rngs[1], (MAX_BATCH, 1), minval=-0.9, maxval=0.9),
        reward=jax.random.normal(rngs[2], (MAX_BATCH,)),
        next_obs=jax.random.normal(rngs[3], (MAX_BATCH, 3)),
        termination=jnp.zeros(MAX_BATCH),
    )
    if n_step:
        return NStepTransition(**fields, discount=jnp.full(MAX_BATCH, 0.99**3))
    return Transition(**fields)


def test_algo_and_agent_options_validate_without_importing_jax():
    code = (
        "import sys\n"
        "from rlscale.agents import agent_names, option_errors\n"
        "import rlscale.config\n"
        "assert agent_names() == ('sac', 'bro', 'pql')\n"
        "errors = option_errors('bro', {'reset_schedule': 'weekly', 'bogus': 1})\n"
        "assert len(errors) == 2 and 'bogus' in errors[0] and 'reset_schedule' in errors[1], errors\n"
        "assert 'jax' not in sys.modules, 'importing the registry imported JAX'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_agent_table_of_a_sweep_file_is_validated_with_everything_else(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'algo = "bro"\nnum_envs = 0\n\n[agent]\nreset_schedule = "weekly"\nresets = true\n'
        'reset_at_env_steps = [50, 10]\nstd_multiplier = "big"\n'
    )
    with pytest.raises(ConfigError) as raised:
        SweepConfig.from_toml(path)
    messages = raised.value.errors
    assert "agent: unknown option 'resets'" in messages[0]
    assert "agent.std_multiplier must be a number, got 'big'" in messages
    assert any(m.startswith("agent.reset_schedule must be one of") for m in messages)
    assert any(m.startswith("agent.reset_at_env_steps must be a non-empty increasing") for m in messages)
    assert any(m.startswith("num_envs must be >= 1") for m in messages)


def test_agent_options_reach_the_compile_key_and_overrides_change_one_option(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'algo = "bro"\nhidden_width = 16\nhidden_depth = 1\n\n[agent]\nactor_hidden_width = 8\n'
        'reset_schedule = "env_steps"\nreset_at_env_steps = [300, 600]\n'
    )
    config = SweepConfig.from_toml(path, ["agent.critic_quantiles=4"])
    assert config.agent == {
        "actor_hidden_width": 8, "reset_schedule": "env_steps", "reset_at_env_steps": [300, 600],
        "critic_quantiles": 4,
    }
    (group,) = make_plan(config).groups
    assert group.spec.agent_options == (
        ("actor_hidden_width", 8), ("critic_quantiles", 4), ("reset_at_env_steps", (300, 600)),
        ("reset_schedule", "env_steps"),
    )
    hash(group.spec)
    # The parameter count is the configured agent's (actor width 8, 4 quantiles per critic head).
    spec = make_agent("bro", 3, 1, NetworkConfig(16, 1), actor_hidden_width=8, critic_quantiles=4)
    assert group.parameter_count == spec.parameter_count()
    assert SweepConfig(algo="sac").to_dict().get("agent") is None  # manifests of option-free sweeps


def test_temperature_steps_at_its_own_rate_whatever_eta():
    """Two configs that differ only in eta take the same first step of log alpha (Adam's first step
    is its fixed step size, 3e-4), while the networks step with eta. SAC's; BRO's temperature (and
    duals) by tests/agents/test_bro.py::test_temperature_and_duals_step_at_their_own_rates_whatever_eta."""
    agent, update = _agent_and_update("sac")
    alpha_steps, critic_steps = [], []
    for learning_rate in (1e-4, 3e-3):
        hparams = scalar_hparams(learning_rate=learning_rate, batch_size=MAX_BATCH)
        state = agent.init(jax.random.PRNGKey(0), hparams)
        new_state, _ = update(state, _batch(), jnp.ones(MAX_BATCH), hparams, jax.random.PRNGKey(1))
        alpha_steps.append(float(new_state.log_alpha - state.log_alpha))
        critic_steps.append(relative_difference(new_state.critic_params, state.critic_params))
    assert alpha_steps[0] == pytest.approx(alpha_steps[1], rel=1e-4)
    assert abs(alpha_steps[0]) == pytest.approx(3e-4, rel=1e-2)
    assert critic_steps[1] > 10 * critic_steps[0]


@pytest.mark.parametrize("algo", ["sac", "pql"])
def test_the_learning_rate_has_one_source(algo):
    """`update` steps with the rate `init` stored in the optimizer state; the hparams it is given
    do not change that (they are not a second, silently ignored source)."""
    agent, update = _agent_and_update(algo)
    batch = _batch(n_step=algo == "pql")
    state = agent.init(jax.random.PRNGKey(0), scalar_hparams(learning_rate=1e-3, batch_size=MAX_BATCH))
    mask = jnp.ones(MAX_BATCH)
    given = [update(state, batch, mask, scalar_hparams(learning_rate=rate, batch_size=MAX_BATCH), jax.random.PRNGKey(1))[0]
             for rate in (1e-3, 0.5)]
    assert relative_difference(given[1], given[0]) == 0.0
    assert float(given[0].critic_opt_state.hyperparams["learning_rate"]) == pytest.approx(1e-3)
    other = agent.init(jax.random.PRNGKey(0), scalar_hparams(learning_rate=1e-2, batch_size=MAX_BATCH))
    stepped = update(other, batch, mask, scalar_hparams(batch_size=MAX_BATCH), jax.random.PRNGKey(1))[0]
    assert relative_difference(stepped.critic_params, given[0].critic_params) > 0


def _count_conds(jaxpr, min_outputs: int = 0) -> int:
    """`cond` primitives with at least `min_outputs` outputs in a jaxpr, recursively (a cond under
    vmap with a per-config predicate is turned into a select of both branches and disappears)."""
    count = 0
    for eqn in jaxpr.eqns:
        count += eqn.primitive.name == "cond" and len(eqn.outvars) >= min_outputs
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                if hasattr(sub, "jaxpr") and hasattr(sub.jaxpr, "eqns"):
                    count += _count_conds(sub.jaxpr, min_outputs)
                elif hasattr(sub, "eqns"):
                    count += _count_conds(sub, min_outputs)
    return count


def _chunk_conds(algo, options, num_configs=2) -> int:
    spec = small_spec(algo=algo, network=NETWORK, num_configs=num_configs, agent_options=options,
                      max_batch_size=MAX_BATCH, update_slots=2)
    trainer = GroupTrainer(spec)
    hparams = make_hparams([1e-3] * num_configs, [MAX_BATCH] * num_configs, [1.0] * num_configs,
                           list(range(num_configs)))
    state = jax.eval_shape(trainer.init_fn, hparams)
    # Count only conds that return at least a whole network (PQL's actor branch, BRO's reset; the
    # engine's update-slot cond), not the small ones inside Flax's initialisers.
    network_leaves = len(jax.tree_util.tree_leaves(state.agent.actor_params))
    jaxpr = jax.make_jaxpr(trainer.train_chunk_fn)(state, 1).jaxpr
    return _count_conds(jaxpr, network_leaves)


@pytest.mark.parametrize(
    "algo, with_optional_work, without",
    [
        ("pql", (("actor_update_interval", 2),), (("actor_update_interval", 1),)),
        ("bro", (("critic_quantiles", 4), ("reset_interval", 5)), (("critic_quantiles", 4), ("reset_schedule", "none"))),
    ],
    ids=["pql-actor-interval", "bro-resets"],
)
def test_optional_agent_work_stays_a_real_branch_in_a_vmapped_group(algo, with_optional_work, without):
    """The engine reduces the agent's per-config `due` flags to one group flag outside the vmap,
    so PQL's delayed actor update and BRO's reset remain `cond`s (skipped when no config is due)
    instead of selects that compute both branches for every config at every update."""
    assert _chunk_conds(algo, with_optional_work) == _chunk_conds(algo, without) + 1


def test_a_per_config_flag_under_vmap_would_compute_both_branches():
    """Why the group flag: the same PQL update vmapped over 2 configs keeps its actor-update cond
    when the branch flag is one unbatched value, and loses it (both branches computed, then
    selected) when each config brings its own flag."""
    agent = make_agent("pql", 3, 1, NETWORK)
    hparams = make_hparams([1e-3, 1e-3], [MAX_BATCH] * 2, [1.0] * 2, [0, 1])
    states = jax.eval_shape(jax.vmap(agent.init), jax.random.split(jax.random.PRNGKey(0), 2), hparams)
    batches = jax.tree_util.tree_map(lambda x: jnp.stack([x, x]), _batch(n_step=True))
    masks, rngs = jnp.ones((2, MAX_BATCH)), jax.random.split(jax.random.PRNGKey(1), 2)
    due = {"actor": jnp.asarray([True, False])}

    def update(state, batch, mask, hparams, rng, due, group_due):
        return agent.update(state, batch, mask, hparams, rng, UpdateContext(jnp.int32(0), due, group_due))

    per_config = jax.make_jaxpr(jax.vmap(update))(states, batches, masks, hparams, rngs, due, due)
    group = jax.make_jaxpr(jax.vmap(update, in_axes=(0, 0, 0, 0, 0, 0, None)))(
        states, batches, masks, hparams, rngs, due, {"actor": jnp.bool_(True)}
    )
    assert _count_conds(per_config.jaxpr) == 0
    assert _count_conds(group.jaxpr) == 1


@pytest.mark.slow
def test_group_flags_give_the_same_training_with_map_and_vmap():
    """With config_axis = "map" configs run in lanes (config by config, or two of one σ and B
    together) inside the program; PQL's group-level actor flag must not change what a config
    computes: configs at different critic steps (UTD 1 and 2) end equal under all three."""
    results = []
    for axis, lane_width in (("vmap", 1), ("map", 1), ("map", 2)):
        spec = small_spec(algo="pql", network=NETWORK, agent_options=(("actor_hidden_width", 16),),
                          num_configs=4, max_batch_size=MAX_BATCH, update_slots=2, config_axis=axis,
                          batch_sizes=(16, MAX_BATCH) if axis == "map" else (), lane_width=lane_width)
        trainer = GroupTrainer(spec)
        state = trainer.init(make_hparams([1e-3, 3e-4, 5e-4, 1e-3], [MAX_BATCH, 16, MAX_BATCH, 16],
                                          [1.0, 2.0, 1.0, 2.0], [0, 1, 2, 3]))
        results.append(trainer.train_chunk(state, 120)[0].agent)
    assert relative_difference(results[1], results[0]) <= 1e-5
    assert relative_difference(results[2], results[0]) <= 1e-5
    assert int(results[0].critic_step[0]) != int(results[0].critic_step[1])
