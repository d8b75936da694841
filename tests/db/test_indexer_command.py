"""`python -m bot run-indexer` as a process: health, counts-only logs, clean stop, bad config."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.core.paths import ROOT
from tests.support.conversations import emergency_conversation, write_conversation
from tests.support.indexing import index_differences

SECRET_TEXT = "crushing chest pain"  # in emergency_conversation's visitor messages


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The command's environment: this database, no broker unless given, a free health port."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        RABBITMQ_URL="",
        INDEXER_HEALTH_PORT=str(free_port()),
        LOG_LEVEL="INFO",
        ENVIRONMENT="test",
    )
    env.update(extra)
    return env


def run(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run-indexer"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def health(port: int) -> tuple[int, dict]:
    """GET /health: (status, body), or (0, {}) while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_consumer_process_indexes_reports_health_and_stops_cleanly(
    migrated_url: str, tmp_path: Path
) -> None:
    env = environment(migrated_url)
    port = int(env["INDEXER_HEALTH_PORT"])
    log = (tmp_path / "indexer.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run-indexer"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        write_conversation(migrated_url, "c-live", emergency_conversation())
        deadline = time.monotonic() + 60
        status, body = health(port)
        while time.monotonic() < deadline and not (status == 200 and body.get("events")):
            time.sleep(0.1)
            status, body = health(port)
        assert status == 200 and body["ok"] and body["source"] == "rasa-events"
        assert body["events"] > 0 and body["failed"] == 0
        engine = create_engine(migrated_url, future=True)
        with Session(engine) as session:
            assert index_differences(session) == []
        engine.dispose()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log.seek(0)
    output = log.read()
    assert "index consumer started (source: rasa-events)" in output
    assert "index consumer stopped:" in output
    assert SECRET_TEXT not in output and "c-live" not in output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_configuration_exits_with_status_2_and_a_clear_message(database_url: str) -> None:
    unmigrated = run(environment(database_url))
    assert unmigrated.returncode == 2
    assert "run `python -m bot db upgrade` first" in unmigrated.stderr
    broker = run(environment(database_url, RABBITMQ_URL="http://127.0.0.1:5672"))
    assert broker.returncode == 2 and "RABBITMQ_URL must look like amqp://" in broker.stderr
    database = run(environment("nosuchdb://x/y"))
    assert database.returncode == 2 and "DATABASE_URL is not usable" in database.stderr
    settings = run(environment(database_url, INDEXER_HEALTH_PORT="not-a-port"))
    assert settings.returncode == 2 and "indexer_health_port" in settings.stderr
