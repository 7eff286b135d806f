"""A plain mapping (a parsed TOML table, a sweep file's `[agent]` table, command-line options) read
into a typed dataclass, with every problem reported at once. Pure Python: no JAX, no NumPy.

`read(cls, values, reading)` checks each key against the dataclass's fields (or `reading.aliases`,
a key -> field name map, or only `reading.keys`) and each value against its field's type hint,
converting what a TOML value cannot say directly: an int where a float is expected, a list where a
tuple is, and with `reading.scalars_as_lists` a single value where a list is. The well-typed values
build the dataclass (the others keep their defaults, so no message is about a value the user did not
write), and `check(instance, mistyped)` adds the class's own range and consistency problems. It
returns the instance, or None and every message: each unknown key, each value of the wrong type
(naming the type expected) and each problem `check` found.

Supported hints: bool, int, float, str, Any, `X | None` (None is the field's "unset"), list[X],
tuple[X, ...], dict[str, X] / Mapping[str, X] (a table), and a dataclass type (given as an instance
of it). A TOML file cannot hold None, so None only reaches an optional field from Python.

fit.json is read by its own decoder (`rlscale.laws.results.decode`), not by this one: it reads back
what rlscale's encoder wrote (renamed and flattened keys, null for non-finite floats), where this
one judges what a person wrote.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

FLOAT_MAX_INTEGER = 2**1023
"""Integers up to this size are numbers (a float holds them, if rounded); larger ones overflow."""
ALLOWED = "allowed"
"""A field's metadata key for the values it allows, in words ("an integer >= 0"): `read` names it
when a value has the wrong type, and `out_of_range` when it is out of range."""


def allowed(text: str) -> dict[str, str]:
    """Field metadata stating the values a field allows: `field(default=..., metadata=allowed(...))`."""
    return {ALLOWED: text}


def no_check(instance: Any, mistyped: frozenset[str]) -> list[str]:
    """`read`'s default check: the dataclass has no range checks of its own."""
    return []


