"""Conversation ids in staff URLs stay percent-encoded until a view reads them.

Any channel client chooses its conversation ids, and one may contain `/`. Links write it as
`%2F`, but the server decodes the path before routing, so `/conversations/a%2Fb/tags` would be
routed as id `a` with the rest of the path after it. This middleware routes on the id exactly
as the link encoded it; views decode it with `decoded_id`.
"""

from urllib.parse import quote, unquote, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = b"/conversations/"


class EncodedConversationIds:
    """Keep the id segment of `/conversations/<id>/...` encoded in the routed path."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the routed path of conversation pages; pass everything else through."""
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and raw.startswith(PREFIX):
            scope = dict(scope, path=routed_path(raw))
        await self.app(scope, receive, send)


def conversation_url(conversation_id: str, **query: str) -> str:
    """The transcript page of a conversation (every character of the id that needs it encoded)."""
    url = "/conversations/" + quote(conversation_id, safe="")
    return url + ("?" + urlencode(query) if query else "")


def routed_path(raw_path: bytes) -> str:
    """The path with every segment decoded except the conversation id (the third)."""
    segments = raw_path.split(b"?", 1)[0].decode("ascii", "replace").split("/")
    return "/".join(segments[:3] + [unquote(segment) for segment in segments[3:]])


def decoded_id(routed: str) -> str:
    """The conversation id a routed path parameter stands for."""
    return unquote(routed)
