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
from typing import Any, Mapping

from rlscale.typed import Reading, read

INT32_MAX = 2**31 - 1
"""The largest integer an option (or a sweep field) may hold: the engine and agents count in 32-bit
integers (gradient steps, env steps, seeds)."""
N_STEP_BATCH = "n_step"
"""`BatchSpec.kind` of agents that learn from `NStepTransition` batches."""
TRANSITION_BATCH = "transition"
"""`BatchSpec.kind` of agents that learn from one-step `Transition` batches."""
OPTIONS_READING = Reading(
    unknown="{where}: unknown option {key!r}; known options: {known}",
    mistyped="{where}.{key} must be {expected}, got {value!r}",
    integers=(-INT32_MAX - 1, INT32_MAX),
)
"""How an `[agent]` table is read (`build_options`): every integer must fit the engine's 32 bits."""


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
    accepted; an int where a float is expected is converted; an integer must fit 32 bits) and the
    `validate()` errors of the well-typed values (the others keep their presets meanwhile) are all
    reported, each prefixed with `prefix.<option>` (`rlscale.typed.read`).
    """
    return read(
        options_class, values, OPTIONS_READING, prefix, check=lambda options, _: [f"{prefix}.{message}" for message in options.validate()]
    )


def options_dict(options) -> dict[str, Any]:
    """An options dataclass as a JSON-ready dict (tuples become lists)."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in dataclasses.asdict(options).items()
    }