@dataclasses.dataclass(frozen=True)
class Reading:
    """How `read` reads one kind of mapping and words its messages.

    The templates are filled with `where` (given to `read`, e.g. "agent" or "[fit]"), `key` (as
    written), `known` (the allowed keys, comma-separated), `expected` (e.g. "a list of integers")
    and `value` (as written)."""

    unknown: str = "unknown field {key!r}; known fields: {known}"
    """The message for a key that names no field."""
    mistyped: str = "{key} must be {expected}, got {value!r}"
    """The message for a value of the wrong type (`expected`: the field's `allowed` text, else its type's)."""
    aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Keys that name a field otherwise (key -> field name)."""
    keys: tuple[str, ...] | None = None
    """The keys allowed, as written (a field's name or its alias); None: every field's."""
    integers: tuple[int, int] | None = None
    """(low, high): an integer out of this range is of the wrong type (the engine's 32-bit ints)."""
    scalars_as_lists: bool = False
    """A single value where a list is expected is a one-element list (a sweep's axes)."""


def read(
    cls: type,
    values: Mapping[str, Any],
    reading: Reading = Reading(),
    where: str = "",
    check: Callable[[Any, frozenset[str]], list[str]] = no_check,
) -> tuple[Any, list[str]]:
    """(an instance of dataclass `cls` built from `values`, []), or (None, every problem found).

    `check(instance, mistyped)` returns the range problems of the instance built from the well-typed
    values; `mistyped` names the fields whose value was refused (checks involving them should be
    left out: those fields still hold their defaults, so every field needs one). A `ValueError` that
    `cls` raises while it is built (a dataclass that checks itself) is one more problem."""
    fields = {field.name: field for field in dataclasses.fields(cls)}
    allowed_keys = list(reading.keys or [_key_of(name, reading.aliases) for name in fields])
    hints = typing.get_type_hints(cls)
    known = [key for key in values if key in allowed_keys and reading.aliases.get(key, key) in fields]
    errors = [
        reading.unknown.format(where=where, key=key, known=", ".join(allowed_keys)) for key in values if key not in known
    ]
    typed, mistyped = {}, set()
    for key in known:
        name, value = reading.aliases.get(key, key), values[key]
        converted, expected = _convert(value, hints[name], reading)
        if expected is None:
            typed[name] = converted
        else:
            expected = fields[name].metadata.get(ALLOWED, expected)
            errors.append(reading.mistyped.format(where=where, key=key, expected=expected, value=value))
            mistyped.add(name)
    try:
        instance = cls(**typed)
    except ValueError as error:
        return None, errors + [f"{where} {error}".strip()]
    errors += check(instance, frozenset(mistyped))
    return (None, errors) if errors else (instance, [])


def out_of_range(instance: Any, ok: Mapping[str, bool], mistyped: frozenset[str] = frozenset()) -> list[str]:
    """"<field> must be <its allowed text>, got <value>" for each field of `ok` that is False, except
    those in `mistyped` (they hold their defaults); the fields state their range with `allowed`."""
    fields = {field.name: field for field in dataclasses.fields(instance)}
    return [
        f"{name} must be {fields[name].metadata[ALLOWED]}, got {shown(getattr(instance, name))}"
        for name, fine in ok.items()
        if not fine and name not in mistyped
    ]


def shown(value: Any) -> str:
    """`value` as a person wrote it: a tuple as a list."""
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def _key_of(name: str, aliases: Mapping[str, str]) -> str:
    """The key that names field `name` (its alias, if it has one)."""
    return next((key for key, field in aliases.items() if field == name), name)


def _convert(value: Any, hint: Any, reading: Reading) -> tuple[Any, str | None]:
    """(`value` converted to `hint`, None), or (None, what `hint` expects, e.g. "an integer")."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None, None
        (inner,) = [argument for argument in arguments if argument is not type(None)]
        return _convert(value, inner, reading)
    if origin in (list, tuple):
        return _convert_sequence(value, origin, arguments, reading)
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return (value, None) if isinstance(value, Mapping) else (None, "a table")
    if hint is Any:
        return value, None
    if not _is_a(value, hint, reading):
        return None, _describe(hint, reading)
    return (float(value) if hint is float else value), None


def _convert_sequence(value: Any, origin: type, arguments: tuple, reading: Reading) -> tuple[Any, str | None]:
    """A list or tuple of `arguments` (`X, ...`, or one hint per position) from a list."""
    if reading.scalars_as_lists and origin is list and not isinstance(value, (list, tuple)):
        value = [value]
    length = None if len(arguments) == 1 or arguments[1] is Ellipsis else len(arguments)
    expected = f"a list of {f'{length} ' if length else ''}{_plural(arguments[0], reading)}"
    if not isinstance(value, (list, tuple)) or (length is not None and len(value) != length):
        return None, expected
    items = [_convert(item, arguments[0] if length is None else arguments[index], reading) for index, item in enumerate(value)]
    if any(error is not None for _, error in items):
        return None, expected
    return origin(item for item, _ in items), None


def _is_a(value: Any, hint: Any, reading: Reading) -> bool:
    """Whether `value` is of the scalar (or dataclass) type `hint`; a bool is not a number."""
    if hint is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if hint is int:
        low, high = reading.integers or (value, value)
        return isinstance(value, int) and low <= value <= high
    if hint is float:
        return isinstance(value, float) or (isinstance(value, int) and abs(value) <= FLOAT_MAX_INTEGER)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise TypeError(f"fields of type {hint!r} cannot be read from a mapping")


def _describe(hint: Any, reading: Reading) -> str:
    """What a value of `hint` is, for messages: "an integer", "true or false", "a table", ..."""
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer" + _range_text(reading)
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    return f"a {getattr(hint, '__name__', hint)}"


def _plural(hint: Any, reading: Reading) -> str:
    """`_describe` for the items of a list: "numbers", "integers in [...]", "tables", ..."""
    if typing.get_origin(hint) in (dict, Mapping) or hint in (dict, Mapping):
        return "tables"
    words = {int: "integers" + _range_text(reading), float: "numbers", str: "strings", bool: "booleans"}
    return words.get(hint, f"{getattr(hint, '__name__', hint)}s")


def _range_text(reading: Reading) -> str:
    return f" in [{reading.integers[0]}, {reading.integers[1]}]" if reading.integers else ""
