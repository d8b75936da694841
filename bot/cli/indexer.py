"""Commands for the staff conversation index: its consumer, a full rebuild, and its state.

run-indexer [--reconcile-seconds 60]   the consumer (see bot.indexer); logs counts only
index rebuild                          re-summarise every conversation (e.g. after an upgrade)
index status                           rows, conversations behind their events, checkpoint
"""

import argparse
import json

from bot.indexer import RECONCILE_EVERY


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `run-indexer` and `index rebuild | status`."""
    run = sub.add_parser("run-indexer", help=run_indexer.__doc__)
    run.add_argument(
        "--reconcile-seconds",
        type=float,
        default=RECONCILE_EVERY,
        help="seconds between reconciliations with the tracker store",
    )
    run.set_defaults(func=run_indexer)
    index = sub.add_parser("index", help="the staff conversation index")
    commands = index.add_subparsers(dest="index_command", required=True)
    commands.add_parser("rebuild", help=rebuild.__doc__).set_defaults(func=rebuild)
    commands.add_parser("status", help=status.__doc__).set_defaults(func=status)


def run_indexer(args: argparse.Namespace) -> int:
    """Run the index consumer: events in, conversation index and dashboard figures up to date."""
    from bot.indexer.service import main

    if args.reconcile_seconds <= 0:
        raise ValueError("--reconcile-seconds must be positive")
    return main(reconcile_every=args.reconcile_seconds)


def rebuild(_: argparse.Namespace) -> int:
    """Re-summarise every conversation into the index (safe while the consumer runs)."""
    from bot.conversations.index import rebuild_index
    from bot.db.session import session_factory

    written = rebuild_index(session_factory())
    print(f"index rebuilt: {written} conversations")
    return 0


def status(_: argparse.Namespace) -> int:
    """Print the index's state as JSON (counts only)."""
    from bot.db.session import session_scope
    from bot.indexer.status import index_status

    with session_scope() as session:
        print(json.dumps(index_status(session), indent=2))
    return 0
