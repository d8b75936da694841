"""A loopback TCP proxy whose link can be cut and restored, to simulate losing the network.

The proxy runs an asyncio loop in a background thread, listens on a free port on 127.0.0.1 and
forwards every connection to one target (the Rasa server). `cut()` aborts every open connection
and resets each new one as soon as it is accepted, as a dropped network does to a browser;
`restore()` lets new connections through again.
"""

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

CHUNK = 65536
T = TypeVar("T")


class TcpProxy:
    """Forward 127.0.0.1:<port> to `target_host:target_port` until told to cut the link."""

    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.accepted = 0  # connections accepted and forwarded
        self.refused = 0  # connections reset because the link was cut
        self._cut = False
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tcp-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        """The proxy's HTTP base URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        """Whether the link is cut right now."""
        return self._cut

    def start(self) -> "TcpProxy":
        """Start listening; returns once the port is bound."""
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        """Close every open connection at once and reset new ones until `restore()`."""
        self._call(self._cut_link())

    def restore(self) -> None:
        """Let new connections through again."""
        self._call(self._restore_link())

    def stop(self) -> None:
        """Close everything and end the background thread."""
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def open_connections(self) -> int:
        """How many forwarded connections are open now."""
        return self._call(self._count())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _count(self) -> int:
        return len(self._open)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut_link(self) -> None:
        self._cut = True
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _restore_link(self) -> None:
        self._cut = False

    async def _shutdown(self) -> None:
        await self._cut_link()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if self._cut:
            self.refused += 1
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if self._cut:  # cut while connecting upstream
            self.refused += 1
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            return
        self.accepted += 1
        pair = (client_writer, upstream_writer)
        self._open.update(pair)
        tasks = [
            asyncio.ensure_future(self._pipe(client_reader, upstream_writer)),
            asyncio.ensure_future(self._pipe(upstream_reader, client_writer)),
        ]
        try:
            # Both directions end cleanly on EOF; an error on either side drops the pair.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for writer in pair:
                self._open.discard(writer)
                writer.transport.abort()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until EOF, then half-close the other side (errors propagate)."""
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()


@contextmanager
def tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    """A started proxy to the target, stopped on exit."""
    proxy = TcpProxy(target_host, target_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
