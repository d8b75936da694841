"""What the visitor is told at each step of a takeover, in short chat-sized messages."""

from __future__ import annotations

from datetime import datetime

from bot.booking.scheduling import format_moment

TEAM = "the Pilot Rock team"


def joined(staff_name: str) -> str:
    """A team member has joined the chat."""
    return f"{staff_name} from {TEAM} has joined the chat. You're talking with a person now."


def handed_back(staff_name: str) -> str:
    """The team member has left the chat to the assistant again."""
    return f"{staff_name} has handed the chat back to me, the Pilot Rock assistant."


def after_hand_back(booking_reference: str | None) -> str:
    """What the assistant says once it has the chat again (the navigator's note is staff-only).

    The visitor has just talked with a person: the call is an option, not "the next step".
    """
    if booking_reference:
        return (
            f"Your intro call is still booked (reference {booking_reference}), so you'll talk "
            "with our team again then. I'm here in the meantime if anything else comes up."
        )
    return (
        "I'm here if there's anything else I can help with. If you'd ever like more time with a "
        "navigator, you can also book a free 15-minute intro call, whenever it suits you."
    )


def requested(claim_minutes: int) -> list[str]:
    """A request reached the team on duty."""
    return [
        "Of course. I've asked the navigators on duty to join this chat, so you can talk "
        "with a real person from our team.",
        f"Someone usually joins within {claim_minutes} minutes. If nobody can by then, I'll set "
        "up a call back instead. You can keep chatting with me while you wait.",
    ]


def still_waiting() -> str:
    """A repeated request while one is open."""
    return "Our team already knows you'd like a person; a navigator will join this chat shortly."


def out_of_hours(back_at: datetime | None, zone: str) -> str:
    """Nobody is on duty to join now."""
    if back_at is None:
        return "Our navigators aren't on duty right now, so nobody can join this chat live."
    return (
        "Our navigators aren't on duty right now, so nobody can join this chat live. "
        f"They're back {format_moment(back_at, zone)}."
    )


def fallback(outcome: str) -> str:
    """Why the visitor gets a call back instead of a live chat."""
    if outcome == "no_reply":
        return "I'm sorry, our navigator had to step away and can't reply right now."
    return "I'm sorry, none of our navigators could join the chat in time."
