"""Small engine set-ups shared by the engine, agent and distributed tests, a recorder of JAX's
trace and compile events, a synthetic (σ, N) sweep of SAC on pendulum shared by the (σ, N)
recommend, validate and study tests, a check of a study directory's files, and the sweep files the
repository ships."""

import contextlib
import json
from pathlib import Path

import jax

from rlscale.agents.core import HyperParams
from rlscale.agents.spec import NetworkConfig
from rlscale.engine.loop import get_trainer
from rlscale.engine.spec import GroupSpec
from rlscale.run.lock import LOCK_FILE
from rlscale.run.study_runner import REPORT_FILE, STAGE_OUTPUTS, STATE_FILE, STUDY_COPY, SUPERSEDED_PREFIX
from rlscale.testing.conformance import jit_update, relative_difference  # noqa: F401 (shared with the tests)

REPO = Path(__file__).resolve().parents[1]


def shipped_sweep_files() -> list[Path]:
    """The sweep TOMLs under fits/ and rlscale/configs/, study files left out (a `studies/` folder:
    tests/cli/test_study.py) and so are the files of a committed study run directory (a folder holding
    `study_state.json`, e.g. a `rlscale snapshot`: the study wrote them, its study file is tested)."""
    return sorted(
        path
        for path in [*REPO.glob("fits/**/*.toml"), *REPO.glob("rlscale/configs/*.toml")]
        if "studies" not in path.relative_to(REPO).parts
        and not any((folder / STATE_FILE).exists() for folder in path.parents if REPO in folder.parents)
    )


SMALL_NETWORK = NetworkConfig(hidden_width=32, hidden_depth=2)

make_hparams = HyperParams.stack
JAXPR_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
"""The jax.monitoring events JAX records for every trace of a jitted function and every XLA compile."""


@contextlib.contextmanager
def recorded_compile_events(*events: str):
    """A list that receives (event, function name) for each of `events` JAX records inside the
    block (by default, every XLA compile)."""
    wanted = events or (BACKEND_COMPILE_EVENT,)
    recorded = []

    def listener(event, seconds, **kwargs):
        if event in wanted:
            recorded.append((event, kwargs.get("fun_name")))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield recorded
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


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


PENDULUM_WIDTHS = (16, 32, 64, 128)
"""Hidden widths (depth 2) of the synthetic (σ, N) pendulum sweep."""


def pendulum_sigma_n_laws():
    """Known (σ, N) laws of one env, `pendulum`, scaled to SAC critics of `PENDULUM_WIDTHS`."""
    from rlscale.laws.synthetic import SyntheticSigmaNLaws

    one = lambda value: {"pendulum": value}  # noqa: E731
    return SyntheticSigmaNLaws(
        c=one(5000.0), a=one(0.6), b=one(2000.0), batch_a=one(1000.0), batch_b=one(2000.0), learning_rate_beta=one(1e-3 ** (1 / 0.3))
    )


def pendulum_sigma_n_table(widths=PENDULUM_WIDTHS, utds=(1.0, 2.0, 4.0, 8.0, 16.0), n_seeds: int = 4, seed: int = 4):
    """Rows as `rlscale sweep` writes them (algo sac, agent options, return bounds) of a synthetic
    sweep of `pendulum_sigma_n_laws()`: one config per (σ, N) at the true B*, η*, N the SAC critic's
    parameter count at each width (depth 2), 200 evaluations per run."""
    from rlscale.laws.synthetic import synthetic_sigma_n_sweep
    from rlscale.run.critic_width import critic_parameter_count

    sizes = tuple(float(critic_parameter_count("sac", "pendulum", width, 2)) for width in widths)
    table = synthetic_sigma_n_sweep(
        pendulum_sigma_n_laws(), utds=utds, model_sizes=sizes, batch_sizes=None, learning_rates=None, n_seeds=n_seeds, n_evals=200,
        suite="jax", seed=seed,
    )
    return table.assign(algo="sac", agent_options="{}", return_low=0.0, return_high=1000.0)


def unknown_study_files(out) -> set[str]:
    """Entries of a study directory `out` that no stage is known to write (`STAGE_OUTPUTS` and the
    fixed names): a stage output missing from STAGE_OUTPUTS would stay in place when a raised
    extension budget supersedes the later stages."""
    known = {STATE_FILE, STUDY_COPY, REPORT_FILE, LOCK_FILE, "grid", *(name for names in STAGE_OUTPUTS.values() for name in names)}
    return {
        path.name for path in out.iterdir()
        if path.name not in known and not path.name.startswith(("grid_round_", SUPERSEDED_PREFIX))
    }

