"""Envs named by reference in a sweep file: the names (JAX-free, so a sweep file is checked against
them before anything loads); loading one is `rlscale.envs.reference_suite`'s.

- `brax-class:package.module:ClassName`: any Brax `Env` subclass, built as `ClassName(**options)`.
- `playground:<Name>`: any MuJoCo Playground registry name, with its JAX implementation.
- `gymnax:<Name>`: a gymnax env with a continuous (Box) action space.
"""

from __future__ import annotations

BRAX_CLASS = "brax-class:"
PLAYGROUND = "playground:"
GYMNAX = "gymnax:"
PREFIXES = (BRAX_CLASS, PLAYGROUND, GYMNAX)


class EnvReferenceError(ValueError):
    """An env reference that cannot be used; the message names it and what was expected."""


def is_reference(name: str) -> bool:
    """Whether `name` is an env reference (starts with one of PREFIXES)."""
    return isinstance(name, str) and name.startswith(PREFIXES)
