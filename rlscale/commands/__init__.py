"""The `rlscale` subcommands, one module each, above the runtime: a command parses its arguments,
calls the runtime (`rlscale.run`) or the fit layer (`rlscale.laws`), and prints. Only `rlscale.cli`
imports them (its table names each subcommand's module); what two commands share lives below them,
in `rlscale.run` or `rlscale.laws`, apart from the flags they share (`arguments.py`).

A command module exposes `COMMANDS`, a tuple of `Command`s."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Command:
    """One subcommand: its name, a line for `rlscale --help`, the text of `rlscale NAME --help`, the
    flags it takes and what runs it (returns the exit status)."""

    name: str
    summary: str
    description: str | None
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]

    def add_to(self, subparsers) -> argparse.ArgumentParser:
        """Register the subcommand on `subparsers` (of `argparse.ArgumentParser.add_subparsers`)."""
        parser = subparsers.add_parser(self.name, help=self.summary, description=self.description)
        self.add_arguments(parser)
        parser.set_defaults(func=self.run)
        return parser
