"""While a team member holds a conversation (Rasa paused), the red-flag guard still answers.

Rasa's processor predicts nothing for a paused conversation but `/restart`. A message the
deterministic guard (bot.rasa.nlu.guard.MessageGuard) flagged is answered too: the prediction loop
runs, and the safety rules reply with 911 / 988 at once, whoever is in the chat.
"""

from typing import Any

from rasa.shared.core.constants import USER_INTENT_RESTART
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, INTENT_NAME_KEY

from bot.intake.emergency import RED_FLAG


def red_flagged(parse_data: dict[str, Any]) -> bool:
    """Whether the guard flagged this parsed message."""
    return any(
        entity.get(ENTITY_ATTRIBUTE_TYPE) == RED_FLAG for entity in parse_data.get(ENTITIES) or []
    )


def should_handle_message(tracker: DialogueStateTracker) -> bool:
    """Predict for a live conversation, a restart, or a red-flagged message while paused."""
    if not tracker.is_paused():
        return True
    latest = tracker.latest_message
    if latest is None:
        return False
    if latest.intent.get(INTENT_NAME_KEY) == USER_INTENT_RESTART:
        return True
    return red_flagged(latest.parse_data)
