"""Health endpoints of the processes that `make run` and `make run-cluster` supervise."""

import requests
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient

from bot.core.health import serve_health
from bot.core.settings import Settings
from bot.db.session import make_engine
from bot.mail.outbox import Heartbeat, health_check
from bot.staff.app import create_app as staff_app
from bot.web.app import create_app as web_app
from tests.cluster.support import free_ports

UNREACHABLE = "postgresql://nobody@127.0.0.1:{port}/nothing"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current reading."""
        return self.now


def sessions(url: str) -> sessionmaker:
    """Sessions on `url`."""
    return sessionmaker(make_engine(url), future=True)


def test_outbox_health_needs_the_database_and_a_recent_pass(tmp_path) -> None:
    clock = Clock()
    heartbeat = Heartbeat(clock)
    check = health_check(sessions(f"sqlite:///{tmp_path / 'outbox.db'}"), heartbeat, 60)
    assert check() == {"ok": True, "database": "ok", "last_pass_seconds_ago": 0.0}
    clock.now = 61
    assert check()["ok"] is False
    heartbeat.beat()
    assert check()["ok"] is True


def test_outbox_health_is_served_and_says_503_without_a_database(tmp_path) -> None:
    health_port, dead_port = free_ports(2)
    broken = health_check(sessions(UNREACHABLE.format(port=dead_port)), Heartbeat(), 60)
    server = serve_health(health_port, broken)
    try:
        response = requests.get(f"http://127.0.0.1:{health_port}/health", timeout=10)
    finally:
        server.shutdown()
    assert response.status_code == 503 and response.json()["ok"] is False


def test_staff_health_checks_the_database(tmp_path) -> None:
    good = Settings(database_url=f"sqlite:///{tmp_path / 'staff.db'}", environment="test")
    with TestClient(staff_app(good)) as client:
        response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"ok": True, "database": "ok"}
    bad = Settings(database_url=UNREACHABLE.format(port=free_ports(1)[0]), environment="test")
    with TestClient(staff_app(bad)) as client:
        assert client.get("/health").status_code == 503


def test_web_health_is_an_alias_of_healthz() -> None:
    with TestClient(web_app(rasa_url="http://localhost:5005")) as client:
        health, healthz = client.get("/health"), client.get("/healthz")
    assert health.status_code == healthz.status_code
    assert health.json() == healthz.json()
