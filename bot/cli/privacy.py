"""Commands for annotation export and data retention; both are audited (counts only)."""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.conversations.privacy import PurgeReport, purge_older_than
from bot.core.paths import DATA, VAR
from bot.core.settings import get_settings
from bot.db import audit
from bot.db.session import session_scope

if TYPE_CHECKING:  # the module loads Rasa's training-data reader: imported only when exporting
    from bot.conversations.annotations import AnswerExport, ExportResult, RiskExport

DEFAULT_EXPORT = VAR / "annotations" / "nlu-annotations.yml"
DEFAULT_ANSWERS_EXPORT = VAR / "annotations" / "answers"
DEFAULT_SAFETY_EXPORT = VAR / "annotations" / "safety"
EXPORT_ACTOR = "cli:export-annotations"
RETENTION_ACTOR = "cli:retention"


def export_annotations(args: argparse.Namespace) -> int:
    """Write intent annotations as NLU YAML, answer and risk labels as model files; report all."""
    # Imported here: it loads Rasa's training-data reader, which other commands do not need.
    from bot.conversations import annotations

    if args.answers_out.resolve() == args.answers_training_dir.resolve():
        raise ValueError("--answers-out must not be the answer training data it is checked against")
    if args.safety_out.resolve() == args.safety_training_dir.resolve():
        raise ValueError("--safety-out must not be the safety training data it is checked against")
    with session_scope() as session:
        result = annotations.export_annotations(session, args.training_dir)
        answers = annotations.export_answer_annotations(session, args.answers_training_dir)
        risks = annotations.export_risk_annotations(session, args.safety_training_dir)
        annotations.write_export(result, args.out)
        written = annotations.write_answer_export(answers, args.answers_out)
        risk_written = annotations.write_risk_export(risks, args.safety_out)
        details = export_counts("", result) | export_counts("answers_", answers)
        details |= export_counts("risk_", risks)
        audit.record(
            session,
            actor=EXPORT_ACTOR,
            action="export_annotations",
            target_type="annotations",
            details=details,
        )
    print(f"wrote {args.out}")
    print(f"exported: {result.exported}")
    print(f"duplicates: {result.duplicates} (already in the training data; not exported again)")
    print(f"conflicts: {len(result.conflicts)} (labelled differently; not exported)")
    for conflict in result.conflicts:
        print(f"  {conflict.describe()}")
    print(model_report("answer", "answer", answers, written, args.answers_out))
    print(model_report("risk", "safety", risks, risk_written, args.safety_out))
    return 0


def export_counts(
    prefix: str, export: "ExportResult | AnswerExport | RiskExport"
) -> dict[str, int]:
    """One export's counts for the audit entry, their keys starting with `prefix`."""
    return {
        f"{prefix}exported": export.exported,
        f"{prefix}duplicates": export.duplicates,
        f"{prefix}conflicts": len(export.conflicts),
    }


def model_report(
    kind: str, data: str, export: "AnswerExport | RiskExport", written: list[Path], folder: Path
) -> str:
    """The `kind` labels' part of the export report (ids and labels, never the texts).

    `data` names the training data the labels were checked against (answer, safety).
    """
    lines = [f"wrote {path}" for path in written] or [f"no {kind}-model files to write in {folder}"]
    lines += [
        f"{kind} labels exported: {export.exported}",
        f"{kind} duplicates: {export.duplicates} (already in the {data} training data; "
        "not exported again)",
        f"{kind} conflicts: {len(export.conflicts)} (labelled differently; not exported)",
    ]
    lines += [f"  {conflict.describe()}" for conflict in export.conflicts]
    return "\n".join(lines)


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


def add_model_options(
    export: argparse.ArgumentParser, data: str, out: Path, model: str, files: str
) -> None:
    """`--<data>-out` and `--<data>-training-dir` (data/<data>) for one model's labels."""
    export.add_argument(
        f"--{data}-out", type=Path, default=out, help=f"folder for the {model} files ({files})"
    )
    export.add_argument(
        f"--{data}-training-dir",
        type=Path,
        default=DATA / data,
        help=f"{model} training data to check against",
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `export-annotations` and `retention purge`."""
    export = sub.add_parser("export-annotations", help=export_annotations.__doc__)
    export.add_argument("--out", type=Path, default=DEFAULT_EXPORT, help="YAML file to write")
    export.add_argument(
        "--training-dir", type=Path, default=DATA / "nlu", help="NLU training data to check against"
    )
    add_model_options(export, "answers", DEFAULT_ANSWERS_EXPORT, "answer-model", "<question>.yml")
    add_model_options(export, "safety", DEFAULT_SAFETY_EXPORT, "risk-model", "<label>.yml")
    export.set_defaults(func=export_annotations)
    retention = sub.add_parser("retention", help="data retention")
    act = retention.add_subparsers(dest="action", required=True)
    purge = act.add_parser("purge", help=retention_purge.__doc__)
    purge.add_argument(
        "--days",
        type=positive_int,
        default=None,
        help="retention period (default: RETENTION_DAYS, 365)",
    )
    purge.add_argument("--dry-run", action="store_true", help="count only; delete nothing")
    purge.set_defaults(func=retention_purge)
