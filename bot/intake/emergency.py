"""What the assistant says when a message signals an emergency or a crisis."""

RED_FLAG = (
    "red_flag"  # the entity the red-flag guard (bot.rasa.nlu.guard) puts on a flagged message
)
ACUTE = "acute"
CRISIS = "crisis"

ACUTE_MESSAGES = [
    "This sounds like an emergency. Please call 911 now, or your local emergency number.",
    "If someone isn't breathing or won't wake up, the 911 dispatcher will guide you until "
    "help arrives. I'm only a chat assistant and can't help in an emergency.",
]

CRISIS_MESSAGES = [
    "Please call or text 988 now to reach the Suicide & Crisis Lifeline: it's free, "
    "confidential and open 24/7. If you're in immediate danger, call 911.",
    "I'm really sorry you're going through this, and I'm glad you told me. You don't have to "
    "face this alone.",
]

UNSPECIFIED_MESSAGES = [
    "If this is an emergency, please call 911 now, or your local emergency number.",
    "If you're having thoughts of suicide or self-harm, call or text 988, any time, day or "
    "night. I'm only a chat assistant and can't help in an emergency.",
]

CLOSING = (
    "I've paused everything else for now. If I've misread you and everyone is safe, tap below "
    "and we'll pick up right where we left off."
)
CARRY_ON = "carry_on"  # the intent of "we're safe, carry on"
CARRY_ON_BUTTONS = [{"title": "We're safe, carry on", "payload": f"/{CARRY_ON}"}]

# Moderate risk: one line before the normal reply (bot.rasa.runtime.safety_note).
SAFETY_NOTE = (
    "Just in case: if anyone is in danger right now, call 911. If you're having thoughts of "
    "suicide or self-harm, call or text 988, any time."
)
CARRY_ON_TEXT = (
    "Thank you, I'm glad you're safe. If that changes, call 911, or call or text 988. "
    "Let's carry on."
)


def emergency_messages(kind: str | None) -> list[str]:
    """The messages for a risk kind (acute, crisis, or unclear / unknown), before the closing."""
    if kind == CRISIS:
        return list(CRISIS_MESSAGES)
    if kind == ACUTE:
        return list(ACUTE_MESSAGES)
    return list(UNSPECIFIED_MESSAGES)
