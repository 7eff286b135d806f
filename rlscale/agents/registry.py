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
import importlib
from typing import Any, Callable, Mapping

from rlscale.agents.bro.options import BROOptions
from rlscale.agents.pql.options import PQL_TAU, PQLOptions
from rlscale.agents.sac.options import SACOptions
from rlscale.agents.spec import NetworkConfig, build_options

DEFAULT_TAU = 0.005
"""Polyak rate of the target critic used by SAC and BRO (and by both reference repos)."""


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
    summary: str = ""
    """One line for `rlscale` listings and docs."""

    def resolve_factory(self) -> Callable[..., Any]:
        if callable(self.factory):
            return self.factory
        module, _, attribute = self.factory.partition(":")
        return getattr(importlib.import_module(module), attribute)


_REGISTRY: dict[str, AgentEntry] = {
    entry.name: entry
    for entry in (
        AgentEntry(
            "sac", "rlscale.agents.sac.agent:SACAgent", SACOptions,
            summary="Soft Actor-Critic: twin critics, tanh-Gaussian actor, automatic temperature",
        ),
        AgentEntry(
            "bro", "rlscale.agents.bro.agent:BROAgent", BROOptions,
            summary="BRO (Nauman et al., 2024): BroNet, quantile critic, AdamW, resets, optimistic exploration",
        ),
        AgentEntry(
            "pql", "rlscale.agents.pql.agent:PQLAgent", PQLOptions, tau=PQL_TAU,
            summary="PQL (Li et al., 2023): deterministic actor, mixed noise, n-step clipped double Q",
        ),
    )
}


def agent_names() -> tuple[str, ...]:
    """Registered agent names, in registration order."""
    return tuple(_REGISTRY)


def get_entry(name: str) -> AgentEntry:
    """The entry named `name`; ValueError naming the known agents otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"algo must be one of {agent_names()}, got {name!r}")
    return _REGISTRY[name]


def option_errors(algo: str, values: Mapping[str, Any]) -> list[str]:
    """Every problem with `values` as options of `algo` (empty when they are valid or algo is
    unknown: an unknown algo is reported on its own)."""
    if algo not in _REGISTRY:
        return []
    return build_options(_REGISTRY[algo].options, values)[1]


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
