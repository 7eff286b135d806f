"""Value-based agents on one shared core (`rlscale.agents.core`), found by name in the registry.

- "sac": Soft Actor-Critic (twin critics, tanh-Gaussian actor, automatic temperature).
- "bro": BRO (Nauman et al., 2024): BroNet, quantile critic, AdamW, resets, optimistic exploration.
- "pql": PQL (Li et al., 2023): deterministic actor with mixed per-env noise, n-step clipped
  double Q with target-policy smoothing, separate actor/critic update ratio.

Importing this package does not import JAX (the registry and the options are JAX-free); an agent's
own modules are imported when `make_agent` builds it. What an agent must provide is the `Agent`
protocol in `rlscale.agents.core`. Your own agent: `register(name, factory, options)` here, or an
`rlscale.agents` entry point of an installed package (README, "Your own agent / env");
`rlscale check-agent NAME` runs the conformance checks the built-in agents pass.
"""

from rlscale.agents.registry import (
    AgentEntry,
    agent_names,
    algo_error,
    build_agent_options,
    get_entry,
    make_agent,
    option_errors,
    register,
)
from rlscale.agents.spec import NetworkConfig

__all__ = [
    "AgentEntry",
    "NetworkConfig",
    "agent_names",
    "algo_error",
    "build_agent_options",
    "get_entry",
    "make_agent",
    "option_errors",
    "register",
]
