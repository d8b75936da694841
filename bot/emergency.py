"""What the assistant says when a message signals an emergency or a crisis."""

RED_FLAG = "red_flag"  # the entity the red-flag guard (bot.nlu.guard) puts on a flagged message
ACUTE = "acute"
CRISIS = "crisis"

ACUTE_MESSAGES = [
    "This sounds like an emergency. Please call 911 now, or your local emergency number.",
    "If someone isn't breathing or won't wake up, the 911 dispatcher will guide you until "
    "help arrives. I'm only a chat assistant and can't help in an emergency.",
]

CRISIS_MESSAGES = [
    "I'm really sorry you're going through this, and I'm glad you said something.",
    "Please call or text 988 now to reach the Suicide & Crisis Lifeline: it's free, "
    "confidential and open 24/7. If you're in immediate danger, call 911.",
]

UNSPECIFIED_MESSAGES = [
    "If this is an emergency, please call 911 now, or your local emergency number.",
    "If you're having thoughts of suicide or self-harm, call or text 988, any time, day or "
    "night. I'm only a chat assistant and can't help in an emergency.",
]

CLOSING = "I'll stop the questions here. When you're safe, I'm here if you want to continue."


def emergency_messages(kind: str | None) -> list[str]:
    """The messages for a red-flag kind (acute, crisis, or unknown)."""
    if kind == CRISIS:
        body = CRISIS_MESSAGES
    elif kind == ACUTE:
        body = ACUTE_MESSAGES
    else:
        body = UNSPECIFIED_MESSAGES
    return [*body, CLOSING]


# When only the intent classifier (no red flag) thinks a message may be an emergency.
DANGER_CHECK_TEXT = (
    "I want to make sure you're safe. Is someone in danger right now, or having thoughts of "
    "suicide or self-harm?"
)
DANGER_CHECK_BUTTONS = [
    {"title": "Yes, someone is in danger", "payload": "/affirm"},
    {"title": "No, we're safe", "payload": "/deny"},
]
NO_DANGER_TEXT = (
    "Thank you, I'm glad. If that changes, call 911, or call or text 988. Let's carry on."
)
