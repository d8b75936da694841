"""Real python-socketio servers (aiohttp, free ports) on one background event loop, and clients.

Each server stands for one Rasa worker process or replica: its own `AsyncServer` and client
manager. Clients are python-socketio's threaded `Client` over WebSocket (websocket-client): its
asyncio client needs a newer aiohttp than Rasa 3.6 allows.
"""

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import socketio
from aiohttp import web

T = TypeVar("T")
WAIT_SECONDS = 10.0


class Loop:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = WAIT_SECONDS) -> T:
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel what still runs, then stop the loop and its thread."""
        self.run(_cancel_others())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=WAIT_SECONDS)
        self.loop.close()


async def _cancel_others() -> None:
    """Cancel every task of the running loop but this one."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Server:
    """One Socket.IO server: `join` (ack "ok") puts the calling socket in a room."""

    sio: socketio.AsyncServer
    url: str
    runner: web.AppRunner


async def start_server(manager: socketio.AsyncManager) -> Server:
    """An aiohttp Socket.IO server with `manager` on a free port of 127.0.0.1."""
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager)

    async def join(sid: str, room: str) -> str:
        await sio.enter_room(sid, room)
        return "ok"

    sio.on("join", join)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Server(sio=sio, url=f"http://127.0.0.1:{port}", runner=runner)


@dataclass
class Running:
    """Servers running on one background loop."""

    loop: Loop
    servers: list[Server] = field(default_factory=list)


@contextmanager
def servers(*managers: Callable[[], socketio.AsyncManager]) -> Iterator[Running]:
    """One running server per manager factory, all on one background loop."""
    running = Running(Loop())
    try:
        for make in managers:
            running.servers.append(running.loop.run(_make_and_start(make)))
        yield running
    finally:
        for server in running.servers:
            running.loop.run(server.runner.cleanup())
        running.loop.close()


async def _make_and_start(make: Callable[[], socketio.AsyncManager]) -> Server:
    """Build the manager inside the loop, then the server."""
    return await start_server(make())


@dataclass
class Listener:
    """A connected client that keeps every `news` event it receives."""

    client: socketio.Client
    inbox: list[Any] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Any]:
        """The inbox once it holds `count` events (or whatever it holds at the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.inbox) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.inbox)


@contextmanager
def listener(url: str, room: str) -> Iterator[Listener]:
    """A WebSocket client of the server at `url`, in `room`."""
    client = socketio.Client()
    found = Listener(client)
    client.on("news", found.inbox.append)
    client.connect(url, transports=["websocket"], wait_timeout=WAIT_SECONDS)
    try:
        assert client.call("join", room, timeout=WAIT_SECONDS) == "ok"
        yield found
    finally:
        client.disconnect()
