"""Real-shaped Telegram update JSON for tests (as the Bot API delivers it to a webhook)."""

import itertools
import random
import time
import uuid
from typing import Any

_update_ids = itertools.count(random.randint(10_000, 1_000_000) * 1000)
_message_ids = itertools.count(1)


def new_chat_id() -> int:
    """A fresh private chat id (positive, like a user's id)."""
    return random.randint(10**8, 10**10)


def new_group_id() -> int:
    """A fresh supergroup id (negative, -100...)."""
    return -(10**12) - random.randint(10**8, 10**9)


def user(user_id: int) -> dict[str, Any]:
    """The sender."""
    return {"id": abs(user_id), "is_bot": False, "first_name": "Test", "language_code": "en"}


def chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    """A chat object of a given type."""
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    return {"id": chat_id, "type": chat_type, "title": "Family group"}


def message(
    chat_id: int, text: str | None = None, chat_type: str = "private", **extra: Any
) -> dict[str, Any]:
    """A message object; a leading /command gets its bot_command entity like Telegram's."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat(chat_id, chat_type),
        **extra,
    }
    if chat_type != "channel":
        body["from"] = user(chat_id if chat_type == "private" else new_chat_id())
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return body


def message_update(
    chat_id: int, text: str | None = None, chat_type: str = "private", **extra: Any
) -> dict[str, Any]:
    """An update carrying a new message (a channel post for chat_type='channel')."""
    key = "channel_post" if chat_type == "channel" else "message"
    return {"update_id": next(_update_ids), key: message(chat_id, text, chat_type, **extra)}


def callback_update(chat_id: int, pressed: dict[str, Any], data: str) -> dict[str, Any]:
    """An update for a tapped inline button under `pressed` (the bot's message as stored)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": uuid.uuid4().hex[:16],
            "from": user(chat_id),
            "chat_instance": str(abs(chat_id)),
            "data": data,
            "message": pressed,
        },
    }


def other_update(kind: str, chat_id: int) -> dict[str, Any]:
    """Updates the channel does not handle."""
    update_id = next(_update_ids)
    if kind == "edited_message":
        return {
            "update_id": update_id,
            "edited_message": message(chat_id, "edited", edit_date=int(time.time())),
        }
    if kind == "inline_query":
        return {
            "update_id": update_id,
            "inline_query": {"id": "iq1", "from": user(chat_id), "query": "hi", "offset": ""},
        }
    if kind == "my_chat_member":
        member = {"status": "member", "user": user(chat_id)}
        return {
            "update_id": update_id,
            "my_chat_member": {
                "chat": chat(chat_id),
                "from": user(chat_id),
                "date": int(time.time()),
                "old_chat_member": {**member, "status": "kicked", "until_date": 0},
                "new_chat_member": member,
            },
        }
    return {"update_id": update_id}


def buttons_of(sent: dict[str, Any]) -> dict[str, str]:
    """title -> callback_data of a stored message's inline keyboard."""
    rows = (sent.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button.get("callback_data", "") for row in rows for button in row}
