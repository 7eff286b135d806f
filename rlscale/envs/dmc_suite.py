"""Registry entries for MuJoCo Playground's DM Control suite (suite 'dmc').

Names follow dm_control's `<domain>-<task>` (e.g. 'dmc/cartpole-swingup', 'dmc/ball_in_cup-catch').
Every env is loaded with the JAX (MJX) implementation (`config_overrides={'impl': 'jax'}`), not
Playground's default warp backend. The env is Playground's raw MjxEnv (no Brax training
wrappers): its `done` is 1.0 only when the physics state becomes NaN (Playground's divergence
guard), never on the time limit; `info['time_out']` is only set by the vision cartpole, which is
not registered. Observations are flat f32 arrays; every actuator's ctrl_range is [-1, 1], so
actions pass through unchanged. Per-step rewards are in [0, 1] over 1000 steps, so returns lie in
[0, 1000] and the normalization is the identity.
"""

from __future__ import annotations

from typing import Any

from rlscale.envs.options import check_action_repeat, check_options

EPISODE_PHYSICS_STEPS = 1000

# dm_control name -> (Playground registry name, observation_size, action_size); sizes verified by
# tests/envs/test_dmc.py::test_static_sizes_match_the_built_envs (marked slow).
_ENTRIES = {
    "acrobot-swingup": ("AcrobotSwingup", 6, 1),
    "acrobot-swingup_sparse": ("AcrobotSwingupSparse", 6, 1),
    "ball_in_cup-catch": ("BallInCup", 8, 2),
    "cartpole-balance": ("CartpoleBalance", 5, 1),
    "cartpole-balance_sparse": ("CartpoleBalanceSparse", 5, 1),
    "cartpole-swingup": ("CartpoleSwingup", 5, 1),
    "cartpole-swingup_sparse": ("CartpoleSwingupSparse", 5, 1),
    "cheetah-run": ("CheetahRun", 17, 6),
    "finger-spin": ("FingerSpin", 9, 2),
    "finger-turn_easy": ("FingerTurnEasy", 12, 2),
    "finger-turn_hard": ("FingerTurnHard", 12, 2),
    "fish-swim": ("FishSwim", 24, 5),
    "hopper-hop": ("HopperHop", 15, 4),
    "hopper-stand": ("HopperStand", 15, 4),
    "humanoid-stand": ("HumanoidStand", 67, 21),
    "humanoid-walk": ("HumanoidWalk", 67, 21),
    "humanoid-run": ("HumanoidRun", 67, 21),
    "pendulum-swingup": ("PendulumSwingup", 3, 1),
    "point_mass-easy": ("PointMass", 4, 2),
    "reacher-easy": ("ReacherEasy", 6, 2),
    "reacher-hard": ("ReacherHard", 6, 2),
    "swimmer-swimmer6": ("SwimmerSwimmer6", 25, 5),
    "walker-run": ("WalkerRun", 24, 6),
    "walker-stand": ("WalkerStand", 24, 6),
    "walker-walk": ("WalkerWalk", 24, 6),
}

NORMALIZATION_SOURCE = (
    "identity: DM Control per-step rewards lie in [0, 1] over 1000 steps, so returns lie in "
    "[0, 1000] (Tassa et al. 2018)"
)

_OPTIONS = {"action_repeat": f"int >= 1 dividing {EPISODE_PHYSICS_STEPS} (default 1, as in BRO)"}


def names() -> list[str]:
    """Registered DM Control env names, 'dmc/<domain>-<task>'."""
    return [f"dmc/{name}" for name in _ENTRIES]


def playground_name(name: str) -> str:
    """The MuJoCo Playground registry name of 'dmc/<domain>-<task>'."""
    return _ENTRIES[name.removeprefix("dmc/")][0]


def spec_fields(name: str, action_repeat: int = 1, **options: Any) -> dict[str, Any]:
    """EnvSpec fields of DM Control env `name` (from a static table; nothing is built)."""
    check_options(name, options, _OPTIONS)
    _, observation_size, action_size = _ENTRIES[name.removeprefix("dmc/")]
    return dict(
        name=name,
        suite="dmc",
        observation_size=observation_size,
        action_size=action_size,
        episode_length=check_action_repeat(action_repeat, EPISODE_PHYSICS_STEPS),
        action_repeat=action_repeat,
        return_low=0.0,
        return_high=1000.0,
        normalization_source=NORMALIZATION_SOURCE,
    )


def build(name: str, action_repeat: int = 1, **options: Any):
    """Playground's raw JAX-implementation env for `name`, wrapped in ActionRepeat when > 1."""
    check_options(name, options, _OPTIONS)
    from mujoco_playground import registry as playground_registry

    from rlscale.envs.wrappers import with_action_repeat

    return with_action_repeat(playground_registry.load(playground_name(name), config_overrides={"impl": "jax"}), action_repeat)
