"""A tiny `/health` endpoint for worker processes that serve no HTTP of their own."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Check = Callable[[], dict]  # returns {"ok": bool, ...figures}; never health data of visitors


def handler_for(check: Check) -> type[BaseHTTPRequestHandler]:
    """A request handler answering GET /health with the check's JSON (200 ok, else 503)."""

    class HealthHandler(BaseHTTPRequestHandler):
        """GET /health only."""

        def do_GET(self) -> None:
            """Run the check and answer with its result."""
            if self.path.split("?")[0] != "/health":
                self.send_error(404)
                return
            try:
                result = check()
            except Exception as error:  # a failing check is an unhealthy process, not a crash
                result = {"ok": False, "error": type(error).__name__}
            body = json.dumps(result).encode()
            self.send_response(200 if result.get("ok") else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            """Keep probes out of the log."""

    return HealthHandler


def serve_health(port: int, check: Check, host: str | None = None) -> ThreadingHTTPServer:
    """Serve /health on `host:port` (default HEALTH_HOST) from a daemon thread; returns it."""
    from bot.core.settings import get_settings

    address = (host or get_settings().health_host, port)
    server = ThreadingHTTPServer(address, handler_for(check))
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
