"""The agent registry: names -> (options dataclass, agent factory), without importing JAX.

`rlscale.config` validates a sweep's `algo` and `[agent]` table here before anything is compiled;
an agent's module (and with it JAX) is imported only when `make_agent` builds one.

An entry's factory is called as `factory(observation_size, action_size, network, options)` and
returns an object satisfying `rlscale.agents.core.Agent`; `options` is an instance of the entry's
options dataclass (see `rlscale.agents.spec`). A factory given as "package.module:attribute" is
imported on first use.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from rlscale.agents.bro.options import BRONET_WIDTH, BROOptions
from rlscale.agents.pql.options import PQL_TAU, PQLOptions
from rlscale.agents.sac.options import SACOptions
from rlscale.agents.spec import NetworkConfig, build_options
from rlscale.plugins import AGENT_GROUP, Plugins, name_and_factory_errors, resolve_factory

DEFAULT_TAU = 0.005
"""Polyak rate of the target critic used by SAC and BRO (and by both reference repos)."""
DEFAULT_HIDDEN_WIDTH = 256
"""Critic width of an agent that names no preset: SAC's 256, as in the paper's Gym runs."""


@dataclasses.dataclass(frozen=True)
class AgentEntry:
    """One registered agent."""

    name: str
    """The `algo` value of a sweep file."""
    factory: str | Callable[..., Any]
    """Builds the agent: a callable, or "module:attribute" naming one (imported lazily)."""
    options: type
    """Frozen dataclass of the agent's static options (a JAX-free module)."""
    tau: float = DEFAULT_TAU
    """The preset Polyak rate, used when a sweep leaves `tau` unset."""
    hidden_width: int = DEFAULT_HIDDEN_WIDTH
    """The preset critic width, used when a sweep leaves `hidden_width` unset."""
    summary: str = ""
    """One line for `rlscale` listings and docs."""

    def resolve_factory(self) -> Callable[..., Any]:
        """The factory, importing "module:attribute"; ValueError naming the agent when that fails."""
        return resolve_factory(self.factory, f"agent {self.name!r}")

    def errors(self) -> list[str]:
        """Every problem with the entry itself (not with a sweep's values for it)."""
        errors = name_and_factory_errors(self.name, self.factory)
        if not (dataclasses.is_dataclass(self.options) and isinstance(self.options, type)):
            errors.append(f"options must be a dataclass type (see rlscale.agents.spec), got {self.options!r}")
        elif not callable(getattr(self.options, "validate", None)):
            errors.append(f"options {self.options.__name__} must have a validate() -> list[str] method")
        else:
            try:
                self.options()
            except Exception as error:
                errors.append(f"options {self.options.__name__}() must build with every field at its default: {error}")
        if not (isinstance(self.tau, (int, float)) and 0 < self.tau <= 1):
            errors.append(f"tau must be in (0, 1], got {self.tau!r}")
        if not (isinstance(self.hidden_width, int) and not isinstance(self.hidden_width, bool) and self.hidden_width >= 1):
            errors.append(f"hidden_width must be an integer >= 1, got {self.hidden_width!r}")
        return [f"agent {self.name!r}: {message}" for message in errors]


_BUILT_IN: dict[str, AgentEntry] = {
    entry.name: entry
    for entry in (
        AgentEntry(
            "sac", "rlscale.agents.sac.agent:SACAgent", SACOptions,
            summary="Soft Actor-Critic: twin critics, tanh-Gaussian actor, automatic temperature",
        ),
        AgentEntry(
            "bro", "rlscale.agents.bro.agent:BROAgent", BROOptions, hidden_width=BRONET_WIDTH,
            summary="BRO (Nauman et al., 2024): BroNet, quantile critic, AdamW, resets, optimistic exploration",
        ),
        AgentEntry(
            "pql", "rlscale.agents.pql.agent:PQLAgent", PQLOptions, tau=PQL_TAU,
            summary="PQL (Li et al., 2023): deterministic actor, mixed noise, n-step clipped double Q",
        ),
    )
}
PLUGINS = Plugins(AGENT_GROUP, "agent", AgentEntry, "rlscale.agents.AgentEntry", _BUILT_IN.__contains__)
"""The agents registered in this process or installed as plug-ins."""


