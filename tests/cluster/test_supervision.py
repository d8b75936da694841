"""The embedded profile under supervisord, started as `make run` starts it.

`python -m bot supervise embedded` runs on free ports with its own RUN_DIR and SQLite file and
the suite's trained model. The tests kill the action server with SIGKILL (restarted, the rest
keep serving), check that variables set in the environment beat `.env` in the started programs,
and stop everything with Ctrl-C's signal.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dotenv import dotenv_values

from bot.cli import build_parser
from tests.cluster.support import ROOT, alive, answers, children, free_ports, missing, wait_for
from tests.support.servers import MODEL, STARTUP_SECONDS, missing_prerequisites, prepare_database

TOKEN = "supervision-test-token"
PROGRAMS = ("rasa", "actions", "outbox", "indexer", "web", "staff")


@dataclass
class Profile:
    """A running `supervise embedded`: its process, environment and addresses."""

    process: subprocess.Popen
    env: dict[str, str]
    workdir: Path

    def port(self, name: str) -> int:
        """A port setting of this run."""
        return int(self.env[name])

    def url(self, setting: str, path: str) -> str:
        """An address on one of this run's ports."""
        return f"http://127.0.0.1:{self.port(setting)}{path}"

    def pid(self, program: str) -> int:
        """A program's process id, from supervisorctl (0 when it is not running)."""
        result = subprocess.run(
            [sys.executable, "-m", "bot", "supervisorctl", "embedded", "pid", program],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return int(result.stdout.strip()) if result.stdout.strip().isdigit() else 0

    def send(self, sender: str, text: str) -> list[dict]:
        """One message over the REST channel."""
        response = requests.post(
            self.url("RASA_PORT", "/webhooks/rest/webhook"),
            json={"sender": sender, "message": text},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def indexer_exists() -> bool:
    """Whether this checkout has the index consumer's command yet."""
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return "run-indexer" in commands.choices


def health_urls(profile: Profile) -> dict[str, str]:
    """Each program's health endpoint."""
    urls = {
        "rasa": profile.url("RASA_PORT", "/"),
        "actions": profile.url("ACTION_SERVER_PORT", "/health"),
        "web": profile.url("WEB_PORT", "/health"),
        "staff": profile.url("STAFF_PORT", "/health"),
        "outbox": profile.url("OUTBOX_HEALTH_PORT", "/health"),
    }
    if indexer_exists():
        urls["indexer"] = profile.url("INDEXER_HEALTH_PORT", "/health")
    return urls


def environment(workdir: Path) -> dict[str, str]:
    """The run's environment: free ports, its own files, one Sanic worker, no Telegram."""
    names = (
        "RASA_PORT",
        "ACTION_SERVER_PORT",
        "WEB_PORT",
        "STAFF_PORT",
        "OUTBOX_HEALTH_PORT",
        "INDEXER_HEALTH_PORT",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISOR")}
    return (
        env
        | dict(zip(names, map(str, free_ports(len(names))), strict=True))
        | {
            "ENVIRONMENT": "test",
            "RUN_DIR": str(workdir / "var"),
            "RASA_WORKERS": "1",
            "DATABASE_URL": f"sqlite:///{workdir / 'supervised.db'}",
            "MODEL_PATH": str(MODEL),
            "RASA_API_TOKEN": TOKEN,
            "LOG_LEVEL": "WARNING",
            "TELEGRAM_TOKEN": "",
            "TELEGRAM_WEBHOOK_URL": "",
            "SMTP_HOST": "",
        }
    )


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    """`python -m bot supervise embedded`, with every health endpoint answering."""
    reason = missing_prerequisites()
    if reason:
        missing(reason)
    workdir = tmp_path_factory.mktemp("supervised")
    env = environment(workdir)
    prepare_database(env)
    log = (workdir / "supervise.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "supervise", "embedded"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Profile(process, env, workdir)
    pids: list[int] = []
    try:
        up = wait_for(lambda: all(map(answers, health_urls(running).values())), STARTUP_SECONDS, 1)
        assert up is not None, (workdir / "supervise.log").read_text()[-3000:]
        pids = [running.pid(name) for name in PROGRAMS]
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # supervisord stops its programs first
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in [*pids, *(running.pid(name) for name in PROGRAMS if process.poll() is None)]:
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()


def test_every_program_is_supervised_and_healthy(profile: Profile) -> None:
    status = subprocess.run(
        [sys.executable, "-m", "bot", "supervisorctl", "embedded", "status"],
        cwd=ROOT,
        env=profile.env,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    listed = {line.split()[0]: line.split()[1] for line in status.splitlines() if line.strip()}
    assert set(listed) == set(PROGRAMS)
    assert all(listed[name] == "RUNNING" for name in health_urls(profile))
    for name, url in health_urls(profile).items():
        assert answers(url), f"{name} is not healthy at {url}"
    assert (Path(profile.env["RUN_DIR"]) / "log" / "rasa.log").exists()


def test_environment_beats_dotenv_in_the_started_programs(profile: Profile) -> None:
    dotenv = dotenv_values(ROOT / ".env") if (ROOT / ".env").exists() else {}
    if dotenv.get("RASA_WORKERS", "1") == "1" or not dotenv.get("DATABASE_URL"):
        missing(".env does not set RASA_WORKERS (not 1) and DATABASE_URL: run `make setup`")
    # .env asks for several Sanic workers (child processes); the environment says 1.
    assert children(profile.pid("rasa")) == []
    # .env names var/pilotrock.db; the environment's database is the one that gets the events.
    profile.send("env-wins", "hi")
    database = profile.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        count = connection.execute(
            "SELECT count(*) FROM events WHERE sender_id = 'env-wins'"
        ).fetchone()[0]
    assert count > 0


def test_killed_action_server_is_restarted_while_rasa_keeps_serving(profile: Profile) -> None:
    before = {name: profile.pid(name) for name in ("rasa", "actions", "web", "staff", "outbox")}
    rasa_answers: list[bool] = []
    done = threading.Event()

    def watch_rasa() -> None:
        while not done.is_set():
            rasa_answers.append(answers(profile.url("RASA_PORT", "/")))
            done.wait(0.2)

    watcher = threading.Thread(target=watch_rasa)
    watcher.start()
    try:
        os.kill(before["actions"], signal.SIGKILL)
        restarted = wait_for(
            lambda: (
                profile.pid("actions") not in (0, before["actions"])
                and answers(profile.url("ACTION_SERVER_PORT", "/health"))
            ),
            60,
            0.5,
        )
    finally:
        done.set()
        watcher.join()
    assert restarted is not None, "the action server was not restarted"
    assert rasa_answers and all(rasa_answers), "Rasa stopped answering while actions restarted"
    after = {name: profile.pid(name) for name in before}
    assert {k: v for k, v in after.items() if k != "actions"} == {
        k: v for k, v in before.items() if k != "actions"
    }
    replies = profile.send("after-restart", "help me decide")  # runs the assessment's actions
    assert replies and profile.process.poll() is None


def test_ctrl_c_stops_every_program(profile: Profile) -> None:
    pids = {name: profile.pid(name) for name in PROGRAMS}
    running = [pid for pid in pids.values() if pid]
    os.killpg(profile.process.pid, signal.SIGINT)  # what the terminal sends to `make run`
    assert profile.process.wait(timeout=60) == 0
    assert wait_for(lambda: not any(alive(pid) for pid in running), 10) is not None
    for name in health_urls(profile):
        assert not answers(health_urls(profile)[name], timeout=1), f"{name} still answers"
