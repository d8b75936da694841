"""Rasa's outgoing HTTP calls reuse one keep-alive connection per event loop."""

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig
from sanic.config import DEFAULT_CONFIG

from bot.rasa.runtime import pooled_http


@pytest_asyncio.fixture(loop_scope="function")
async def echo_server() -> AsyncIterator[tuple[str, list[tuple[str, int]]]]:
    """A local server answering JSON and recording the client address of each request."""
    peers: list[tuple[str, int]] = []

    async def handle(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[:2])
        return web.json_response({"echo": await request.json(), "token": request.query.get("t")})

    app = web.Application()
    app.router.add_post("/webhook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/webhook", peers
    await runner.cleanup()


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """EndpointConfig borrowing pooled sessions, as `bot.rasa.runtime.install` installs it."""
    monkeypatch.setattr(EndpointConfig, "session", pooled_http.pooled_session)


async def test_rasa_default_opens_a_connection_per_call(echo_server) -> None:
    url, peers = echo_server
    endpoint = EndpointConfig(url)
    for n in range(3):
        assert (await endpoint.request(json={"n": n}))["echo"] == {"n": n}
    assert len(set(peers)) == 3


async def test_pooled_calls_share_one_connection(echo_server, pooled) -> None:
    url, peers = echo_server
    endpoint = EndpointConfig(url, token="secret", token_name="t")
    replies = [await endpoint.request(json={"n": n}) for n in range(5)]
    assert [reply["echo"] for reply in replies] == [{"n": n} for n in range(5)]
    assert {reply["token"] for reply in replies} == {"secret"}
    assert len(peers) == 5 and len(set(peers)) == 1
    await pooled_http.close_sessions()


async def test_closing_ends_the_loop_sessions_and_a_new_one_follows(echo_server, pooled) -> None:
    url, peers = echo_server
    endpoint = EndpointConfig(url)
    await endpoint.request(json={})
    borrowed = endpoint.session()
    await pooled_http.close_sessions()
    assert borrowed.session.closed
    assert (await endpoint.request(json={"again": True}))["echo"] == {"again": True}
    assert len(set(peers)) == 2
    await pooled_http.close_sessions()


async def test_endpoints_with_other_credentials_get_their_own_session(pooled) -> None:
    plain = EndpointConfig("http://127.0.0.1:1/")
    other = EndpointConfig("http://127.0.0.1:1/", basic_auth={"username": "u", "password": "p"})
    assert plain.session().session is EndpointConfig("http://127.0.0.1:2/").session().session
    assert plain.session().session is not other.session().session
    await pooled_http.close_sessions()


def test_client_keep_alive_ends_before_the_action_server_closes_idle_connections() -> None:
    server_timeout = DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]  # the action server keeps Sanic's
    assert server_timeout > pooled_http.KEEPALIVE_SECONDS


def test_a_new_event_loop_never_gets_a_session_of_a_closed_one(monkeypatch) -> None:
    monkeypatch.setattr(EndpointConfig, "session", pooled_http.pooled_session)
    endpoint = EndpointConfig("http://127.0.0.1:1/")

    async def borrow() -> aiohttp.ClientSession:
        return endpoint.session().session

    first = asyncio.run(borrow())
    second = asyncio.run(borrow())  # a new loop, perhaps at the old one's address
    assert second is not first
    asyncio.run(pooled_http.close_sessions())
