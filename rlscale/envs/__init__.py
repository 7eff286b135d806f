"""Environments: a registry of pure, jittable envs with stable names (see ENVS.md), plug-in envs
(`register(name, factory, spec)` or an `rlscale.envs` entry point naming an `EnvEntry`) and envs
named by reference ('brax-class:...', 'playground:...', 'gymnax:...')."""

from rlscale.envs.plugin_suite import EnvEntry, register
from rlscale.envs.references import EnvReferenceError
from rlscale.envs.registry import Env, EnvSpec, UnknownEnvError, env_names, get_spec, make_env

__all__ = [
    "Env",
    "EnvEntry",
    "EnvReferenceError",
    "EnvSpec",
    "UnknownEnvError",
    "env_names",
    "get_spec",
    "make_env",
    "register",
]
