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

# While a team member holds the chat (a live takeover), the numbers still come first; then a
# line for the kind without "I'm only a chat assistant", and that the person is still there.
# Nothing is paused and no question is open then, so neither is mentioned, and no button is
# offered: the bot does not answer "carry on" while a person is in the chat.
TAKEOVER_FOLLOW_UPS = {
    ACUTE: "If someone isn't breathing or won't wake up, the 911 dispatcher will guide you "
    "until help arrives.",
    CRISIS: CRISIS_MESSAGES[1],
    None: "If you're having thoughts of suicide or self-harm, call or text 988, any time, day "
    "or night.",
}
CALL_FIRST = {
    ACUTE: "Please call 911 first: they can send help, which nobody can from a chat.",
    CRISIS: "Please call or text 988 first: they can help right away, in ways we can't from a "
    "chat.",
    None: "Please call first: the people on those lines can help right away, in ways we can't "
    "from a chat.",
}
STILL_HERE = "{who} is still here with you in this chat. {call_first}"
SOMEONE_FROM_THE_TEAM = "The person from the Pilot Rock team who joined"

# After a navigator hands the chat back, when the numbers were given in this conversation.
REMINDER = (
    "If anyone is in danger, call 911. If you're having thoughts of suicide or self-harm, call "
    "or text 988, any time."
)


def emergency_messages(kind: str | None) -> list[str]:
    """The messages for a risk kind (acute, crisis, or unclear / unknown), before the closing."""
    if kind == CRISIS:
        return list(CRISIS_MESSAGES)
    if kind == ACUTE:
        return list(ACUTE_MESSAGES)
    return list(UNSPECIFIED_MESSAGES)


def takeover_messages(kind: str | None, staff_name: str | None) -> list[str]:
    """The emergency reply while `staff_name` (None: unknown) from the team is in the chat."""
    known = kind if kind in (ACUTE, CRISIS) else None
    who = f"{staff_name} from the Pilot Rock team" if staff_name else SOMEONE_FROM_THE_TEAM
    still_here = STILL_HERE.format(who=who, call_first=CALL_FIRST[known])
    return [emergency_messages(kind)[0], TAKEOVER_FOLLOW_UPS[known], still_here]
