"""The Redis bus between Socket.IO servers (the production profile) against the real Redis."""

import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.rasa.channels.socketio_bus import RedisBus
from tests.support.services import require_redis
from tests.support.socketio_servers import WAIT_SECONDS, Loop, Server, listener, servers

Drain = Callable[[], list[dict]]
Pair = tuple[Loop, Server, Server]


@pytest.fixture
def redis_url() -> str:
    """The real Redis (skipped here without one, a failure on CI)."""
    return require_redis()


@pytest.fixture
def channel() -> str:
    """A pub/sub channel of this test's own."""
    return f"test-socketio-{uuid.uuid4().hex}"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain Redis client."""
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def published(client: redis.Redis, channel: str) -> Iterator[Drain]:
    """Reads what the servers published on the channel, decoded from JSON."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)

    def drain(seconds: float = 0.5) -> list[dict]:
        messages, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.05)
            if message and message["type"] == "message":
                messages.append(json.loads(message["data"]))
        return messages

    yield drain
    pubsub.close()


@pytest.fixture
def pair(redis_url: str, channel: str) -> Iterator[Pair]:
    """Two servers (two replicas, say) with Redis buses on the same channel."""

    def bus() -> RedisBus:
        return RedisBus(redis_url, channel)

    with servers(bus, bus) as running:
        yield running.loop, *running.servers


def wait_subscribers(client: redis.Redis, channel: str, count: int) -> None:
    """Wait until `count` connections listen on the channel (servers subscribe on their own)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) < count:
        assert time.monotonic() < deadline, "the servers never subscribed to Redis"
        time.sleep(0.02)


def test_an_emit_on_one_server_reaches_a_socket_on_another(
    pair: Pair, channel: str, client: redis.Redis, published: Drain
) -> None:
    loop, a, b = pair
    with listener(b.url, "session-1") as visitor, listener(b.url, "session-2") as other:
        wait_subscribers(client, channel, 2)  # B and this test
        loop.run(a.sio.emit("news", {"text": "from A"}, room="session-1"))
        assert visitor.wait_for(1) == [{"text": "from A"}]
        assert other.wait_for(1, timeout=1) == []
    sent = published()
    assert [m["method"] for m in sent] == ["emit"]
    assert sent[0]["data"] == [{"text": "from A"}]  # JSON on the wire


def test_a_local_member_gets_the_emit_without_the_bus(
    pair: Pair, channel: str, client: redis.Redis, published: Drain
) -> None:
    loop, a, b = pair
    with listener(a.url, "session-1") as visitor, listener(b.url, "session-1") as elsewhere:
        wait_subscribers(client, channel, 3)  # A, B and this test
        loop.run(a.sio.emit("news", {"text": "local"}, room="session-1"))
        assert visitor.wait_for(1) == [{"text": "local"}]
        assert elsewhere.wait_for(1, timeout=1) == []
    assert published() == []
