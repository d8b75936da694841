"""Commands for annotation export and data retention; both are audited (counts only)."""

import argparse
from pathlib import Path

from bot import audit
from bot.db.session import session_scope
from bot.paths import DATA, VAR
from bot.privacy import PurgeReport, purge_older_than
from bot.settings import get_settings

DEFAULT_EXPORT = VAR / "annotations" / "nlu-annotations.yml"
EXPORT_ACTOR = "cli:export-annotations"
RETENTION_ACTOR = "cli:retention"


def export_annotations(args: argparse.Namespace) -> int:
    """Write staff intent annotations as Rasa NLU YAML; report duplicates and conflicts."""
    # Imported here: it loads Rasa's training-data reader, which other commands do not need.
    from bot.conversations import annotations

    with session_scope() as session:
        result = annotations.export_annotations(session, args.training_dir)
        annotations.write_export(result, args.out)
        audit.record(
            session, actor=EXPORT_ACTOR, action="export_annotations", target_type="annotations",
            details={"exported": result.exported, "duplicates": result.duplicates,
                     "conflicts": len(result.conflicts)},
        )  # fmt: skip
    print(f"wrote {args.out}")
    print(f"exported: {result.exported}")
    print(f"duplicates: {result.duplicates} (already in the training data; not exported again)")
    print(f"conflicts: {len(result.conflicts)} (labelled differently; not exported)")
    for conflict in result.conflicts:
        print(f"  {conflict.describe()}")
    return 0


def retention_purge(args: argparse.Namespace) -> int:
    """Delete idle conversations and unconverted leads older than the retention period."""
    days = args.days if args.days is not None else get_settings().retention_days
    with session_scope() as session:
        report = purge_older_than(session, days=days, actor=RETENTION_ACTOR, dry_run=args.dry_run)
    print("\n".join(purge_lines(report, days)))
    return 0


def purge_lines(report: PurgeReport, days: int) -> list[str]:
    """The purge report as printed: what went (or would go), table by table."""
    verb = "would delete" if report.dry_run else "deleted"
    lines = [
        f"retention {days} days: cutoff {report.cutoff:%Y-%m-%d %H:%M} UTC"
        + (" (dry run: nothing deleted)" if report.dry_run else ""),
        f"{verb} {report.conversations} conversations idle since before the cutoff",
        f"{verb} {report.leads} leads older than the cutoff without a booking",
    ]
    lines += [f"  {table}: {count}" for table, count in sorted(report.counts.items())]
    return lines


def positive_int(value: str) -> int:
    """An argparse type for a whole number of days, at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `export-annotations` and `retention purge`."""
    export = sub.add_parser("export-annotations", help=export_annotations.__doc__)
    export.add_argument("--out", type=Path, default=DEFAULT_EXPORT, help="YAML file to write")
    export.add_argument("--training-dir", type=Path, default=DATA / "nlu",
                        help="NLU training data to check against")  # fmt: skip
    export.set_defaults(func=export_annotations)
    retention = sub.add_parser("retention", help="data retention")
    act = retention.add_subparsers(dest="action", required=True)
    purge = act.add_parser("purge", help=retention_purge.__doc__)
    purge.add_argument("--days", type=positive_int, default=None,
                       help="retention period (default: RETENTION_DAYS, 365)")  # fmt: skip
    purge.add_argument("--dry-run", action="store_true", help="count only; delete nothing")
    purge.set_defaults(func=retention_purge)
