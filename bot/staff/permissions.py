"""Who may do what in the staff app: the role -> permissions table, kept as data."""

from __future__ import annotations

from enum import Enum


class Permission(str, Enum):
    """One thing a staff member may see or do; every staff route requires one (or sign-in)."""

    VIEW_CONVERSATIONS = "view_conversations"  # inbox and transcripts (masked without the next)
    VIEW_PERSONAL = "view_personal"  # unmasked transcripts, names, emails, phone numbers
    REVIEW = "review"  # tags, notes, reviewed status, intent annotations, answer labels
    ERASE = "erase"  # delete a conversation and everything linked to it
    VIEW_LEADS = "view_leads"
    UPDATE_LEADS = "update_leads"  # follow-up status: new, contacted, booked, closed
    EXPORT_LEADS = "export_leads"
    VIEW_BOOKINGS = "view_bookings"
    MANAGE_CALLBACKS = "manage_callbacks"
    VIEW_OUTBOX = "view_outbox"
    EDIT_AVAILABILITY = "edit_availability"
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    TAKE_OVER = "take_over"  # join a visitor's chat live, write to them, hand back to the bot


NAVIGATOR = frozenset(
    {
        Permission.VIEW_CONVERSATIONS,
        Permission.VIEW_PERSONAL,
        Permission.REVIEW,
        Permission.VIEW_LEADS,
        Permission.UPDATE_LEADS,
        Permission.EXPORT_LEADS,
        Permission.VIEW_BOOKINGS,
        Permission.MANAGE_CALLBACKS,
        Permission.VIEW_OUTBOX,
        Permission.EDIT_AVAILABILITY,
        Permission.VIEW_DASHBOARD,
        Permission.TAKE_OVER,
    }
)
REVIEWER = frozenset({Permission.VIEW_CONVERSATIONS, Permission.REVIEW, Permission.VIEW_DASHBOARD})
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "navigator": NAVIGATOR,
    "reviewer": REVIEWER,
}


def can(role: str, permission: Permission) -> bool:
    """Whether a staff member with `role` holds `permission` (unknown roles hold nothing)."""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
