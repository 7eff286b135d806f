"""Static, JAX-free descriptions shared by every agent: network sizes, the batch an agent learns
from, and typed agent options.

Nothing here imports JAX, so `rlscale.config` can validate a sweep file's `algo` and `[agent]`
table (through `rlscale.agents.registry`) before anything is compiled.

Agent options are a frozen dataclass per agent (e.g. `rlscale.agents.bro.options.BROOptions`):
each field is one static option (part of the compile key) with a type that a TOML value can hold
(bool, int, float, str, or a tuple of ints written as a TOML list) and a docstring; a
`validate() -> list[str]` method returns every range problem, each naming its option.
`build_options` turns a plain mapping (a sweep file's `[agent]` table) into such a dataclass,
collecting every unknown name, bad type and bad value at once.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping

INT32_MAX = 2**31 - 1
"""The largest integer an option (or a sweep field) may hold: the engine and agents count in 32-bit
integers (gradient steps, env steps, seeds)."""
N_STEP_BATCH = "n_step"
"""`BatchSpec.kind` of agents that learn from `NStepTransition` batches."""
TRANSITION_BATCH = "transition"
"""`BatchSpec.kind` of agents that learn from one-step `Transition` batches."""


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Shape-changing network options: part of a group's compile key (the model-size axis)."""

    hidden_width: int = 256
    """Units per hidden layer (the paper's Gym SAC uses 256)."""
    hidden_depth: int = 2
    """Number of hidden layers (BRO: residual blocks)."""
    layer_norm: bool = False
    """Apply layer norm after each hidden dense layer (plain MLPs)."""

    def validate(self) -> list[str]:
        errors = []
        if self.hidden_width < 1:
            errors.append(f"hidden_width must be >= 1, got {self.hidden_width}")
        if self.hidden_depth < 1:
            errors.append(f"hidden_depth must be >= 1, got {self.hidden_depth}")
        return errors


@dataclasses.dataclass(frozen=True)
class BatchSpec:
    """What kind of replay batch an agent's `update` receives.

    kind TRANSITION_BATCH: `rlscale.agents.core.Transition` rows; kind N_STEP_BATCH:
    `rlscale.agents.core.NStepTransition` rows of up to `n_step` environment steps each.
    """

    kind: str = TRANSITION_BATCH
    n_step: int = 1
    """Steps per n-step row (only for kind N_STEP_BATCH)."""


def build_options(options_class: type, values: Mapping[str, Any], prefix: str = "agent") -> tuple[Any, list[str]]:
    """An `options_class` instance from `values`, and every problem found (then the instance is None).

    Unknown names, values of the wrong type (a TOML list where a tuple of ints is expected is
    accepted; an int where a float is expected is converted) and the `validate()` errors of the
    well-typed values are all reported, each prefixed with `prefix.<option>`.
    """
    fields = {f.name: f for f in dataclasses.fields(options_class)}
    hints = typing.get_type_hints(options_class)
    errors = [
        f"{prefix}: unknown option {name!r}; known options: {', '.join(fields)}"
        for name in values
        if name not in fields
    ]
    coerced = {}
    for name, value in values.items():
        if name in fields:
            converted, error = _coerce(value, hints[name])
            if error:
                errors.append(f"{prefix}.{name} must be {error}, got {value!r}")
            else:
                coerced[name] = converted
    # The well-typed options are range-checked too (the others keep their presets meanwhile), so
    # every problem is reported at once.
    options = options_class(**coerced)
    errors += [f"{prefix}.{message}" for message in options.validate()]
    return (None, errors) if errors else (options, [])


def options_dict(options) -> dict[str, Any]:
    """An options dataclass as a JSON-ready dict (tuples become lists)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(options).items()
    }


def _coerce(value: Any, annotation: Any) -> tuple[Any, str | None]:
    """(converted value, None), or (None, a description of the expected type)."""
    if annotation is bool:
        return (value, None) if isinstance(value, bool) else (None, "true or false")
    if annotation is int:
        ok = _is_int32(value)
        return (value, None) if ok else (None, f"an integer in [{-INT32_MAX - 1}, {INT32_MAX}]")
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return (float(value), None) if ok else (None, "a number")
    if annotation is str:
        return (value, None) if isinstance(value, str) else (None, "a string")
    if typing.get_origin(annotation) is tuple:
        ok = isinstance(value, (list, tuple)) and all(_is_int32(v) for v in value)
        return (tuple(value), None) if ok else (None, f"a list of integers in [{-INT32_MAX - 1}, {INT32_MAX}]")
    raise TypeError(f"agent options of type {annotation!r} are not supported")


def _is_int32(value: Any) -> bool:
    """Whether `value` is an integer (not a bool) that fits 32 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and -INT32_MAX - 1 <= value <= INT32_MAX
