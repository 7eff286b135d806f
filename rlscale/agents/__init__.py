"""Value-based agents. Each exposes, for ONE config (the engine vmaps over configs):

- `init(rng, hparams) -> state`
- `act(state, obs f32[..., obs], rng, deterministic: bool) -> action f32[..., act]`
- `update(state, batch: Transition[B_max], mask f32[B_max], hparams, rng) -> (state, metrics)`
- `parameter_count() -> int`
"""

from __future__ import annotations

from rlscale.agents.sac.agent import SACAgent
from rlscale.agents.sac.networks import NetworkConfig

ALGORITHMS = ("sac",)


def make_agent(algo: str, observation_size: int, action_size: int, network: NetworkConfig):
    """The agent named `algo` for the given sizes; ValueError listing ALGORITHMS otherwise."""
    if algo == "sac":
        return SACAgent(observation_size, action_size, network)
    raise ValueError(f"algo must be one of {ALGORITHMS}, got {algo!r}")
