"""`rlscale snapshot DIR DEST`: copy a sweep's or study's run directory so that it resumes on another
machine, without the checkpoints' arrays (rlscale/run/snapshot.py): finished groups keep their rows and
counters; an unfinished group is left out with its rows and trains again from the start when the copy
resumes (`rlscale sweep CONFIG --out DEST` or `rlscale study STUDY --out DEST`)."""

from __future__ import annotations

import argparse
import sys

from rlscale.commands import Command
from rlscale.run.errors import EXIT_BAD_INPUT, WriteFailed, failure_exit_status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `snapshot` flags."""
    parser.add_argument("source", metavar="DIR", help="a sweep's or study's run directory (not being written)")
    parser.add_argument("destination", metavar="DEST", help="the copy: a new or empty directory outside DIR")


def run_snapshot(args: argparse.Namespace) -> int:
    """The `snapshot` subcommand: 0 on success, EXIT_BAD_INPUT when DIR or DEST is refused or DIR
    cannot be read, the write failure's status when the copy cannot be written."""
    # Imported here: the checkpoint module imports JAX, which `rlscale --help` should not pay for.
    from rlscale.run.checkpoint import RunDirectoryError
    from rlscale.run.snapshot import snapshot

    try:
        result = snapshot(args.source, args.destination)
    except RunDirectoryError as error:
        print(f"rlscale snapshot: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WriteFailed as error:
        print(f"rlscale snapshot: error: {error}; {args.source} is unchanged", file=sys.stderr)
        return failure_exit_status(error)
    except OSError as error:
        print(f"rlscale snapshot: error: could not read {args.source}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(result.summary())
    print(f"resume it with the sweep or study command that wrote {args.source}, with --out {args.destination}")
    return 0


COMMANDS = (
    Command(
        "snapshot",
        "copy a run or study directory to resume elsewhere: rows, manifests and state, no checkpoint arrays",
        __doc__,
        add_arguments,
        run_snapshot,
    ),
)
