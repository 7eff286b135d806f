"""Registry entries for Brax's locomotion envs (suite 'brax'), named 'brax/<brax env name>': a
static table (no JAX until an env is built; the adapter is `rlscale.envs.brax_env.BraxEnv`).

The env is Brax's raw env (no EpisodeWrapper / AutoResetWrapper), so `done` is 1.0 only when the
env terminates (hopper, walker2d, ant, humanoid: unhealthy; inverted_pendulum: pole angle > 0.2
rad; inverted_double_pendulum: tip below y = 1); halfcheetah never terminates. The engine
truncates at `episode_length`. Actions in [-1, 1] are mapped affinely onto each actuator's
ctrl_range (humanoid [-0.4, 0.4], inverted_pendulum [-3, 3], the others [-1, 1]), as Gym SAC
implementations rescale actions, so control costs are computed on the physical controls.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rlscale.envs.options import check_action_repeat, check_options

BACKENDS = ("mjx", "generalized", "positional", "spring")
DEFAULT_BACKEND = "mjx"
EPISODE_PHYSICS_STEPS = 1000

_D4RL = (
    "D4RL REF_MIN_SCORE / REF_MAX_SCORE (d4rl/infos.py: random and expert policy returns on Gym "
    "{gym}); an approximation for Brax's version, whose reward and dynamics differ from Gym's"
)


@dataclasses.dataclass(frozen=True)
class _Entry:
    observation_size: int
    action_size: int
    terminates: bool  # whether `done` can fire (unhealthy / fallen); never on the time limit
    return_low: float
    return_high: float
    normalization_source: str


_ENTRIES = {
    "halfcheetah": _Entry(17, 6, False, -280.178953, 12135.0, _D4RL.format(gym="HalfCheetah")),
    "hopper": _Entry(11, 3, True, -20.272305, 3234.3, _D4RL.format(gym="Hopper")),
    "walker2d": _Entry(17, 6, True, 1.629008, 4592.3, _D4RL.format(gym="Walker2d")),
    "ant": _Entry(27, 8, True, -325.6, 3879.7, _D4RL.format(gym="Ant")),
    "humanoid": _Entry(
        244,
        17,
        True,
        150.8,
        6000.0,
        "no D4RL score exists; low: measured uniform-random-policy mean return on brax/humanoid "
        "(mjx, 1024 episodes); high: 6000, the asymptotic SAC return on Gym Humanoid (Haarnoja et al. 2018)",
    ),
    "inverted_pendulum": _Entry(
        4,
        1,
        True,
        4.4,
        1000.0,
        "low: measured uniform-random-policy mean return on brax/inverted_pendulum (mjx, 4096 "
        "episodes); "
        "high: 1000, the maximum (reward 1 per step for 1000 steps)",
    ),
    "inverted_double_pendulum": _Entry(
        8,
        1,
        True,
        157.0,
        9100.0,
        "low: measured uniform-random-policy mean return on brax/inverted_double_pendulum (mjx, "
        "4096 episodes); "
        "high: 9100, Gym's reward_threshold for InvertedDoublePendulum",
    ),
}

_OPTIONS = {
    "backend": f"Brax physics pipeline, one of {', '.join(BACKENDS)} (default {DEFAULT_BACKEND!r})",
    "action_repeat": f"int >= 1 dividing {EPISODE_PHYSICS_STEPS} (default 1)",
}


def names() -> list[str]:
    """Registered Brax env names, 'brax/<name>'."""
    return [f"brax/{name}" for name in _ENTRIES]


def _check_backend(name: str, backend: Any) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"option 'backend' for env {name!r} must be one of {', '.join(BACKENDS)}; got {backend!r}")


def spec_fields(name: str, backend: str = DEFAULT_BACKEND, action_repeat: int = 1, **options: Any) -> dict[str, Any]:
    """EnvSpec fields of Brax env `name` (from a static table; nothing is built)."""
    check_options(name, options, _OPTIONS)
    _check_backend(name, backend)
    entry = _ENTRIES[name.removeprefix("brax/")]
    return dict(
        name=name,
        suite="brax",
        observation_size=entry.observation_size,
        action_size=entry.action_size,
        episode_length=check_action_repeat(action_repeat, EPISODE_PHYSICS_STEPS),
        action_repeat=action_repeat,
        return_low=entry.return_low,
        return_high=entry.return_high,
        normalization_source=entry.normalization_source,
    )


def terminates(name: str) -> bool:
    """Whether Brax env `name` has true terminations."""
    return _ENTRIES[name.removeprefix("brax/")].terminates


def build(name: str, backend: str = DEFAULT_BACKEND, action_repeat: int = 1, **options: Any):
    """The raw Brax env `name` on `backend`, adapted, and wrapped in ActionRepeat when > 1."""
    check_options(name, options, _OPTIONS)
    _check_backend(name, backend)
    from brax import envs as brax_envs

    from rlscale.envs.brax_env import BraxEnv
    from rlscale.envs.wrappers import with_action_repeat

    return with_action_repeat(BraxEnv(brax_envs.get_environment(name.removeprefix("brax/"), backend=backend)), action_repeat)
