"""Keep-alive HTTP sessions for Rasa's outgoing calls (the action server above all).

Rasa 3.6 opens a new aiohttp session, and so a new TCP connection, for every custom action it
runs. Under load each new connection costs CPU on both servers and extra trips through a busy
event loop. Here every endpoint borrows one session per event loop and keeps its connections
alive for a little less time than the action server (Sanic closes idle ones after 5 s), so a
reused connection is never one the server is closing.
"""

import asyncio
import weakref
from typing import Any

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_SECONDS = 2.0

_sessions: dict[tuple[Any, ...], tuple[weakref.ref, aiohttp.ClientSession]] = {}


class BorrowedSession:
    """`async with` that lends a shared session and leaves it open afterwards."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Lend `session`."""
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        """The shared session."""
        return self.session

    async def __aexit__(self, *_: object) -> None:
        """Keep the session (and its connections) for the next call."""


def session_key(endpoint: EndpointConfig) -> tuple[Any, ...]:
    """What makes two endpoints' sessions interchangeable: the loop, headers and credentials."""
    auth = endpoint.basic_auth or {}
    return (
        id(asyncio.get_running_loop()),
        tuple(sorted((endpoint.headers or {}).items())),
        auth.get("username"),
        auth.get("password"),
    )


def new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """A session configured as Rasa's own, with a keep-alive connection pool."""
    auth = endpoint.basic_auth
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )


def pooled_session(endpoint: EndpointConfig) -> BorrowedSession:
    """Same contract as EndpointConfig.session, with one open session per loop and endpoint."""
    loop, key = asyncio.get_running_loop(), session_key(endpoint)
    owner, session = _sessions.get(key, (None, None))
    if session is None or session.closed or owner is None or owner() is not loop:
        session = new_session(endpoint)  # a loop id can be reused once its loop has gone
        _sessions[key] = (weakref.ref(loop), session)
    return BorrowedSession(session)


async def close_sessions(*_: object) -> None:
    """Close the sessions of the running loop (a Sanic after_server_stop listener)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [key for key in _sessions if key[0] == loop_id]:
        await _sessions.pop(key)[1].close()
