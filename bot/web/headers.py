"""Security headers for the project's web apps (the demo site and the staff app)."""

from collections.abc import Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    """ASGI middleware: `headers` on every HTTP response, `defaults` where a response has none,
    and `per_path(path)` for headers that depend on the request path."""

    def __init__(
        self,
        app: ASGIApp,
        headers: Mapping[str, str],
        defaults: Mapping[str, str] | None = None,
        per_path: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        """Wrap `app`."""
        self.app = app
        self.headers = dict(headers)
        self.defaults = dict(defaults or {})
        self.per_path = per_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.per_path(scope["path"]) if self.per_path else {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {**self.headers, **extra}.items():
                    headers[name] = value
                for name, value in self.defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
