"""Each fault of the soak, once, against a real production-profile cluster.

Two Rasa replicas and two action servers behind HAProxy on this machine's PostgreSQL, Redis
and RabbitMQ (a fresh database, queue and ports of the test's own). After every fault the
conversation goes on, each visitor message that got an answer is in its tracker once and in
order, and nothing the visitor was told is missing. Slow (a cluster start); run by CI.
"""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from bot.core.settings import Settings
from bot.handoff.conversation import Conversation
from bot.rasa.runtime.delivery import TRY_AGAIN
from tests.cluster.support import haproxy_binary, wait_for
from tests.support import cluster as faults
from tests.support.cluster import GAVE_UP, SERVERS, Cluster, stored_message_ids
from tests.support.servers import missing_prerequisites
from tests.support.services import require_postgres, require_rabbitmq, require_redis
from tests.support.takeover import TeamMember, staff_member, team_on_duty

pytestmark = pytest.mark.e2e
ATTEMPTS = 20


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster, started once for these tests."""
    reason = missing_prerequisites()
    if reason:
        pytest.skip(reason)
    haproxy_binary()
    require_postgres(), require_redis(), require_rabbitmq()
    running = Cluster(Path(tmp_path_factory.mktemp("cluster")))
    try:
        running.start()
        yield running
    finally:
        running.stop()


class Visitor:
    """A REST visitor that sends a message again, same id, until it gets a real answer."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.sender = cluster, f"fault-{uuid.uuid4().hex[:10]}"
        self.answered: list[str] = []  # message ids that got a real answer
        self.retries = 0

    def say(self, message: str) -> list[dict]:
        message_id = uuid.uuid4().hex
        body = {"sender": self.sender, "message": message, "metadata": {"message_id": message_id}}
        for _ in range(ATTEMPTS):
            try:
                response = requests.post(
                    f"{self.cluster.url}/webhooks/rest/webhook", json=body, timeout=30
                )
                replies = response.json() if response.status_code == 200 else []
            except requests.RequestException:
                replies = []
            if replies and TRY_AGAIN not in " ".join(r.get("text", "") for r in replies):
                self.answered.append(message_id)
                return replies
            self.retries += 1
            time.sleep(1)
        raise AssertionError(f"no answer to a message after {ATTEMPTS} attempts")


def stored_ids(cluster: Cluster, sender: str) -> list[str]:
    """The client ids of a conversation's stored user messages, in order."""
    engine = create_engine(cluster.database_url)
    try:
        return stored_message_ids(engine, [sender])[sender]
    finally:
        engine.dispose()


def assert_recorded_once_in_order(cluster: Cluster, visitor: Visitor) -> None:
    """Every answered message is stored exactly once, in the order it was sent."""
    stored = stored_ids(cluster, visitor.sender)
    assert [m for m in stored if m in visitor.answered] == visitor.answered
    assert len(stored) == len(set(stored))


