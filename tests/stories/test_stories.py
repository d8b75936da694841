"""Rasa's own checks: data validation and the test stories, through the rasa CLI."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import MODEL, ROOT, missing_prerequisites

RASA = str(Path(sys.executable).with_name("rasa"))


def run_rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a rasa command from the repository root and capture its output."""
    return subprocess.run(
        [RASA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_training_data_validates_without_warnings() -> None:
    result = run_rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_stories_pass_without_prediction_errors(tmp_path: Path) -> None:
    reason = missing_prerequisites()
    if reason:
        pytest.skip(reason)
    out = tmp_path / "results"
    result = run_rasa(
        "test",
        "core",
        "--model",
        str(MODEL),
        "--stories",
        str(ROOT / "tests" / "stories"),
        "--fail-on-prediction-errors",
        "--out",
        str(out),
    )
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
