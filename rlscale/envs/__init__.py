"""Environments: a registry of pure, jittable envs with stable names (see ENVS.md)."""

from rlscale.envs.registry import Env, EnvSpec, env_names, get_spec, make_env

__all__ = ["Env", "EnvSpec", "env_names", "get_spec", "make_env"]
