"""A navigator's message sent into a visitor's conversation as the staff app sends it."""

import time

import requests

from tests.support.servers import Servers

TIMEOUT = 30.0


def send_staff_message(
    servers: Servers, session_id: str, text: str, staff_name: str = "Maya Patel"
) -> None:
    """A `bot` event with handoff metadata, through the HTTP API, to the latest input channel."""
    handoff = {"kind": "staff_message", "staff_name": staff_name}
    event = {
        "event": "bot",
        "text": text,
        "timestamp": time.time(),
        "metadata": {"handoff": handoff},
    }
    params = {"token": servers.token, "output_channel": "latest", "execute_side_effects": "true"}
    response = requests.post(
        f"{servers.rasa_url}/conversations/{session_id}/tracker/events",
        params=params,
        json=event,
        headers={"Connection": "close"},  # a new connection per call: any Sanic worker answers
        timeout=TIMEOUT,
    )
    response.raise_for_status()
