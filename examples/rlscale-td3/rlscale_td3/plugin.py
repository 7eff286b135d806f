"""What rlscale reads when it validates a sweep file with `algo = "td3"`: the options and the
entry. No JAX here: the agent module is imported only when a sweep builds the agent."""

from __future__ import annotations

import dataclasses

from rlscale.agents import AgentEntry


@dataclasses.dataclass(frozen=True)
class TD3Options:
    """TD3's static options (the sweep file's `[agent]` table); presets from Fujimoto et al. 2018."""

    policy_delay: int = 2
    """Critic updates per actor (and target network) update."""
    exploration_noise: float = 0.1
    """Std of the Gaussian noise added to actions while collecting data (actions in [-1, 1])."""
    target_noise: float = 0.2
    """Std of the target-policy smoothing noise."""
    target_noise_clip: float = 0.5
    """Clip of the target-policy smoothing noise."""
    actor_hidden_width: int = 256
    actor_hidden_depth: int = 2

    def validate(self) -> list[str]:
        errors = []
        if self.policy_delay < 1:
            errors.append(f"policy_delay must be >= 1, got {self.policy_delay}")
        for name in ("exploration_noise", "target_noise", "target_noise_clip"):
            if getattr(self, name) < 0:
                errors.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("actor_hidden_width", "actor_hidden_depth"):
            if getattr(self, name) < 1:
                errors.append(f"{name} must be >= 1, got {getattr(self, name)}")
        return errors


AGENT = AgentEntry(
    name="td3",
    factory="rlscale_td3.agent:TD3Agent",
    options=TD3Options,
    summary="TD3 (Fujimoto et al., 2018): twin critics, target smoothing, delayed deterministic actor",
)