def converse_through(cluster: Cluster, fault: object) -> Visitor:
    """Every replica serving, two answers, the fault, then the rest of the assessment."""
    cluster.wait_serving([*SERVERS["rasa"], *SERVERS["actions"]])
    visitor = Visitor(cluster)
    visitor.say("hi")
    visitor.say("help me work out which service fits")
    fault()
    for answer in (
        "one focused question really",
        "just this one decision",
        "a clear answer from an expert",
        "my husband and kids are with me",
    ):
        replies = visitor.say(answer)
    assert "/book_call" in [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert_recorded_once_in_order(cluster, visitor)
    return visitor


def healthy_again(cluster: Cluster) -> None:
    """Wait until every replica is back, and HAProxy sees it UP, before the next fault."""
    cluster.wait_healthy(gone=GAVE_UP)  # supervisord may still be restarting what was killed


def test_a_rasa_replica_killed_mid_conversation(cluster: Cluster) -> None:
    converse_through(cluster, lambda: cluster.kill("rasa-1"))
    assert "rasa-1" in cluster.haproxy("show servers state rasa")
    healthy_again(cluster)


def test_a_widget_conversation_survives_its_replica_dying(cluster: Cluster) -> None:
    cluster.disable("rasa-1")  # the socket lands on rasa-2, once it serves
    client, inbox, session = socketio.Client(reconnection_delay=0.5), [], {}
    client.on("session_confirm", session.update)
    client.on("connect", lambda: client.emit("session_request", dict(session)))  # id + token
    client.on("bot_uttered", inbox.append)
    client.connect(cluster.url, transports=["websocket"], socketio_path="/socket.io")
    try:
        assert wait_for(lambda: "session_id" in session, 30) is not None
        sender = session["session_id"]
        cluster.enable("rasa-1")  # UP again before rasa-2 dies under the socket
        client.emit("user_uttered", {"message": "help me decide"})
        assert wait_for(lambda: len(inbox) >= 1, 30)
        cluster.kill("rasa-2")
        inbox.clear()
        answer = {"message": "it's one specific question", "metadata": {"message_id": "a1"}}
        for _ in range(3):  # the widget sends it again, same id, if the socket died under it
            if wait_for(lambda: client.connected, 30) is None:
                continue
            client.emit("user_uttered", answer)
            if wait_for(lambda: len(inbox) >= 1, 20) is not None:
                break
        assert "decision" in " ".join(r.get("text", "") for r in inbox).lower()  # question two
        assert session["session_id"] == sender  # the token brought the same session back
    finally:
        client.disconnect()
    assert stored_ids(cluster, sender).count("a1") == 1
    healthy_again(cluster)


def test_an_action_server_killed_is_transparent(cluster: Cluster) -> None:
    visitor = converse_through(cluster, lambda: cluster.kill("actions-1"))
    assert visitor.retries == 0  # HAProxy and the action call retries hide the dead server
    healthy_again(cluster)


def test_a_postgresql_restart(cluster: Cluster) -> None:
    converse_through(cluster, faults.restart_postgresql)


def test_a_redis_restart(cluster: Cluster) -> None:
    converse_through(cluster, faults.restart_redis)


def test_a_rabbitmq_restart_and_the_index_catches_up(cluster: Cluster) -> None:
    visitor = converse_through(cluster, faults.restart_rabbitmq)
    engine = create_engine(cluster.database_url)

    def indexed() -> bool:
        with engine.connect() as db:
            newest = db.execute(
                text("SELECT MAX(id) FROM events WHERE sender_id = :s"), {"s": visitor.sender}
            ).scalar()
            row = db.execute(
                text("SELECT last_event_id FROM conversation_index WHERE conversation_id = :s"),
                {"s": visitor.sender},
            ).scalar()
        return row == newest

    cluster.wait_queue()  # the indexer consumes the event queue again
    assert wait_for(indexed, 90, interval=1) is not None
    engine.dispose()


def test_a_takeover_reaches_a_widget_on_the_other_replica(cluster: Cluster) -> None:
    """The navigator's calls land on rasa-1; the visitor's socket lives on rasa-2."""
    url = cluster.database_url
    replica_1 = f"http://127.0.0.1:{cluster.ports['RASA_REPLICA_1_PORT']}"
    settings = Settings(rasa_url=replica_1, database_url=url)
    open_conversation = lambda cid: Conversation(cid, settings)  # noqa: E731
    cluster.disable("rasa-1")  # the socket lands on rasa-2, once it serves
    client, inbox, session = socketio.Client(reconnection=False), [], {}
    client.on("session_confirm", session.update)
    client.on("bot_uttered", inbox.append)
    client.on("connect", lambda: client.emit("session_request", {}))
    with team_on_duty(url):
        client.connect(cluster.url, transports=["websocket"], socketio_path="/socket.io")
        try:
            cluster.enable("rasa-1")  # the navigator's calls go to rasa-1: it must serve
            assert wait_for(lambda: "session_id" in session, 30) is not None
            sender = session["session_id"]
            said = lambda words: wait_for(  # noqa: E731
                lambda: any(words in m.get("text", "") for m in inbox), 30
            )
            client.emit("user_uttered", {"message": "can I talk to a real person please"})
            assert said("navigators on duty") is not None
            ines = TeamMember(url, staff_member(url, name="Ines Duarte"), open_conversation)
            ines.join(sender)
            assert said("Ines Duarte from the Pilot Rock team has joined") is not None
            ines.send(sender, "Hi, I'm Ines. How can I help?")
            assert said("How can I help?") is not None
            staff = next(m for m in inbox if "How can I help?" in m.get("text", ""))
            assert staff.get("staff_name") == "Ines Duarte"
            client.emit("user_uttered", {"message": "I'm thinking of ending my life"})
            assert said("988") is not None
            ines.hand_back(sender)
            assert said("handed the chat back") is not None
        finally:
            client.disconnect()
