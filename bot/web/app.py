"""The web app: the demo page of the company site with the chat widget, and the widget's files.

Routes:

- `/`                                 the demo page (`web/demo/index.html`), its `data-server`
                                      filled with the Rasa server's public address
- `/widget/pilotrock-widget.js`       the widget's entry module (`web/widget/`), loaded with
                                      `<script type="module">`; it imports the other modules
- `/widget/{module}.js`               the other modules (`WIDGET_MODULES`), nothing else
- `/widget/widget.css`                its stylesheet, linked inside the widget's shadow root
- `/widget/vendor/socket.io.min.js`   socket.io-client from `node_modules/` (installed by `npm ci`;
                                      a 500 that says so when it is missing)
- `/healthz`, `/health`               200 when everything the widget needs is there, else 503

Every response carries security headers; the demo page's Content-Security-Policy allows only
this server, the Rasa server (http(s) and ws(s) for Socket.IO) and the page's own inline style
block by its hash. The widget's modules are `text/javascript` (browsers refuse a module of any
other type) and carry `Access-Control-Allow-Origin: *`: a page on another site fetches module
scripts in CORS mode, without credentials.
"""

import base64
import hashlib
import html
import re
import sys
from argparse import Namespace
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Route

from bot.core.paths import ROOT
from bot.core.settings import get_settings
from bot.web.headers import SecurityHeaders

WEB = ROOT / "web"
SOCKET_IO = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
JS = "text/javascript; charset=utf-8"
# The widget's ES modules in web/widget/: the entry module first, then what it imports.
WIDGET_MODULES = (
    "pilotrock-widget.js",
    "config.js",
    "connection.js",
    "controls.js",
    "dom.js",
    "inbox.js",
    "outbox.js",
    "render.js",
    "storage.js",
    "strings.js",
    "view.js",
)
CSS = "text/css; charset=utf-8"
SOCKET_IO_MISSING = (
    "socket.io-client is not installed: run `npm ci` in the repository root "
    "(node_modules/socket.io-client/dist/socket.io.min.js is missing). "
    "The chat widget cannot connect without it.\n"
)
_HOSTNAME = re.compile(r"[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}")
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_DATA_SERVER = 'data-server=""'

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# For responses that are not pages (scripts, styles, JSON, errors).
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _websocket_origin(origin: str) -> str:
    """The ws(s) origin that matches an http(s) origin."""
    return "wss" + origin[5:] if origin.startswith("https") else "ws" + origin[4:]


def style_hashes(page: str) -> list[str]:
    """CSP sources for the page's inline <style> blocks."""
    return [
        "'sha256-{}'".format(
            base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
        )
        for block in _STYLE_BLOCK.findall(page)
    ]


def page_csp(rasa_url: str, styles: list[str]) -> str:
    """The demo page's Content-Security-Policy: this server, the Rasa server, nothing else."""
    rasa = _origin(rasa_url)
    connect = " ".join(["'self'", rasa, _websocket_origin(rasa)])
    style = " ".join(["'self'", *styles])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def create_app(
    *,
    rasa_url: str | None = None,
    rasa_port: int | None = None,
    web_root: Path = WEB,
    socket_io: Path = SOCKET_IO,
) -> Starlette:
    """The web app.

    `rasa_url` is the Rasa server's public address as browsers reach it (default: the
    `RASA_PUBLIC_URL` setting; when that is empty too, the page's own host on `rasa_port`,
    which defaults to `RASA_PORT`).
    """
    settings = get_settings()
    public_url = (rasa_url if rasa_url is not None else get_settings().rasa_public_url).strip()
    port = rasa_port if rasa_port is not None else settings.rasa_port
    demo_page = web_root / "demo" / "index.html"
    widget_dir = web_root / "widget"

    def rasa_url_for(request: Request) -> str:
        if public_url:
            return public_url.rstrip("/")
        host = request.url.hostname or "localhost"
        if not _HOSTNAME.fullmatch(host):
            host = "localhost"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if request.url.scheme == "https" else "http"
        return f"{scheme}://{host}:{port}"

    def static(
        path: Path, media_type: str, *, module: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(_: Request) -> Response:
            if not path.is_file():
                return PlainTextResponse(f"{path.name} is missing from the web app\n", 500)
            response = FileResponse(path, media_type=media_type)
            response.headers["Cache-Control"] = "no-cache"
            # The widget is meant to be embedded on other sites.
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
            if module:
                # Other sites fetch module scripts in CORS mode (public files, no credentials).
                response.headers["Access-Control-Allow-Origin"] = "*"
            return response

        return endpoint

    async def demo(request: Request) -> Response:
        page = demo_page.read_text(encoding="utf-8")
        server = rasa_url_for(request)
        body = page.replace(_DATA_SERVER, f'data-server="{html.escape(server, quote=True)}"', 1)
        response = HTMLResponse(body)
        response.headers["Content-Security-Policy"] = page_csp(server, style_hashes(page))
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def vendor_socket_io(_: Request) -> Response:
        if not socket_io.is_file():
            return PlainTextResponse(SOCKET_IO_MISSING, 500)
        response = FileResponse(socket_io, media_type=JS)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    async def vendor_source_map(_: Request) -> Response:
        source_map = socket_io.with_name(socket_io.name + ".map")
        if not source_map.is_file():
            return PlainTextResponse("Not Found", 404)
        return FileResponse(source_map, media_type="application/json")

    async def healthz(_: Request) -> Response:
        if not socket_io.is_file():
            return JSONResponse({"status": "degraded", "detail": SOCKET_IO_MISSING.strip()}, 503)
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/", demo),
        *(
            Route(f"/widget/{name}", static(widget_dir / name, JS, module=True))
            for name in WIDGET_MODULES
        ),
        Route("/widget/widget.css", static(widget_dir / "widget.css", CSS)),
        Route("/widget/vendor/socket.io.min.js", vendor_socket_io),
        Route("/widget/vendor/socket.io.min.js.map", vendor_source_map),
        Route("/healthz", healthz),
        Route("/health", healthz),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(
        SecurityHeaders,
        headers=SECURITY_HEADERS,
        defaults={"Content-Security-Policy": DEFAULT_CSP},
    )
    return app


def run_web(_: Namespace | None = None) -> int:
    """Serve the demo site with the chat widget (WEB_PORT, default 8080)."""
    import uvicorn

    port = get_settings().web_port
    host = get_settings().web_host
    if not SOCKET_IO.is_file():
        print(f"warning: {SOCKET_IO_MISSING.strip()}", file=sys.stderr)
    print(f"Demo site with the chat widget: http://localhost:{port}", flush=True)
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        log_level=get_settings().log_level.lower(),
        server_header=False,
        ws="none",  # no WebSocket routes here (Socket.IO is Rasa's); Rasa pins an old websockets
    )
    return 0
