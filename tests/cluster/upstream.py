"""A tiny upstream HTTP server standing in for one replica behind HAProxy.

`python -m tests.cluster.upstream --port P --name N [--delay S]`

- `GET /`, `GET /health`: 200 with the server's name (what HAProxy's checks ask);
- `POST /webhook`: 200 `{"server": name}` after `--delay` seconds (an action call);
- `GET /control/drop`: from now on, close the connection on every POST without answering
  (a server that dies mid-request), `GET /control/serve` to answer again;
- a request with `Upgrade: websocket`: `101 Switching Protocols`, then every byte is echoed.
"""

import argparse
import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class State:
    """What the server was told to do."""

    name = ""
    delay = 0.0
    drop = threading.Event()


class Handler(BaseHTTPRequestHandler):
    """The routes above, HTTP/1.1 with keep-alive."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Health, control and WebSocket upgrade requests."""
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.echo_tunnel()
        elif self.path == "/control/drop":
            State.drop.set()
            self.reply(200, b"dropping\n")
        elif self.path == "/control/serve":
            State.drop.clear()
            self.reply(200, b"serving\n")
        else:
            self.reply(200, State.name.encode())

    def do_POST(self) -> None:
        """An action call: answer with the server's name, or drop the connection."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if State.drop.is_set():
            self.close_connection = True
            return
        time.sleep(State.delay)
        self.reply(200, json.dumps({"server": State.name}).encode(), "application/json")

    def reply(self, status: int, body: bytes, kind: str = "text/plain") -> None:
        """Send a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def echo_tunnel(self) -> None:
        """Switch protocols, then echo whatever arrives until the client closes."""
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while chunk := self.connection.recv(4096):
            self.connection.sendall(chunk)
        self.close_connection = True

    def log_message(self, *_: object) -> None:
        """Quiet."""


class Server(ThreadingHTTPServer):
    """Threads per connection; peers that hang up early (health checks) are not errors."""

    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet about connections reset by the other side."""


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    State.name, State.delay = args.name, args.delay
    Server(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
