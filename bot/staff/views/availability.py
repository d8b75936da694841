"""Navigators' availability: weekly hours, date overrides and time off, viewed and edited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.responses import Response

from bot.booking.availability import DAYS, parse_window, set_override, set_weekly_hours
from bot.booking.availability import add_time_off as add_time_off_interval
from bot.db.models import DateOverride, Navigator, TimeOff
from bot.staff.permissions import Permission
from bot.staff.views.base import Context, Routes, redirect

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REASON_MAX = 200
WINDOWS_MAX = 6  # working intervals per day
MAX_DAYS_AHEAD = 2 * 366
Dated = TypeVar("Dated", DateOverride, TimeOff)  # a navigator's dated availability row
routes = Routes()  # declared on each handler below


def weekly_text(navigator: Navigator) -> dict[str, str]:
    """Each day's working hours as the form shows them ('09:00-12:00, 13:00-17:00')."""
    days: dict[str, list[str]] = {day: [] for day in DAYS}
    for hours in sorted(navigator.weekly_hours, key=lambda h: (h.weekday, h.start_time)):
        days[DAYS[hours.weekday]].append(f"{hours.start_time:%H:%M}-{hours.end_time:%H:%M}")
    return {day: ", ".join(windows) for day, windows in days.items()}


def parse_weekly(fields: dict[str, str]) -> dict[str, list[str]]:
    """The weekly form ({'mon': '09:00-12:00, 13:00-17:00', ...}) checked, as windows per day."""
    weekly: dict[str, list[str]] = {}
    for day, name in zip(DAYS, DAY_NAMES, strict=True):
        windows = [part.strip() for part in fields.get(day, "").split(",") if part.strip()]
        if len(windows) > WINDOWS_MAX:
            raise ValueError(f"{name}: at most {WINDOWS_MAX} intervals")
        parsed = sorted(parse_window(window) for window in windows)
        for (_, end), (start, _) in pairwise(parsed):
            if start < end:
                raise ValueError(f"{name}: the intervals overlap")
        if windows:
            weekly[day] = windows
    return weekly


def parse_day(text: str, today: date) -> date:
    """A YYYY-MM-DD date from today up to two years ahead, else ValueError."""
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise ValueError("the date must look like 2026-12-24") from error
    if not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValueError("the date must be between today and two years ahead")
    return day


def parse_local(text: str, zone: ZoneInfo, label: str) -> datetime:
    """A 'YYYY-MM-DDTHH:MM' wall-clock time in `zone` as an aware datetime, else ValueError."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{label} must be a date and time like 2026-12-24T09:00") from error
    if naive.tzinfo is not None:
        raise ValueError(f"{label} must be a local time without a zone")
    return naive.replace(tzinfo=zone)


def navigator_of(ctx: Context) -> Navigator:
    """The navigator named by the path's `navigator_id` (NotFoundError if there is none)."""
    return ctx.found(Navigator, "navigator_id", "There is no such navigator.")


@routes.get("/availability", Permission.EDIT_AVAILABILITY)
def overview(ctx: Context) -> Response:
    """GET /availability: each navigator's weekly hours, coming overrides and time off."""
    navigators = ctx.db.scalars(
        select(Navigator)
        .options(
            selectinload(Navigator.weekly_hours),
            selectinload(Navigator.date_overrides),
            selectinload(Navigator.time_off),
        )
        .order_by(Navigator.active.desc(), Navigator.name)
    ).all()
    today = ctx.now.date() - timedelta(days=1)  # any zone's today is on or after this
    rows = [
        {
            "navigator": nav,
            "weekly": weekly_text(nav),
            "overrides": sorted(
                (o for o in nav.date_overrides if o.date >= today),
                key=lambda o: (o.date, o.start_time is not None, o.start_time),
            ),
            "time_off": sorted(
                (t for t in nav.time_off if t.ends_at > ctx.now), key=lambda t: t.starts_at
            ),
            "zone": ZoneInfo(nav.timezone),
        }
        for nav in navigators
    ]
    return ctx.render(
        "availability.html",
        title="Availability",
        rows=rows,
        days=list(zip(DAYS, DAY_NAMES, strict=True)),
        saved=ctx.flag("saved"),
    )


def saved(ctx: Context, navigator: Navigator, change: str) -> Response:
    """Audit an availability change and go back to the overview."""
    ctx.audit("edit_availability", "navigator", navigator.id, {"change": change})
    return redirect(f"/availability?saved=1#navigator-{navigator.id}")


@routes.post("/availability/{navigator_id:int}/weekly", Permission.EDIT_AVAILABILITY)
def edit_weekly(ctx: Context) -> Response:
    """POST /availability/{id}/weekly: replace the navigator's weekly hours."""
    navigator = navigator_of(ctx)
    weekly = parse_weekly({day: ctx.field(day) for day in DAYS})
    set_weekly_hours(ctx.db, navigator, weekly)
    return saved(ctx, navigator, "weekly_hours")


@routes.post("/availability/{navigator_id:int}/override", Permission.EDIT_AVAILABILITY)
def add_override(ctx: Context) -> Response:
    """POST /availability/{id}/override: set one date's hours ('closed' or intervals)."""
    navigator = navigator_of(ctx)
    today = ctx.now.astimezone(ZoneInfo(navigator.timezone)).date()
    day = parse_day(ctx.field("date"), today)
    hours = ctx.field("hours") or "closed"
    if hours.lower() != "closed":
        parse_weekly({DAYS[day.weekday()]: hours})  # the same checks as the weekly form
    set_override(ctx.db, navigator.email, day, hours)
    return saved(ctx, navigator, "date_override")


@routes.post("/availability/overrides/{override_id:int}/delete", Permission.EDIT_AVAILABILITY)
def delete_override(ctx: Context) -> Response:
    """POST /availability/overrides/{id}/delete: back to the weekly hours on that date."""
    return remove_row(ctx, DateOverride, "override_id", "date override", "date_override_removed")


@routes.post("/availability/{navigator_id:int}/time-off", Permission.EDIT_AVAILABILITY)
def add_time_off(ctx: Context) -> Response:
    """POST /availability/{id}/time-off: block an interval (local times of the navigator)."""
    navigator = navigator_of(ctx)
    zone = ZoneInfo(navigator.timezone)
    start = parse_local(ctx.field("starts_at"), zone, "the start")
    end = parse_local(ctx.field("ends_at"), zone, "the end")
    if start < end <= ctx.now:
        raise ValueError("time off must end in the future")
    reason = ctx.field("reason")[:REASON_MAX] or None
    add_time_off_interval(ctx.db, navigator.email, start, end, reason)
    return saved(ctx, navigator, "time_off")


@routes.post("/availability/time-off/{time_off_id:int}/delete", Permission.EDIT_AVAILABILITY)
def delete_time_off(ctx: Context) -> Response:
    """POST /availability/time-off/{id}/delete: remove a time-off interval."""
    return remove_row(ctx, TimeOff, "time_off_id", "time off", "time_off_removed")


def remove_row(ctx: Context, model: type[Dated], param: str, label: str, action: str) -> Response:
    """Delete one dated row of a navigator's availability (404 if it is gone), audited."""
    row = ctx.found(model, param, f"There is no such {label}.")
    navigator = row.navigator
    ctx.db.delete(row)
    return saved(ctx, navigator, action)
