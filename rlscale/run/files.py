"""The one way rlscale replaces a file: written beside it, fsync'ed, renamed over it in one step, and
the directory fsync'ed, so a reader (or a process killed mid-write, or a machine losing power) sees
the old file or the new one, never a part of either."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PARTIAL_SUFFIX = ".partial"
"""Suffix of the file being written (with the writer's process id, so two writers never share one)."""


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8): write a temporary file beside it, fsync it, rename it over
    `path`, fsync the directory. Raises OSError (the temporary file is removed)."""
    path = Path(path)
    partial = path.with_name(f"{path.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def write_json_atomically(path: Path, data: Any) -> None:
    """`data` as indented JSON (and a final newline), written with `write_atomically`."""
    write_atomically(path, json.dumps(data, indent=1) + "\n")


def fsync_directory(path: Path) -> None:
    """Make the entries of directory `path` (a rename, a new file) durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_sweep_toml(path: Path, values: dict[str, Any], header: list[str]):
    """Validate `values` as a SweepConfig and write it (every field, explicit) to `path` with `header`
    as comment lines; returns the SweepConfig. Raises ConfigError naming every invalid field."""
    import tomli_w

    from rlscale.config import SweepConfig

    config = SweepConfig.from_dict(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, "".join(f"# {line}\n" for line in header) + tomli_w.dumps(config.to_dict()))
    return config
