"""The `rlscale` command line: thin; each subcommand (a module of `rlscale.commands`) parses its
arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module exposes `COMMANDS`, its `rlscale.commands.Command`s. Modules are imported lazily, so
# that `rlscale fit` never pays for importing JAX.
COMMANDS = {
    "sweep": "rlscale.commands.sweep",
    "demo": "rlscale.commands.study",
    "fit": "rlscale.commands.fit",
    "envs": "rlscale.commands.envs",
    "recommend": "rlscale.commands.recommend",
    "plot": "rlscale.commands.plot",
    "propose": "rlscale.commands.propose",
    "validate": "rlscale.commands.validate",
    "compare": "rlscale.commands.compare",
    "snapshot": "rlscale.commands.snapshot",
    "study": "rlscale.commands.study",
    "check-agent": "rlscale.commands.check",
    "check-env": "rlscale.commands.check",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rlscale", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    modules = [COMMANDS[wanted]] if wanted else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        for command in importlib.import_module(module).COMMANDS:
            command.add_to(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
