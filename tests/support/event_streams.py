"""Server-Sent Events in tests: an ASGI app served by uvicorn, and a stream read as it flows.

Starlette's TestClient hands back a response only once it has ended, so a stream that stays open
is read here from a real server: `serve` runs the app with uvicorn in a thread (lifespan on, so
the app's shutdown runs; open streams hold up the stop by a second at most), and `EventReader`
reads one stream with httpx in another thread, queueing each event as it arrives.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.servers import free_port

STARTUP_SECONDS = 20


@contextmanager
def serve(app: Any, name: str = "app") -> Iterator[str]:
    """Run `app` with uvicorn on a free port in a background thread; yields its address."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn {name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class Event:
    """One event of a stream: its type, its JSON body, and when it arrived (monotonic)."""

    kind: str
    data: dict[str, Any]
    at: float
    raw: str


class EventReader:
    """One open text/event-stream response, read in a background thread."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        """Open GET `url` with `client` (its cookies sign the request in)."""
        self.client, self.url = client, url
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.status_code = 0
        self.headers: httpx.Headers = httpx.Headers()
        self.raw = ""  # everything received so far
        self.kept: list[Event] = []  # arrived, not taken yet
        self.ended = False
        self._opened = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._read, name="event reader", daemon=True)

    def __enter__(self) -> EventReader:
        """Start reading; returns once the response's status and headers are in."""
        self._thread.start()
        if not self._opened.wait(10):
            raise TimeoutError(f"no response from {self.url}")
        return self

    def __exit__(self, *_: object) -> None:
        """Close the connection (the server sees the page go)."""
        if self._stream is not None and not self.ended:
            network = self._stream.extensions["network_stream"]
            with contextlib.suppress(OSError):  # unblocks the reading thread
                network.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def _read(self) -> None:
        """Read events until the stream ends; None marks the end."""
        try:
            with self.client.stream("GET", self.url) as response:
                self._stream = response
                self.status_code, self.headers = response.status_code, response.headers
                self._opened.set()
                kind, data = "message", ""
                for line in response.iter_lines():
                    self.raw += line + "\n"
                    if line.startswith("event: "):
                        kind = line[len("event: ") :]
                    elif line.startswith("data: "):
                        data = line[len("data: ") :]
                    elif line == "" and data:
                        body = json.loads(data)
                        self.events.put(Event(kind, body, time.monotonic(), data))
                        kind, data = "message", ""
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass  # closed by the test or the server
        finally:
            self._opened.set()
            self.events.put(None)

    def next(self, kind: str | None = None, timeout: float = 5.0) -> Event:
        """The next event not taken yet (of type `kind`: others stay for later calls)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.kept):
                if kind is None or event.kind == kind:
                    return self.kept.pop(index)
            if self.ended:
                raise EOFError(f"the stream ended before a {kind or 'event'}")
            self._receive(deadline, f"no {kind or 'event'} within {timeout} s")

    def until_end(self, timeout: float = 5.0) -> list[Event]:
        """Every event not taken yet, once the stream has ended."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            self._receive(deadline, f"the stream did not end within {timeout} s")
        events, self.kept = self.kept, []
        return events

    def _receive(self, deadline: float, missing: str) -> None:
        """Keep the next arrival (or note the end); TimeoutError(missing) once past `deadline`."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(missing)
        try:
            arrived = self.events.get(timeout=remaining)
        except queue.Empty:
            return
        if arrived is None:
            self.ended = True
        else:
            self.kept.append(arrived)
