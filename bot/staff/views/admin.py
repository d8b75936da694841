"""Administration: staff accounts (create, role, deactivate, reset password) and the audit log."""

from __future__ import annotations

from starlette.responses import Response

from bot.db import audit
from bot.db.staff import ROLES
from bot.staff import accounts
from bot.staff.permissions import ROLE_PERMISSIONS, Permission
from bot.staff.views.base import Context, Routes, redirect

AUDIT_ROWS = 100
NOTICES = {
    "created": "The account was created.",
    "role": "The role was changed.",
    "deactivated": "The account was deactivated and its sessions ended.",
    "activated": "The account was activated.",
    "password": "The password was reset; the account is unlocked and its sessions ended.",
}
routes = Routes()  # declared on each handler below


@routes.get("/users", Permission.MANAGE_USERS)
def users(ctx: Context) -> Response:
    """GET /users: every account with its role and state, and the forms to change them."""
    ctx.notice(NOTICES)
    return ctx.render(
        "users.html",
        title="Staff users",
        users=accounts.list_users(ctx.db),
        roles=ROLES,
        is_locked=lambda user: accounts.is_locked(user, ctx.now),
        permissions={role: sorted(p.value for p in ROLE_PERMISSIONS[role]) for role in ROLES},
    )


@routes.post("/users", Permission.MANAGE_USERS)
def create_user(ctx: Context) -> Response:
    """POST /users: create a named account (the password policy applies)."""
    if ctx.field("password", strip=False) != ctx.field("password_again", strip=False):
        raise ValueError("the two passwords differ")
    accounts.create_user(
        ctx.db,
        username=ctx.field("username"),
        display_name=ctx.field("display_name"),
        role=ctx.field("role"),
        password=ctx.field("password", strip=False),
        actor=ctx.actor,
    )
    return redirect("/users?done=created")


@routes.post("/users/{username}/role", Permission.MANAGE_USERS)
def set_role(ctx: Context) -> Response:
    """POST /users/{username}/role: give an account another role."""
    accounts.set_role(ctx.db, ctx.param("username"), ctx.field("role"), actor=ctx.actor)
    return redirect("/users?done=role")


@routes.post("/users/{username}/deactivate", Permission.MANAGE_USERS)
def deactivate(ctx: Context) -> Response:
    """POST /users/{username}/deactivate: switch an account off and end its sessions."""
    accounts.deactivate(ctx.db, ctx.param("username"), actor=ctx.actor)
    return redirect("/users?done=deactivated")


@routes.post("/users/{username}/activate", Permission.MANAGE_USERS)
def activate(ctx: Context) -> Response:
    """POST /users/{username}/activate: switch a deactivated account back on."""
    accounts.activate(ctx.db, ctx.param("username"), actor=ctx.actor)
    return redirect("/users?done=activated")


@routes.post("/users/{username}/password", Permission.MANAGE_USERS)
def reset_password(ctx: Context) -> Response:
    """POST /users/{username}/password: set a new password, unlock, end the account's sessions."""
    if ctx.field("password", strip=False) != ctx.field("password_again", strip=False):
        raise ValueError("the two passwords differ")
    password = ctx.field("password", strip=False)
    accounts.set_password(ctx.db, ctx.param("username"), password, actor=ctx.actor)
    return redirect("/users?done=password")


@routes.get("/audit", Permission.VIEW_AUDIT)
def audit_log(ctx: Context) -> Response:
    """GET /audit: whether the hash chain verifies, and the newest entries."""
    report = audit.verify(ctx.db)
    entries = list(reversed(audit.tail(ctx.db, AUDIT_ROWS)))
    return ctx.render("audit.html", title="Audit log", report=report, entries=entries)
