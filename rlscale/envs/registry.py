"""The environment registry: stable names -> (EnvSpec, Env). Asking for a spec imports no JAX (the
built-in suites are static tables); building an env, or loading a reference, does.

Names:
  - 'pendulum', 'cartpole-balance', 'pointmass': tiny pure-JAX envs (suite 'jax').
  - 'brax/<name>': Brax locomotion envs (suite 'brax'); option `backend` ('mjx' by default).
  - 'dmc/<domain>-<task>': MuJoCo Playground's DM Control suite with its JAX implementation
    (suite 'dmc').

An `Env` is any object with `reset(rng) -> State` and `step(state, action) -> State`, pure,
unbatched and jittable; `action` is f32[action_size] in [-1, 1]. The State has `.obs`
(f32[observation_size]), `.reward` (f32[]), `.done` (f32[], 1.0 only on a true termination,
never on the time limit) and `.info` (a dict). The engine vmaps, auto-resets, and truncates at
`episode_length` agent steps.

Options (`make_env(name, **options)`) are hashable scalars (str, int, float, bool) so that the
engine can key its compile cache on (name, options). Every suite accepts `action_repeat` (int >= 1,
default 1); `episode_length` in the spec is the suite's physics-step horizon divided by it.

Beyond the built-in suites: plug-in envs (suite 'plugin', `rlscale.envs.plugin_suite`:
`register(name, factory, spec)` or an `rlscale.envs` entry point) and envs named by reference
(suite 'reference', `rlscale.envs.reference_suite`: 'brax-class:package.module:ClassName',
'playground:<Name>', 'gymnax:<Name>').
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

from rlscale.envs import plugin_suite
from rlscale.envs.references import PREFIXES, is_reference
from rlscale.envs.suites import BUILT_IN_SUITES

if TYPE_CHECKING:
    import jax


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """Static description of a registered env, as the engine and the fit layer need it."""

    name: str  # stable registry name: 'pendulum', 'brax/halfcheetah', 'dmc/cartpole-swingup'
    suite: str  # 'jax' | 'brax' | 'dmc' | 'plugin' | 'reference'
    observation_size: int
    action_size: int
    episode_length: int  # agent steps per episode (after action repeat); time-limit truncation point
    action_repeat: int  # physics/env steps per agent step (already applied inside the env object)
    return_low: float  # raw episode return mapped to 0 (normalization to 0..1000 for the fit layer)
    return_high: float  # raw episode return mapped to 1000
    normalization_source: str  # where the constants come from


class Env(Protocol):
    """A pure, unbatched, jittable environment."""

    def reset(self, rng: jax.Array) -> Any:
        """rng: a PRNG key -> State with obs f32[observation_size], reward f32[], done f32[]."""

    def step(self, state: Any, action: jax.Array) -> Any:
        """State, f32[action_size] in [-1, 1] -> next State (done = 1.0 only on termination)."""


class UnknownEnvError(ValueError):
    """An env name that is neither registered, nor a plug-in, nor a reference; `short` is the
    message without the listing of every registered name."""

    def __init__(self, message: str, short: str | None = None):
        super().__init__(message)
        self.short = short or message


def env_names() -> list[str]:
    """Every registered name: pure-JAX envs first, then 'brax/...', 'dmc/...', then plug-ins.
    References ('brax-class:...', 'playground:...', 'gymnax:...') are open-ended and not listed."""
    return [name for suite in BUILT_IN_SUITES for name in suite.names()] + plugin_suite.names()


def _suite_for(name: str):
    """The suite module of `name` (a reference loads its suite, and JAX, only now)."""
    for suite in BUILT_IN_SUITES:
        if name in suite.names():
            return suite
    if is_reference(name):
        from rlscale.envs import reference_suite

        return reference_suite
    if plugin_suite.PLUGINS.get(name) is not None:
        return plugin_suite
    broken = plugin_suite.PLUGINS.broken_reason(name)
    if broken:
        raise UnknownEnvError(broken)
    references = ", ".join(repr(prefix + "...") for prefix in PREFIXES)
    raise UnknownEnvError(
        f"unknown env name {name!r}; available: {', '.join(env_names())}; or name one by reference: {references}",
        short=f"env {name!r} is unknown; `rlscale envs` lists them (or name one by reference: {references})",
    )


def _check_option_values(name: str, options: dict[str, Any]) -> None:
    for key, value in options.items():
        if not isinstance(value, (str, int, float, bool)):
            raise ValueError(
                f"option {key!r} for env {name!r} must be a str, int, float or bool "
                f"(hashable, part of the compile key); got {type(value).__name__}"
            )


def get_spec(name: str, **options: Any) -> EnvSpec:
    """The EnvSpec of `name` under `options`, without building the env (cheap)."""
    suite = _suite_for(name)
    _check_option_values(name, options)
    return EnvSpec(**suite.spec_fields(name, **options))


def make_env(name: str, **options: Any) -> tuple[EnvSpec, Env]:
    """Builds env `name` with `options`; returns (its EnvSpec, the Env)."""
    spec = get_spec(name, **options)
    return spec, _suite_for(name).build(name, **options)
