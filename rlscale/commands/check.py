"""`rlscale check-agent NAME` / `rlscale check-env NAME`: the conformance kit
(`rlscale.testing.conformance`) from the shell. Prints each check as it finishes, with its time;
exits 0 when every check passed, 1 when one failed, 2 on a bad name or option."""

from __future__ import annotations

import argparse
import sys
import time

from rlscale.commands import Command
from rlscale.config import ConfigError, parse_overrides
from rlscale.run.errors import EXIT_BAD_INPUT
from rlscale.testing.checks import AGENT_CHECKS, CHECK_ENV, CHECK_NETWORK, ENV_CHECKS

EXIT_CHECK_FAILED = 1


def _options(items: list[str] | None) -> dict:
    """KEY=VALUE items (TOML values, bare words as strings) as a dict."""
    return parse_overrides(items or [])


def _report_progress(subject: str):
    """A callback printing the subject, then each result with the seconds since the previous one."""
    from rlscale.testing.conformance import format_result

    last, printed = [time.perf_counter()], []

    def on_result(result) -> None:
        now = time.perf_counter()
        if not printed:
            print(f"{subject}:", flush=True)
            printed.append(True)
        print(f"{format_result(result)} ({now - last[0]:.1f} s)", flush=True)
        last[0] = now

    return on_result


def _run(subject: str, run_checks) -> int:
    try:
        report = run_checks(_report_progress(subject))
    except (ConfigError, ValueError) as error:
        print(f"rlscale: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    failed = report.failed
    if failed:
        print(f"{subject} fails {len(failed)} of {len(report.results)} checks: {', '.join(r.name for r in failed)}")
        return EXIT_CHECK_FAILED
    print(f"{subject} conforms ({len(report.results)} checks passed)")
    return 0


def run_check_agent(args: argparse.Namespace) -> int:
    try:
        agent_options, env_options = _options(args.set), _options(args.env_set)
    except ConfigError as error:
        print(f"rlscale: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from rlscale.agents.spec import NetworkConfig
    from rlscale.testing.conformance import check_agent

    network = NetworkConfig(hidden_width=args.hidden_width, hidden_depth=args.hidden_depth)
    return _run(
        f"agent {args.name!r}",
        lambda on_result: check_agent(
            args.name, agent_options, args.env, env_options, network, only=args.check, on_result=on_result
        ),
    )


def run_check_env(args: argparse.Namespace) -> int:
    try:
        env_options = _options(args.set)
    except ConfigError as error:
        print(f"rlscale: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.rollout_steps is not None and args.rollout_steps < 1:
        print("rlscale: --rollout-steps must be >= 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    from rlscale.testing.conformance import check_env

    return _run(
        f"env {args.name!r}",
        lambda on_result: check_env(
            args.name, env_options, only=args.check, on_result=on_result, rollout_steps=args.rollout_steps
        ),
    )


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """The `check-agent` flags."""
    parser.add_argument("name", help="the agent's algo name")
    parser.add_argument("--set", action="append", metavar="OPTION=VALUE", help="an agent option over its preset (repeatable)")
    parser.add_argument("--env", default=CHECK_ENV, help=f"env to check on (default {CHECK_ENV})")
    parser.add_argument("--env-set", action="append", metavar="OPTION=VALUE", help="an option of --env (repeatable)")
    parser.add_argument("--hidden-width", type=int, default=CHECK_NETWORK.hidden_width, help=f"network width (default {CHECK_NETWORK.hidden_width})")
    parser.add_argument("--hidden-depth", type=int, default=CHECK_NETWORK.hidden_depth, help=f"network depth (default {CHECK_NETWORK.hidden_depth})")
    parser.add_argument("--check", action="append", choices=AGENT_CHECKS, help="run only this check (repeatable)")


def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """The `check-env` flags."""
    parser.add_argument("name", help="the env's name or reference")
    parser.add_argument("--set", action="append", metavar="OPTION=VALUE", help="an env option (repeatable)")
    parser.add_argument("--check", action="append", choices=ENV_CHECKS, help="run only this check (repeatable)")
    parser.add_argument("--rollout-steps", type=int, help="steps of the termination rollouts (default: the episode length)")


COMMANDS = (
    Command(
        "check-agent",
        "run the conformance checks the built-in agents pass on an agent (yours: a plug-in)",
        "Run the agent conformance checks on agent NAME (built in, registered, or a plug-in of an installed "
        f"package): {', '.join(AGENT_CHECKS)}. See rlscale/testing/conformance.py for what each checks. "
        "Exit status 1 when a check fails.",
        add_agent_arguments,
        run_check_agent,
    ),
    Command(
        "check-env",
        "run the conformance checks the built-in env suites pass on an env (a plug-in or a reference)",
        "Run the env conformance checks on env NAME (registered, a plug-in, or a reference such as "
        f"'brax-class:package.module:ClassName'): {', '.join(ENV_CHECKS)}. Exit status 1 when a check fails.",
        add_env_arguments,
        run_check_env,
    ),
)
