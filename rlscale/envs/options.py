"""Checks of an env's options that every suite shares (JAX-free: a sweep file is validated with them
before anything heavy loads)."""

from __future__ import annotations

from typing import Any


def check_options(name: str, options: dict[str, Any], allowed: dict[str, str]) -> None:
    """Raises ValueError naming the env, the unknown option and the allowed ones (with meanings)."""
    for key in options:
        if key not in allowed:
            listing = "; ".join(f"{option}: {meaning}" for option, meaning in allowed.items())
            raise ValueError(f"unknown option {key!r} for env {name!r}; allowed options: {listing}")


def require_positive_int(action_repeat: Any) -> None:
    """Raises ValueError unless `action_repeat` is an int >= 1."""
    if not isinstance(action_repeat, int) or isinstance(action_repeat, bool) or action_repeat < 1:
        raise ValueError(f"action_repeat must be an int >= 1; got {action_repeat!r}")


def check_action_repeat(action_repeat: Any, horizon: int) -> int:
    """Validates `action_repeat` against a physics-step horizon; returns the agent-step horizon."""
    require_positive_int(action_repeat)
    if horizon % action_repeat:
        raise ValueError(
            f"action_repeat must divide the episode's {horizon} physics steps; got {action_repeat}"
        )
    return horizon // action_repeat
