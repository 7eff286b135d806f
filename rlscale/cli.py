"""The `rlscale` command line: thin; parses arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each subcommand lives in a module exposing `add_parser(subparsers)`, which registers the
# subcommand and sets `func(args) -> int` on it. Modules are imported lazily so that `rlscale fit`
# never pays for importing JAX.
COMMANDS = {
    "sweep": "rlscale.run.sweep_command",
    "demo": "rlscale.run.study_command",
    "fit": "rlscale.run.fitting",
    "envs": "rlscale.run.envs_command",
    "recommend": "rlscale.run.recommend_command",
    "plot": "rlscale.run.plot_command",
    "propose": "rlscale.run.propose_command",
    "validate": "rlscale.run.validate_command",
    "study": "rlscale.run.study_command",
    "check-agent": "rlscale.run.check_command",
    "check-env": "rlscale.run.check_command",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="rlscale", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    wanted = argv[0] if argv and argv[0] in COMMANDS else None
    modules = [COMMANDS[wanted]] if wanted else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(module).add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
