"""Plug-ins (your own agents and envs), registered in Python or found through installed packages'
entry points, without importing JAX: one `Plugins` registry per kind.

A package makes an agent or env available by declaring an entry point in its pyproject.toml:

    [project.entry-points."rlscale.agents"]
    td3 = "rlscale_td3.plugin:AGENT"        # an rlscale.agents.AgentEntry

    [project.entry-points."rlscale.envs"]
    "myorg/reacher" = "my_envs.plugin:ENV"  # an rlscale.envs.EnvEntry

The entry point's name is the `algo` / `env` value of a sweep file. The object it names must live
in a module that does not import JAX (the agent's options dataclass, a lazily imported
"module:attribute" factory), so that a sweep file is validated before anything heavy loads.
Entry points are read once per process, on the first lookup of a name that is not built in.
A Python registration (`rlscale.agents.register`, `rlscale.envs.register`) made before wins over an
entry point of the same name; a broken plug-in is one message naming its entry point and the fault.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any

AGENT_GROUP = "rlscale.agents"
ENV_GROUP = "rlscale.envs"


@dataclasses.dataclass(frozen=True)
class LoadedPlugins:
    """What the entry points of one group gave: objects by name, and why the others failed."""

    objects: dict[str, Any]
    """Entry-point name -> the loaded object (not yet checked by the registry)."""
    errors: dict[str, str]
    """Entry-point name -> one message saying which entry point failed to load and why."""


def entry_point_origin(entry_point: metadata.EntryPoint) -> str:
    """'<value>' of package <distribution>: where a plug-in came from, for messages."""
    distribution = getattr(entry_point, "dist", None)
    package = f" of package {distribution.name!r}" if distribution is not None else ""
    return f"entry point {entry_point.value!r}{package}"


def load_entry_points(group: str) -> LoadedPlugins:
    """Loads every entry point of `group`; a failure is recorded under its name, never raised."""
    objects, errors = {}, {}
    for entry_point in metadata.entry_points(group=group):
        if entry_point.name in objects or entry_point.name in errors:
            errors[entry_point.name] = (
                f"{entry_point.name!r} is declared by more than one installed package "
                f"(one is {entry_point_origin(entry_point)}); uninstall all but one"
            )
            objects.pop(entry_point.name, None)
            continue
        try:
            objects[entry_point.name] = entry_point.load()
        except Exception as error:  # a plug-in's import may fail in any way; report, don't crash
            errors[entry_point.name] = (
                f"plug-in {entry_point.name!r} ({entry_point_origin(entry_point)}, group {group!r}) "
                f"could not be loaded: {type(error).__name__}: {error}"
            )
    return LoadedPlugins(objects, errors)


def resolve_factory(factory: Any, owner: str) -> Any:
    """`factory` itself when callable, else the attribute "package.module:attribute" names, imported
    now; ValueError naming `owner` (e.g. "agent 'td3'") and the reference when the import fails."""
    if callable(factory):
        return factory
    module, _, attribute = factory.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(
            f"{owner}: its factory {factory!r} could not be imported ({type(error).__name__}: {error}); "
            "expected 'package.module:attribute' naming a callable"
        ) from None


def name_and_factory_errors(name: Any, factory: Any) -> list[str]:
    """Problems with a plug-in's name and factory as given to a `register` function."""
    errors = []
    if not isinstance(name, str) or not name or name != name.strip():
        errors.append(f"a name must be a non-empty string without surrounding spaces, got {name!r}")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        errors.append(f"factory must be a callable or 'package.module:attribute', got {factory!r}")
    return errors


def checked_entry_points(group: str, kind: str, entry_type: type, type_name: str, is_built_in) -> LoadedPlugins:
    """`load_entry_points(group)` keeping only `entry_type` objects whose `.name` is the entry
    point's, that do not take a built-in name (`is_built_in(name)`), and whose `.errors()` is
    empty; each other one is recorded under its name with a message saying why."""
    loaded = load_entry_points(group)
    objects, errors = {}, dict(loaded.errors)
    for name, entry in loaded.objects.items():
        where = f"{kind} plug-in {name!r} (entry point group {group!r})"
        if not isinstance(entry, entry_type):
            errors[name] = f"{where} must name an {type_name}, got {type(entry).__name__}"
        elif entry.name != name:
            errors[name] = f"{where} names an {entry_type.__name__} called {entry.name!r}; the two names must match"
        elif is_built_in(name):
            errors[name] = f"{where} has the name of a built-in {kind}; choose another name"
        elif entry.errors():
            errors[name] = f"{where} is invalid: " + "; ".join(entry.errors())
        else:
            objects[name] = entry
    return LoadedPlugins(objects, errors)


class Plugins:
    """The plug-ins of one kind ("agent" or "env"): entries (objects with `.name` and `.errors()`)
    registered in this process with `add`, and those the entry points of `group` declare, read once,
    on the first lookup that needs them. Built-in names (`is_built_in`) are the caller's; no plug-in
    may take one."""

    def __init__(self, group: str, kind: str, entry_type: type, type_name: str, is_built_in: Callable[[str], bool]):
        self.group, self.kind, self.entry_type, self.type_name = group, kind, entry_type, type_name
        self.is_built_in = is_built_in
        self._entries: dict[str, Any] = {}
        self._broken: dict[str, str] = {}
        """Entry-point name -> why that plug-in is unusable (failed import, not an entry, ...)."""
        self._entry_points_read = False

    def entries(self) -> dict[str, Any]:
        """Every usable plug-in by name, reading the entry points on the first call."""
        if not self._entry_points_read:
            self._entry_points_read = True
            loaded = checked_entry_points(self.group, self.kind, self.entry_type, self.type_name, self.is_built_in)
            self._broken.update(loaded.errors)
            for name, entry in loaded.objects.items():
                self._entries.setdefault(name, entry)  # a Python registration made earlier wins
        return self._entries

    def get(self, name: str) -> Any | None:
        """The usable plug-in `name`, or None (entry points are read only when it is not registered)."""
        return self._entries.get(name) or self.entries().get(name)

    def broken_reason(self, name: str) -> str | None:
        """Why plug-in `name` is unusable, when an installed package declares it but it is broken."""
        self.entries()
        return self._broken.get(name)

    def add(self, entry: Any, replace: bool = False) -> Any:
        """Register `entry` in this process and return it; ValueError listing every problem with it,
        or when its name is built in or taken (and not `replace`)."""
        errors = entry.errors()
        if self.is_built_in(entry.name):
            errors.append(f"{self.kind} {entry.name!r} is built in and cannot be replaced; choose another name")
        elif not replace and entry.name in self.entries():
            errors.append(f"{self.kind} {entry.name!r} is already registered; pass replace=True to replace it")
        if errors:
            raise ValueError("; ".join(errors))
        self._entries[entry.name] = entry
        self._broken.pop(entry.name, None)
        return entry

    @contextlib.contextmanager
    def restored(self, reread: bool = False) -> Iterator[None]:
        """Undo, on leaving, every registration made inside (for tests); with `reread`, the entry
        points are read again inside (packages installed meanwhile are found)."""
        saved = (dict(self._entries), dict(self._broken), self._entry_points_read)
        if reread:
            self._broken, self._entry_points_read = {}, False
        try:
            yield
        finally:
            self._entries, self._broken, self._entry_points_read = saved
