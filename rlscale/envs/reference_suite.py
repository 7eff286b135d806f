"""Envs named by reference in a sweep file (`rlscale.envs.references`), loaded and adapted to the
registry's Env contract.

- `brax-class:package.module:ClassName`: any Brax `Env` subclass, built as `ClassName(**options)`
  (options other than the four below are its constructor's, e.g. backend = "generalized").
  Actions in [-1, 1] are mapped onto the actuators' ctrl_range, as for the 'brax' suite.
- `playground:<Name>`: any MuJoCo Playground registry name, with its JAX implementation. Offline,
  only Playground's DM Control suite loads: its locomotion and manipulation envs fetch their robot
  assets (mujoco_menagerie) on first use, and that failure is reported as one message.
- `gymnax:<Name>`: a gymnax env with a continuous (Box) action space, if gymnax is installed
  (`pip install rlscale[gymnax]`). Gymnax's own time limit is lifted so `done` is a true
  termination; it becomes `episode_length` (the engine's truncation point). Actions in [-1, 1]
  are mapped onto the Box bounds.

Every reference takes the options `action_repeat`, `episode_length` (agent steps at
action_repeat 1; default: the env's own horizon, 1000 for Brax classes), and `return_low` /
`return_high` (raw returns mapped to 0 / 1000 for the fit; default 0 / 1000, the identity, which is
right for DM Control tasks and a placeholder elsewhere). A reference is loaded (not compiled) the
first time its spec is asked for, i.e. when a sweep file is validated; a reference that does not
load raises `EnvReferenceError` naming it and what was expected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import io
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from rlscale.envs.options import check_action_repeat, check_options
from rlscale.envs.references import BRAX_CLASS, GYMNAX, PLAYGROUND, EnvReferenceError
from rlscale.envs.wrappers import with_action_repeat

SUITE = "reference"
BRAX_EPISODE_STEPS = 1000
"""Brax training's default episode length, for Brax classes that state none."""
GYMNAX_NO_TIME_LIMIT = 2**30
"""max_steps_in_episode given to gymnax so that its own time limit never fires."""
DEFAULT_RETURN_RANGE = (0.0, 1000.0)

REFERENCE_OPTIONS = {
    "action_repeat": "int >= 1 dividing episode_length (default 1)",
    "episode_length": "int >= 1, agent steps per episode at action_repeat 1 (default: the env's own)",
    "return_low": "raw return mapped to 0 for the fit (default 0)",
    "return_high": "raw return mapped to 1000 for the fit (default 1000)",
}


@dataclasses.dataclass(frozen=True)
class _Loaded:
    env: Any
    observation_size: int
    action_size: int
    episode_length: int
    normalization_source: str


def _fail(name: str, problem: str) -> EnvReferenceError:
    return EnvReferenceError(f"env {name!r}: {problem}")


