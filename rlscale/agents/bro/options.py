"""BRO's static options and presets (JAX-free: `rlscale.config` validates a sweep's `[agent]` table
with it).

Presets follow naumix/BiggerRegularizedOptimistic (files jaxrl/bro/bro_learner.py,
jaxrl/bro/temperature.py, jaxrl/networks/policies.py, configs/bro_default.py); the reset schedule
follows what the scaling-law paper's DMC analysis assumes (prestonfu/qscaled,
experiments/2_fitted/dmc_explore.ipynb: `filter_out_resets(..., reset_freq=2.5e6, window=1)`, with
`reset_freq` in gradient steps, qscaled/core/preprocessing.py).
"""

from __future__ import annotations

import dataclasses
import math

RESET_GRADIENT_STEPS = "gradient_steps"
"""`reset_schedule`: reset every `reset_interval` gradient steps of the config."""
RESET_ENV_STEPS = "env_steps"
"""`reset_schedule`: reset at the env steps listed in `reset_at_env_steps`."""
RESET_NONE = "none"
"""`reset_schedule`: never reset."""
RESET_SCHEDULES = (RESET_GRADIENT_STEPS, RESET_ENV_STEPS, RESET_NONE)

BRONET_WIDTH = 512
"""Units per layer of BRO's BroNet critic (bro_learner.py `critic_width`, and the paper's DMC runs):
a BRO sweep's hidden_width when unset."""
PAPER_RESET_INTERVAL = 2_500_000
"""Gradient steps between resets in the scaling-law paper's DMC runs (qscaled's DMC notebook
filters resets every 2.5e6 gradient steps, i.e. every 2.5e6 / sigma env steps)."""
BRO_REPO_RESET_ENV_STEPS = (15_001, 50_001, 250_001, 500_001, 750_001, 1_000_001, 1_500_001, 2_000_001)
"""BRO's own schedule at replay ratio 10 (bro_learner.py `reset_list`, env steps counted from 1:
the reset happens once that many transitions have been collected, before that step's updates)."""


