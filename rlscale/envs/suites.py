"""The built-in env suites, static tables that import no JAX until an env is built: the tiny pure-JAX
envs, Brax's locomotion envs ('brax/...') and DM Control ('dmc/...')."""

from __future__ import annotations

from rlscale.envs import brax_suite, dmc_suite, pure_jax_suite

BUILT_IN_SUITES = (pure_jax_suite, brax_suite, dmc_suite)


def is_built_in(name: str) -> bool:
    """Whether `name` belongs to a built-in suite."""
    return any(name in suite.names() for suite in BUILT_IN_SUITES)