def _split_options(name: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(rlscale's options, the env constructor's) - only Brax classes take constructor options."""
    own = {key: value for key, value in options.items() if key in REFERENCE_OPTIONS}
    rest = {key: value for key, value in options.items() if key not in REFERENCE_OPTIONS}
    if rest and not name.startswith(BRAX_CLASS):
        check_options(name, rest, REFERENCE_OPTIONS)
    return own, rest


def spec_fields(name: str, **options: Any) -> dict[str, Any]:
    """EnvSpec fields of reference `name`: the env is loaded (once per process) to learn its sizes."""
    own, constructor_options = _split_options(name, options)
    loaded = _load(name, tuple(sorted(constructor_options.items())))
    episode_length = own.get("episode_length", loaded.episode_length)
    if not (isinstance(episode_length, int) and not isinstance(episode_length, bool) and episode_length >= 1):
        raise ValueError(f"option 'episode_length' for env {name!r} must be an int >= 1; got {episode_length!r}")
    low, high = own.get("return_low", DEFAULT_RETURN_RANGE[0]), own.get("return_high", DEFAULT_RETURN_RANGE[1])
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and high > low):
        raise ValueError(f"options 'return_low' < 'return_high' for env {name!r} must be numbers; got {low!r}, {high!r}")
    action_repeat = own.get("action_repeat", 1)
    given = "return_low" in own or "return_high" in own
    return dict(
        name=name,
        suite=SUITE,
        observation_size=loaded.observation_size,
        action_size=loaded.action_size,
        episode_length=check_action_repeat(action_repeat, episode_length),
        action_repeat=action_repeat,
        return_low=float(low),
        return_high=float(high),
        normalization_source="given in env_options" if given else loaded.normalization_source,
    )


def build(name: str, **options: Any):
    """The adapted env of reference `name` (loaded once per process), with ActionRepeat when > 1."""
    own, constructor_options = _split_options(name, options)
    env = _load(name, tuple(sorted(constructor_options.items()))).env
    return with_action_repeat(env, own.get("action_repeat", 1))


@functools.lru_cache(maxsize=None)
def _load(name: str, constructor_options: tuple[tuple[str, Any], ...]) -> _Loaded:
    if name.startswith(BRAX_CLASS):
        env, episode_length, source = _load_brax_class(name, dict(constructor_options))
    elif name.startswith(PLAYGROUND):
        env, episode_length, source = _load_playground(name)
    else:
        env, episode_length, source = _load_gymnax(name)
    observation_size, action_size = _abstract_sizes(name, env)
    return _Loaded(env, observation_size, action_size, episode_length, source)


def _abstract_sizes(name: str, env: Any) -> tuple[int, int]:
    """(observation_size, action_size) from shape evaluation of reset and step (nothing compiled)."""
    try:
        state = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
    except Exception as error:
        raise _fail(name, f"reset(rng) failed: {type(error).__name__}: {error}") from None
    obs = getattr(state, "obs", None)
    if isinstance(obs, dict):
        raise _fail(name, f"the observation is a dict (keys {', '.join(obs)}); expected one flat f32 array, as rlscale's agents take")
    if obs is None or len(obs.shape) != 1:
        raise _fail(name, f"expected reset to return a state with a flat observation f32[obs], got {obs!r}")
    action_size = int(env.action_size)
    try:
        jax.eval_shape(env.step, state, jax.ShapeDtypeStruct((action_size,), jnp.float32))
    except Exception as error:
        raise _fail(name, f"step(state, f32[{action_size}]) failed: {type(error).__name__}: {error}") from None
    return int(obs.shape[0]), action_size


def _placeholder_source(name: str) -> str:
    return (
        f"placeholder: no reference returns are known for {name}; the identity (0 -> 0, 1000 -> 1000) "
        "is used; set env_options return_low / return_high"
    )


def _load_brax_class(name: str, constructor_options: dict[str, Any]):
    from brax.envs.base import Env as BraxBaseEnv

    from rlscale.envs.brax_env import BraxEnv

    expected = "expected 'brax-class:package.module:ClassName' naming a subclass of brax.envs.base.Env"
    module_name, colon, class_name = name.removeprefix(BRAX_CLASS).rpartition(":")
    if not colon or not module_name or not class_name:
        raise _fail(name, expected)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise _fail(name, f"module {module_name!r} could not be imported ({type(error).__name__}: {error}); {expected}") from None
    env_class = getattr(module, class_name, None)
    if env_class is None:
        raise _fail(name, f"module {module_name!r} has no attribute {class_name!r}; {expected}")
    if not (isinstance(env_class, type) and issubclass(env_class, BraxBaseEnv)):
        raise _fail(name, f"{module_name}:{class_name} is {env_class!r}, not a Brax Env class; {expected}")
    try:
        env = env_class(**constructor_options)
    except Exception as error:
        arguments = ", ".join(f"{key}={value!r}" for key, value in constructor_options.items())
        raise _fail(name, f"{class_name}({arguments}) failed: {type(error).__name__}: {error}") from None
    return BraxEnv(env), BRAX_EPISODE_STEPS, _placeholder_source(name)


def _load_playground(name: str):
    from mujoco_playground import dm_control_suite
    from mujoco_playground import registry as playground_registry

    playground_name = name.removeprefix(PLAYGROUND)
    if playground_name not in playground_registry.ALL_ENVS:
        raise _fail(name, f"expected a MuJoCo Playground registry name, one of {', '.join(playground_registry.ALL_ENVS)}")
    is_dmc = playground_name in dm_control_suite.ALL_ENVS
    # Playground prints download progress (and git's errors) while it fetches assets.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            env = playground_registry.load(playground_name, config_overrides={"impl": "jax"})
        except Exception as error:
            hint = (
                ""
                if is_dmc
                else "; Playground's locomotion and manipulation envs fetch their robot assets "
                "(mujoco_menagerie, by git clone) on first use, which needs network access: offline, only "
                "its DM Control suite loads (registered as dmc/<domain>-<task>)"
            )
            raise _fail(name, f"MuJoCo Playground could not load it ({type(error).__name__}: {error}){hint}") from None
    episode_length = int(env._config.episode_length)
    source = (
        "identity: DM Control per-step rewards lie in [0, 1], so returns lie in [0, episode_length]"
        if is_dmc
        else _placeholder_source(name)
    )
    return env, episode_length, source


def _load_gymnax(name: str):
    try:
        import gymnax
        from gymnax.environments import spaces
    except ImportError as error:
        raise _fail(name, f"gymnax is not installed ({error}); `pip install rlscale[gymnax]` adds it") from None
    gymnax_name = name.removeprefix(GYMNAX)
    if gymnax_name not in gymnax.registered_envs:
        raise _fail(name, f"expected a gymnax env name, one of {', '.join(gymnax.registered_envs)}")
    env, params = gymnax.make(gymnax_name)
    action_space = env.action_space(params)
    if not isinstance(action_space, spaces.Box):
        raise _fail(
            name,
            f"its action space is {type(action_space).__name__}; rlscale's agents act in continuous "
            "(Box) action spaces, e.g. gymnax:Pendulum-v1 or gymnax:MountainCarContinuous-v0",
        )
    episode_length = int(params.max_steps_in_episode)
    adapted = GymnaxEnv(env, params.replace(max_steps_in_episode=GYMNAX_NO_TIME_LIMIT), action_space)
    return adapted, episode_length, _placeholder_source(name)


@flax.struct.dataclass
class GymnaxState:
    """A gymnax env's state with what the engine reads: obs f32[obs], reward f32[], done f32[]
    (a true termination), info {}, and the PRNG key gymnax's step needs."""

    env_state: Any
    obs: jax.Array
    reward: jax.Array
    done: jax.Array
    info: dict
    rng: jax.Array


class GymnaxEnv:
    """A gymnax env (without its auto-reset and time limit) under the registry's Env contract."""

    def __init__(self, env: Any, params: Any, action_space: Any):
        self.env, self.params = env, params
        self.action_shape = tuple(action_space.shape)
        self.action_size = int(jnp.prod(jnp.asarray(self.action_shape)))
        low = jnp.broadcast_to(jnp.asarray(action_space.low, jnp.float32), self.action_shape).ravel()
        high = jnp.broadcast_to(jnp.asarray(action_space.high, jnp.float32), self.action_shape).ravel()
        self._center, self._half_range = (high + low) / 2.0, (high - low) / 2.0

    def reset(self, rng: jax.Array) -> GymnaxState:
        """PRNG key -> first state."""
        rng, reset_rng = jax.random.split(rng)
        obs, env_state = self.env.reset_env(reset_rng, self.params)
        zero = jnp.zeros((), jnp.float32)
        return GymnaxState(env_state, jnp.ravel(obs).astype(jnp.float32), zero, zero, {}, rng)

    def step(self, state: GymnaxState, action: jax.Array) -> GymnaxState:
        """State, f32[action_size] in [-1, 1] -> next state."""
        rng, step_rng = jax.random.split(state.rng)
        scaled = (self._center + self._half_range * jnp.clip(action, -1.0, 1.0)).reshape(self.action_shape)
        obs, env_state, reward, done, _ = self.env.step_env(step_rng, state.env_state, scaled, self.params)
        return GymnaxState(
            env_state,
            jnp.ravel(obs).astype(jnp.float32),
            jnp.reshape(reward, ()).astype(jnp.float32),
            jnp.reshape(done, ()).astype(jnp.float32),
            {},
            rng,
        )
