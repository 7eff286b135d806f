"""Registry entries for Brax's locomotion envs (suite 'brax'), named 'brax/<brax env name>'.

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

import jax
import jax.numpy as jnp

from rlscale.envs.wrappers import ActionRepeat, check_action_repeat, check_options

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


class BraxEnv:
    """Adapts a raw Brax env to the registry contract.

    Actions f32[action_size] in [-1, 1] are mapped onto the actuators' ctrl_range (passed
    unchanged by an env without a `sys`, i.e. not a PipelineEnv); reward and done are returned as
    f32 scalars (some Brax envs return a Python float done).
    """

    def __init__(self, env: Any):
        self.env = env
        self.action_size = int(env.action_size)
        if hasattr(env, "sys"):
            low, high = jnp.asarray(env.sys.actuator.ctrl_range, jnp.float32).T
        else:
            low, high = -jnp.ones(self.action_size), jnp.ones(self.action_size)
        self._ctrl_center = (high + low) / 2.0
        self._ctrl_half_range = (high - low) / 2.0

    def reset(self, rng: jax.Array) -> Any:
        """PRNG key -> brax State (obs f32[observation_size])."""
        return self._cast(self.env.reset(rng))

    def step(self, state: Any, action: jax.Array) -> Any:
        """brax State, f32[action_size] in [-1, 1] -> next brax State."""
        ctrl = self._ctrl_center + self._ctrl_half_range * jnp.clip(action, -1.0, 1.0)
        return self._cast(self.env.step(state, ctrl))

    @staticmethod
    def _cast(state: Any) -> Any:
        return state.replace(
            obs=jnp.asarray(state.obs, jnp.float32),
            reward=jnp.asarray(state.reward, jnp.float32),
            done=jnp.asarray(state.done, jnp.float32),
        )


def build(name: str, backend: str = DEFAULT_BACKEND, action_repeat: int = 1, **options: Any):
    """The raw Brax env `name` on `backend`, adapted, and wrapped in ActionRepeat when > 1."""
    check_options(name, options, _OPTIONS)
    _check_backend(name, backend)
    from brax import envs as brax_envs

    env = BraxEnv(brax_envs.get_environment(name.removeprefix("brax/"), backend=backend))
    return env if action_repeat == 1 else ActionRepeat(env, action_repeat)