@dataclasses.dataclass(frozen=True)
class BROOptions:
    """Options of `algo = "bro"`, set in a sweep file's `[agent]` table.

    The critic's width and residual blocks are the sweep's hidden_width / hidden_depth (the
    model-size axis); the actors have their own fixed size here.
    """

    actor_hidden_width: int = 256
    """Units of the conservative and optimistic actors (BRO: 256)."""
    actor_hidden_depth: int = 1
    """Residual blocks of the actors (BRO: 1)."""
    bronet: bool = True
    """BroNet torsos; false uses SAC's plain ReLU MLP (hidden_depth layers)."""
    critic_quantiles: int = 100
    """Quantiles per critic head with BRO's quantile Huber loss (BRO: 100); 0 is a scalar twin
    critic (then set pessimism = 1, clipped double Q, as a scalar critic needs)."""
    pessimism: float = 0.0
    """beta_lb of the critic target and conservative actor: mean Q - pessimism * |Q1 - Q2| / 2
    (BRO: 0 with the quantile critic)."""
    weight_decay: float = 1e-4
    """AdamW decoupled weight decay of actors and critic (BRO: optax.adamw's default 1e-4)."""
    reset_schedule: str = RESET_GRADIENT_STEPS
    """When to re-initialise every network, optimizer and adjusted scalar: "gradient_steps"
    (every reset_interval gradient steps: the paper's DMC runs), "env_steps" (at
    reset_at_env_steps: BRO's repo) or "none"."""
    reset_interval: int = PAPER_RESET_INTERVAL
    """Gradient steps between resets with reset_schedule = "gradient_steps"."""
    reset_at_env_steps: tuple[int, ...] = BRO_REPO_RESET_ENV_STEPS
    """Env steps (increasing) at which to reset with reset_schedule = "env_steps" (BRO's list at
    replay ratio 10; BRO keeps only the first at replay ratio 2)."""
    optimistic_exploration: bool = True
    """Explore with the optimistic actor; false explores with the conservative actor."""
    std_multiplier: float = 0.75
    """Optimistic std = std_multiplier * conservative std (BRO: 0.75)."""
    target_kl: float = 0.05
    """KL per action dimension the optimism and KL-weight duals aim for (BRO: 0.05)."""
    initial_optimism: float = 1.0
    """Optimism beta_ub at initialisation (BRO: 1)."""
    initial_kl_weight: float = 0.25
    """KL weight at initialisation (BRO: init_regularizer 0.25)."""
    log_dual_min: float = -10.0
    log_dual_max: float = 7.5
    """The log of the optimism and of the KL weight stay in [log_dual_min, log_dual_max] through a
    tanh parametrisation (BRO's `Adjustment`: -10 and 7.5)."""
    initial_temperature: float = 1.0
    """alpha at initialisation (BRO: 1)."""
    target_entropy_per_action: float = -0.5
    """Target entropy = this * |A| (BRO: -|A| / 2)."""
    log_std_min: float = -10.0
    log_std_max: float = 2.0
    """Bounds of the conservative actor's log std, through a tanh (BRO: -10 and 2)."""
    temperature_learning_rate: float = 3e-4
    temperature_b1: float = 0.5
    """Adam step size and b1 of log alpha (BRO: 3e-4, 0.5), fixed: not the swept eta."""
    dual_learning_rate: float = 3e-5
    dual_b1: float = 0.5
    """Adam step size and b1 of the optimism and KL-weight duals (BRO's adj_lr: 3e-5, 0.5)."""

    def validate(self) -> list[str]:
        errors = []
        for name in ("actor_hidden_width", "actor_hidden_depth"):
            if getattr(self, name) < 1:
                errors.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.critic_quantiles < 0 or self.critic_quantiles == 1:
            errors.append(f"critic_quantiles must be 0 (scalar critic) or >= 2, got {self.critic_quantiles}")
        if self.pessimism < 0:
            errors.append(f"pessimism must be >= 0, got {self.pessimism}")
        if self.weight_decay < 0:
            errors.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.reset_schedule not in RESET_SCHEDULES:
            errors.append(f"reset_schedule must be one of {RESET_SCHEDULES}, got {self.reset_schedule!r}")
        if self.reset_interval < 1:
            errors.append(f"reset_interval must be >= 1 gradient steps, got {self.reset_interval}")
        steps = self.reset_at_env_steps
        if not steps or any(s < 1 for s in steps) or any(b <= a for a, b in zip(steps, steps[1:])):
            errors.append(f"reset_at_env_steps must be a non-empty increasing list of env steps >= 1, got {list(steps)}")
        for name in (
            "std_multiplier", "target_kl", "initial_temperature", "temperature_learning_rate",
            "dual_learning_rate",
        ):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                errors.append(f"{name} must be a finite number > 0, got {value}")
        for name in ("temperature_b1", "dual_b1"):
            if not 0 <= getattr(self, name) < 1:
                errors.append(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not self.log_dual_min < self.log_dual_max:
            errors.append(f"need log_dual_min < log_dual_max, got {self.log_dual_min} and {self.log_dual_max}")
        else:
            for name in ("initial_optimism", "initial_kl_weight"):
                value = getattr(self, name)
                if not (value > 0 and self.log_dual_min < math.log(value) < self.log_dual_max):
                    errors.append(
                        f"{name} must be in (exp(log_dual_min), exp(log_dual_max)) = "
                        f"({math.exp(self.log_dual_min):.3g}, {math.exp(self.log_dual_max):.3g}), got {value}"
                    )
        if not self.log_std_min < self.log_std_max:
            errors.append(f"need log_std_min < log_std_max, got {self.log_std_min} and {self.log_std_max}")
        if not math.isfinite(self.target_entropy_per_action):
            errors.append(f"target_entropy_per_action must be finite, got {self.target_entropy_per_action}")
        return errors
