"""Envs of your own (suite 'plugin'): `register(name, factory, spec)` in Python, or an `rlscale.envs`
entry point of an installed package naming an `EnvEntry` (see `rlscale.plugins`).

A plug-in env is built as `factory(**options)` and must keep the registry's Env contract (see
`rlscale.envs.registry`): pure, unbatched, jittable `reset(rng)` / `step(state, action)`, actions
f32[action_size] in [-1, 1], `done` 1.0 only on a true termination (never on the time limit: the
engine truncates at `episode_length`). rlscale adds the `action_repeat` option to every plug-in.
`rlscale check-env NAME` runs the conformance checks the built-in suites pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from rlscale.envs.options import check_action_repeat, check_options
from rlscale.envs.suites import is_built_in
from rlscale.plugins import ENV_GROUP, Plugins, name_and_factory_errors, resolve_factory

SUITE = "plugin"
ACTION_REPEAT_OPTION = "int >= 1 dividing the episode's steps (default 1; added by rlscale)"
SPEC_FIELDS = ("observation_size", "action_size", "episode_length", "return_low", "return_high", "normalization_source")
"""What a plug-in states about its env (as built with action_repeat 1)."""


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    """One plug-in env."""

    name: str
    """The `env` value of a sweep file."""
    factory: str | Callable[..., Any]
    """`factory(**options) -> Env`, or "package.module:attribute" naming it (imported when built)."""
    spec: Mapping[str, Any]
    """observation_size, action_size, episode_length (agent steps at action_repeat 1; the engine's
    truncation point), return_low / return_high (raw returns mapped to 0 / 1000 for the fit) and
    normalization_source (where those two come from)."""
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Option name -> meaning, for the options `factory` accepts (values: str, int, float, bool)."""
    summary: str = ""

    def errors(self) -> list[str]:
        """Every problem with the entry itself."""
        errors = name_and_factory_errors(self.name, self.factory)
        if not isinstance(self.spec, Mapping):
            return [f"env {self.name!r}: spec must be a mapping with {', '.join(SPEC_FIELDS)}, got {self.spec!r}"]
        missing = [field for field in SPEC_FIELDS if field not in self.spec]
        unknown = [field for field in self.spec if field not in SPEC_FIELDS]
        if missing:
            errors.append(f"spec misses {', '.join(missing)}")
        if unknown:
            errors.append(f"spec has unknown field(s) {', '.join(map(str, unknown))}; expected {', '.join(SPEC_FIELDS)}")
        for field in ("observation_size", "action_size", "episode_length"):
            value = self.spec.get(field, 1)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                errors.append(f"spec.{field} must be an integer >= 1, got {value!r}")
        low, high = self.spec.get("return_low", 0.0), self.spec.get("return_high", 1.0)
        if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and high > low):
            errors.append(f"spec.return_high must be a number above spec.return_low, got {low!r} and {high!r}")
        if "action_repeat" in self.options:
            errors.append("option 'action_repeat' is added by rlscale; leave it out of options")
        return [f"env {self.name!r}: {message}" for message in errors]

    def resolve_factory(self) -> Callable[..., Any]:
        return resolve_factory(self.factory, f"env {self.name!r}")


PLUGINS = Plugins(ENV_GROUP, "env", EnvEntry, "rlscale.envs.EnvEntry", is_built_in)
"""The envs registered in this process or installed as plug-ins."""


def register(
    name: str,
    factory: str | Callable[..., Any],
    spec: Mapping[str, Any],
    options: Mapping[str, str] | None = None,
    summary: str = "",
    replace: bool = False,
) -> EnvEntry:
    """Makes env `name` available as `env = name` (in this process) and returns its entry; see
    `EnvEntry` for the arguments. ValueError listing every problem, or when `name` is taken."""
    return PLUGINS.add(EnvEntry(name, factory, dict(spec), dict(options or {}), summary), replace)


def names() -> list[str]:
    """Registered and installed plug-in env names."""
    return list(PLUGINS.entries())


def _allowed_options(entry: EnvEntry) -> dict[str, str]:
    return {**entry.options, "action_repeat": ACTION_REPEAT_OPTION}


def spec_fields(name: str, action_repeat: int = 1, **options: Any) -> dict[str, Any]:
    """EnvSpec fields of plug-in env `name` (from its entry; nothing is built)."""
    entry = PLUGINS.get(name)
    check_options(name, {**options, "action_repeat": action_repeat}, _allowed_options(entry))
    return dict(
        name=name,
        suite=SUITE,
        observation_size=entry.spec["observation_size"],
        action_size=entry.spec["action_size"],
        episode_length=check_action_repeat(action_repeat, entry.spec["episode_length"]),
        action_repeat=action_repeat,
        return_low=float(entry.spec["return_low"]),
        return_high=float(entry.spec["return_high"]),
        normalization_source=str(entry.spec["normalization_source"]),
    )


def build(name: str, action_repeat: int = 1, **options: Any):
    """`factory(**options)` of plug-in env `name`, wrapped in ActionRepeat when action_repeat > 1."""
    from rlscale.envs.wrappers import with_action_repeat

    entry = PLUGINS.get(name)
    check_options(name, {**options, "action_repeat": action_repeat}, _allowed_options(entry))
    return with_action_repeat(entry.resolve_factory()(**options), action_repeat)
