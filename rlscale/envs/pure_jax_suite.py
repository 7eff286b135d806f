"""Registry entries for the tiny pure-JAX envs (suite 'jax'): a static table (the env classes of
`rlscale.envs.pure_jax`, by name, and their sizes), so nothing here imports JAX until an env is built."""

from __future__ import annotations

import dataclasses
from typing import Any

from rlscale.envs.options import check_action_repeat, check_options


@dataclasses.dataclass(frozen=True)
class _Entry:
    env_class: str  # the class of rlscale.envs.pure_jax
    observation_size: int  # its observation_size and action_size (tests/envs/test_pure_jax.py checks them)
    action_size: int
    horizon: int  # physics steps per episode at action_repeat 1
    return_low: float
    return_high: float
    normalization_source: str


# The normalization constants were measured by rlscale over 10,000 episodes with jax.random key 0
# (random policy: actions ~ U[-1, 1]^action_size each step); see ENVS.md.
_ENTRIES = {
    "pendulum": _Entry(
        "Pendulum",
        observation_size=3,
        action_size=1,
        horizon=200,
        return_low=-1226.7,
        return_high=-150.0,
        normalization_source=(
            "low: measured uniform-random-policy mean return (-1226.7 over 10k episodes); high: -150, "
            "the usual 'solved' level of Gym Pendulum-v1 (best published returns are about -140)"
        ),
    ),
    "cartpole-balance": _Entry(
        "CartpoleBalance",
        observation_size=4,
        action_size=1,
        horizon=500,
        return_low=27.8,
        return_high=500.0,
        normalization_source=(
            "low: measured uniform-random-policy mean return (27.8 over 10k episodes); "
            "high: 500, the maximum (1 per step for 500 steps)"
        ),
    ),
    "pointmass": _Entry(
        "PointMass",
        observation_size=6,
        action_size=2,
        horizon=200,
        return_low=-217.3,
        return_high=-23.3,
        normalization_source=(
            "low: measured uniform-random-policy mean return (-217.3 over 10k episodes); "
            "high: measured mean return of a hand-tuned PD controller (-23.3 over 10k episodes)"
        ),
    ),
}

_OPTIONS = {"action_repeat": "int >= 1 dividing the episode's physics steps (default 1)"}


def names() -> list[str]:
    """Registered pure-JAX env names."""
    return list(_ENTRIES)


def spec_fields(name: str, action_repeat: int = 1, **options: Any) -> dict[str, Any]:
    """EnvSpec fields of pure-JAX env `name`."""
    check_options(name, options, _OPTIONS)
    entry = _ENTRIES[name]
    return dict(
        name=name,
        suite="jax",
        observation_size=entry.observation_size,
        action_size=entry.action_size,
        episode_length=check_action_repeat(action_repeat, entry.horizon),
        action_repeat=action_repeat,
        return_low=entry.return_low,
        return_high=entry.return_high,
        normalization_source=entry.normalization_source,
    )


def build(name: str, action_repeat: int = 1, **options: Any):
    """The pure-JAX env `name`, wrapped in ActionRepeat when action_repeat > 1."""
    check_options(name, options, _OPTIONS)
    from rlscale.envs import pure_jax
    from rlscale.envs.wrappers import with_action_repeat

    return with_action_repeat(getattr(pure_jax, _ENTRIES[name].env_class)(), action_repeat)