def register(
    name: str,
    factory: str | Callable[..., Any],
    options: type,
    tau: float = DEFAULT_TAU,
    summary: str = "",
    replace: bool = False,
    hidden_width: int = DEFAULT_HIDDEN_WIDTH,
) -> AgentEntry:
    """Makes agent `name` available as `algo = name` (in this process) and returns its entry.

    factory: `factory(observation_size, action_size, network, options) -> Agent`, or
    "package.module:attribute" naming it (imported when an agent is built). options: the frozen
    dataclass of the agent's static options, in a JAX-free module (see rlscale.agents.spec).
    ValueError listing every problem with the entry, or when `name` is built in or taken and not `replace`.
    """
    return PLUGINS.add(AgentEntry(name, factory, options, tau=tau, hidden_width=hidden_width, summary=summary), replace)


def _entry(name: str) -> AgentEntry | None:
    """The usable agent `name` (built in, registered or installed), or None."""
    return _BUILT_IN.get(name) or PLUGINS.get(name)


def agent_names() -> tuple[str, ...]:
    """Usable agent names: built-in ones first, then registered and installed plug-ins."""
    return (*_BUILT_IN, *(name for name in PLUGINS.entries() if name not in _BUILT_IN))


def algo_error(name: str) -> str | None:
    """Why `name` is not a usable `algo` (unknown, or a broken plug-in); None when it is."""
    if _entry(name) is not None:
        return None
    broken = PLUGINS.broken_reason(name)
    if broken:
        return f"algo {name!r}: {broken}"
    return (
        f"algo must be one of {agent_names()}, got {name!r} (an agent of an installed package is "
        f"found through its {AGENT_GROUP!r} entry point; see README, 'Your own agent / env')"
    )


def get_entry(name: str) -> AgentEntry:
    """The entry named `name`; ValueError naming the known agents (or the plug-in's fault) otherwise."""
    error = algo_error(name)
    if error:
        raise ValueError(error)
    return _entry(name)


def option_errors(algo: str, values: Mapping[str, Any]) -> list[str]:
    """Every problem with `values` as options of `algo` (empty when they are valid or algo is
    unusable: that is reported on its own, by `algo_error`)."""
    if algo_error(algo):
        return []
    return build_options(_entry(algo).options, values)[1]


def num_envs_errors(algo: str, values: Mapping[str, Any], num_envs: int) -> list[str]:
    """What `algo` with options `values` needs of a config's env count: its options' optional
    `num_envs_errors(num_envs) -> list[str]` (PQL's mixed noise needs several envs); [] for options
    without one. Call with valid options."""
    check = getattr(build_agent_options(algo, values), "num_envs_errors", None)
    return [] if check is None else list(check(num_envs))


def build_agent_options(algo: str, values: Mapping[str, Any]):
    """The options dataclass of `algo` built from `values`; ValueError listing every problem."""
    options, errors = build_options(get_entry(algo).options, values)
    if errors:
        raise ValueError(f"invalid {algo} options: " + "; ".join(errors))
    return options


def make_agent(algo: str, observation_size: int, action_size: int, network: NetworkConfig, **options):
    """The agent named `algo` for the given sizes, with `network` as its (critic) network and
    `options` (names of its options dataclass) over the preset. ValueError for an unknown algo,
    option or value."""
    entry = get_entry(algo)
    built = build_agent_options(algo, options)
    errors = network.validate()
    if errors:
        raise ValueError(f"invalid {algo} network: " + "; ".join(errors))
    return entry.resolve_factory()(observation_size, action_size, network, built)
