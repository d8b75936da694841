"""Server-Sent Events as the live pages read them: typed events with a JSON body.

Types so far:
- `ready`: the stream is up; `cursor`, the lines the page has not shown yet (`items`), `state`.
- `messages`: new chat lines of the conversation; `cursor`, `items`.
- `state`: where the takeover stands for this staff member; `key`, `text`.
- `reconnect`: the server ends this stream on purpose; the page opens a new one at once.
- `down`: pushing stopped; the page polls until it can open a new stream.

The page script puts every text in with textContent. New types (a waiting-requests count, say)
are new names: the script ignores the ones it does not know.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.staff.chat import ChatItem, LiveState

KEEP_ALIVE = ": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream


def frame(kind: str, body: dict[str, Any] | None = None) -> str:
    """One event of type `kind` with a one-line JSON body."""
    data = json.dumps(body or {}, ensure_ascii=False, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n"


def messages_frame(cursor: int, lines: Sequence[ChatItem]) -> str:
    """New chat lines up to event id `cursor`."""
    return frame("messages", {"cursor": cursor, "items": [line.as_json() for line in lines]})


def ready_frame(cursor: int, lines: Sequence[ChatItem], state: LiveState) -> str:
    """The first event of a stream: what the page missed and the takeover's state."""
    items = [line.as_json() for line in lines]
    return frame("ready", {"cursor": cursor, "items": items, "state": state.as_json()})


def state_frame(state: LiveState) -> str:
    """The takeover's state for this staff member."""
    return frame("state", state.as_json())


RECONNECT = frame("reconnect")
DOWN = frame("down")
