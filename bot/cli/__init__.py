"""The project's command line: `python -m bot <command> [options]`."""

import argparse
import sys

from bot.cli import config, data, indexer, privacy, servers, staff, supervise, telegram


def build_parser() -> argparse.ArgumentParser:
    """All commands and their options."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (
        ("build-nlp", servers.build_nlp),
        ("build-encoder", servers.build_encoder),
        ("run-rasa", servers.run_rasa),
        ("run-actions", servers.run_actions),
        ("run-web", servers.run_web),
        ("run-staff", servers.run_staff),
        ("run-shell", servers.run_shell),
        ("addresses", servers.addresses),
    ):
        sub.add_parser(name, help=func.__doc__).set_defaults(func=func)
    data.add_commands(sub)
    telegram.add_commands(sub)
    staff.add_commands(sub)
    privacy.add_commands(sub)
    indexer.add_commands(sub)
    config.add_commands(sub)
    supervise.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; errors print a clear message."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
