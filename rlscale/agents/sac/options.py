"""SAC's static options (JAX-free: `rlscale.config` validates a sweep's `[agent]` table with it)."""

from __future__ import annotations

import dataclasses
import math

SAC_TEMPERATURE_LEARNING_RATE = 3e-4
"""Adam step size of the temperature, fixed (not the swept eta): Brax's SAC
(google/brax, brax/training/agents/sac/train.py: `alpha_optimizer = optax.adam(3e-4)`)."""


@dataclasses.dataclass(frozen=True)
class SACOptions:
    """Options of `algo = "sac"`, set in a sweep file's `[agent]` table."""

    initial_temperature: float = 1.0
    """alpha at initialisation (Brax: log alpha = 0)."""
    temperature_learning_rate: float = SAC_TEMPERATURE_LEARNING_RATE
    """Adam step size of log alpha. Fixed per sweep, so sweeping eta does not change how fast the
    temperature adapts."""
    target_entropy_per_action: float = -1.0
    """Target entropy = this * |A| (Haarnoja et al., 2018: -|A|; Brax's SAC uses -0.5)."""

    def validate(self) -> list[str]:
        errors = []
        for name in ("initial_temperature", "temperature_learning_rate"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                errors.append(f"{name} must be a finite number > 0, got {value}")
        if not math.isfinite(self.target_entropy_per_action):
            errors.append(f"target_entropy_per_action must be finite, got {self.target_entropy_per_action}")
        return errors
