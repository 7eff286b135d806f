"""Value-based agents. Each exposes, for ONE config (the engine vmaps over configs):

- `init(rng, hparams) -> state`
- `act(state, obs f32[..., obs], rng, deterministic: bool) -> action f32[..., act]`
- `update(state, batch, mask f32[B_max], hparams, rng) -> (state, metrics)`
- `parameter_count() -> int`

`batch` is a `Transition[B_max]`, or a `replay.NStepTransition[B_max]` for agents that define an
`n_step` attribute (PQL).

- "sac": Soft Actor-Critic (twin critics, tanh-Gaussian actor, automatic temperature).
- "bro": BRO (Nauman et al., 2024): BroNet, AdamW, periodic resets, optimistic exploration.
- "pql": PQL-style learner (Li et al., 2023): deterministic actor with mixed per-env noise, n-step
  clipped double-Q, separate actor/critic update ratio.
"""

from __future__ import annotations

import dataclasses

from rlscale.agents.bro.agent import BROAgent
from rlscale.agents.pql.agent import PQLAgent
from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.networks import NetworkConfig

AGENT_CLASSES = {"sac": SACAgent, "bro": BROAgent, "pql": PQLAgent}
ALGORITHMS = tuple(AGENT_CLASSES)


def make_agent(
    algo: str, observation_size: int, action_size: int, network: NetworkConfig, **options
):
    """The agent named `algo` for the given sizes, with `network` as its (critic) network.

    `options` set the agent's other static fields (e.g. reset_interval=0 for BRO). Raises ValueError
    for an unknown algo or option.
    """
    if algo not in AGENT_CLASSES:
        raise ValueError(f"algo must be one of {ALGORITHMS}, got {algo!r}")
    agent_class = AGENT_CLASSES[algo]
    known = {f.name for f in dataclasses.fields(agent_class)} - {
        "observation_size", "action_size", "network"
    }
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown {algo} options {unknown}; known: {sorted(known)}")
    return agent_class(observation_size, action_size, network, **options)
