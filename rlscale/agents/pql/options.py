"""PQL's static options and presets (JAX-free: `rlscale.config` validates a sweep's `[agent]` table
with it).

Presets follow Improbable-AI/pql (pql/cfg/algo/pql_algo.yaml, pql/cfg/algo/actor_critic.yaml,
pql/algo/pql_v_learner.py, pql/algo/pql_p_learner.py).
"""

from __future__ import annotations

import dataclasses
import math

PQL_TAU = 0.05
"""PQL's Polyak rate of the target critic (pql_algo.yaml `tau`); the sweep's default tau for PQL."""
MIXED_NOISE_MIN_ENVS = 2
"""Fewest envs per config at which PQL's mixed noise spans its range: env i of n explores at the
i-th of n stds linearly spaced from noise_scale_min to noise_scale_max (pql/utils/noise.py
`add_mixed_normal_noise`: torch.linspace over the envs), so one env would explore at
noise_scale_min only. PQL itself runs 4096 envs (pql/cfg/default.yaml `num_envs`)."""


@dataclasses.dataclass(frozen=True)
class PQLOptions:
    """Options of `algo = "pql"`, set in a sweep file's `[agent]` table."""

    actor_hidden_width: int = 256
    actor_hidden_depth: int = 2
    """Deterministic actor: units per hidden layer and hidden layers."""
    n_step: int = 3
    """Steps of the n-step return (PQL: nstep 3)."""
    actor_update_interval: int = 2
    """Critic updates per actor update (PQL: critic_actor_ratio 2)."""
    noise_scale_min: float = 0.05
    noise_scale_max: float = 0.8
    """Exploration noise stds of the first and last env of a config, linearly spaced between
    (PQL's mixed noise: std_min 0.05, std_max 0.8)."""
    target_noise_std: float = 0.8
    target_noise_clip: float = 0.2
    """Target-policy smoothing: the target's next action is pi(s') + clip(N(0, std^2), -clip,
    clip), clipped to [-1, 1] (PQL: tgt_pol_std 0.8, tgt_pol_noise_bound 0.2)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay of actor and critic (PQL: torch.optim.AdamW's default 0.01)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip of each update (PQL: max_grad_norm 0.5); 0 disables it."""

    def validate(self) -> list[str]:
        errors = []
        for name in ("actor_hidden_width", "actor_hidden_depth", "n_step", "actor_update_interval"):
            if getattr(self, name) < 1:
                errors.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.noise_scale_min <= self.noise_scale_max:
            errors.append(
                f"need 0 <= noise_scale_min <= noise_scale_max, got {self.noise_scale_min} and "
                f"{self.noise_scale_max}"
            )
        for name in ("target_noise_std", "target_noise_clip", "weight_decay", "max_grad_norm"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                errors.append(f"{name} must be a finite number >= 0, got {value}")
        return errors

    def num_envs_errors(self, num_envs: int) -> list[str]:
        """The mixed noise (noise_scale_min < noise_scale_max) needs MIXED_NOISE_MIN_ENVS envs per
        config; a fixed noise (noise_scale_min == noise_scale_max) runs with any number."""
        if num_envs >= MIXED_NOISE_MIN_ENVS or self.noise_scale_min == self.noise_scale_max:
            return []
        return [
            f"num_envs must be >= {MIXED_NOISE_MIN_ENVS} for algo = \"pql\", got {num_envs}: PQL explores with "
            f"mixed noise, env i of a config's num_envs envs at the i-th of num_envs stds linearly spaced from "
            f"agent.noise_scale_min ({self.noise_scale_min:g}) to agent.noise_scale_max ({self.noise_scale_max:g}), "
            f"so {num_envs} env would explore at std {self.noise_scale_min:g} only (PQL runs 4096 envs). Set "
            f"num_envs (e.g. 16), or one fixed std with agent.noise_scale_min = agent.noise_scale_max"
        ]
