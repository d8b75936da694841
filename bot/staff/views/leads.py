"""Leads: the list with a status filter, one lead, its follow-up status and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select
from starlette.responses import Response

from bot.db.models import LEAD_STATUSES, Lead
from bot.db.repository import callback_requests_of
from bot.staff.permissions import Permission
from bot.staff.views.base import Context, Routes, paginate, redirect

PER_PAGE = 50
NO_SUCH_LEAD = "There is no such lead (it may have been erased)."
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "created_at",
    "status",
    "name",
    "email",
    "phone",
    "timezone",
    "summary",
    "recommendation",
    "situation",
    "warmth_score",
    "channel",
    "conversation_id",
    "booking_reference",
    "booking_starts_at",
    "booking_status",
    "consent",
    "consent_at",
)
routes = Routes()  # declared on each handler below


def status_filter(value: str | None) -> str | None:
    """The chosen lead status, None for all; ValueError for an unknown one."""
    if not value:
        return None
    if value not in LEAD_STATUSES:
        raise ValueError(f"unknown lead status: choose one of {', '.join(LEAD_STATUSES)}")
    return value


def leads_query(status: str | None) -> Select:
    """Leads newest first, with their bookings, optionally of one status."""
    query = (
        select(Lead)
        .options(selectinload(Lead.bookings))
        .order_by(Lead.created_at.desc(), Lead.id.desc())
    )
    return query.where(Lead.status == status) if status else query


@routes.get("/leads", Permission.VIEW_LEADS)
def lead_list(ctx: Context) -> Response:
    """GET /leads: leads newest first, filtered by status, paginated (audited)."""
    status = status_filter(ctx.request.query_params.get("status"))
    paged = paginate(ctx.db, leads_query(status), ctx.request.query_params.get("page"), PER_PAGE)
    ctx.audit("view_leads", "lead", None, {"count": len(paged.rows), "page": paged.page})
    kept = {"status": status} if status else {}
    return ctx.render(
        "leads.html",
        title="Leads",
        leads=paged.rows,
        status=status or "",
        total=paged.total,
        status_options=[(s, s.capitalize()) for s in LEAD_STATUSES],
        page=paged.page,
        pages=paged.pages,
        page_url=lambda number: "/leads?" + urlencode({**kept, "page": str(number)}),
    )


@routes.get("/leads/{lead_id:int}", Permission.VIEW_LEADS)
def lead_detail(ctx: Context) -> Response:
    """GET /leads/{id}: one lead with its bookings and callback requests (audited)."""
    lead = ctx.found(Lead, "lead_id", NO_SUCH_LEAD)
    ctx.audit("view_lead", "lead", lead.id)
    return ctx.render(
        "lead.html",
        title=f"Lead {lead.id}",
        lead=lead,
        callbacks=callback_requests_of(ctx.db, lead.conversation_id),
        statuses=LEAD_STATUSES,
        updated=ctx.flag("updated"),
    )


@routes.post("/leads/{lead_id:int}/status", Permission.UPDATE_LEADS)
def lead_status(ctx: Context) -> Response:
    """POST /leads/{id}/status: set the follow-up status (audited)."""
    lead = ctx.found(Lead, "lead_id", NO_SUCH_LEAD)
    status = ctx.field("status")
    if status not in LEAD_STATUSES:
        return ctx.fail(f"Choose a status: {', '.join(LEAD_STATUSES)}.")
    if status != lead.status:
        ctx.audit("update_lead", "lead", lead.id, {"status_from": lead.status, "status_to": status})
        lead.status = status
    return redirect(f"/leads/{lead.id}?updated=1")


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula (prefixed with ')."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def lead_row(lead: Lead) -> list[str]:
    """One lead as CSV cells (its latest booking, if any)."""
    booking = max(lead.bookings, key=lambda b: b.created_at, default=None)
    values = (
        lead.id,
        lead.created_at.isoformat(),
        lead.status,
        lead.name,
        lead.email,
        lead.phone,
        lead.timezone,
        lead.summary,
        lead.recommendation,
        lead.situation,
        lead.warmth_score,
        lead.channel,
        lead.conversation_id,
        booking.reference if booking else None,
        booking.starts_at.isoformat() if booking else None,
        booking.status if booking else None,
        "yes" if lead.consent else "no",
        lead.consent_at.isoformat() if lead.consent_at else None,
    )
    return [safe_cell(value) for value in values]


def leads_csv(leads: Iterable[Lead]) -> tuple[str, int]:
    """The CSV text of `leads` (header first) and how many rows it holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for lead in leads:
        writer.writerow(lead_row(lead))
        rows += 1
    return buffer.getvalue(), rows


@routes.get("/leads.csv", Permission.EXPORT_LEADS)
def export_leads(ctx: Context) -> Response:
    """GET /leads.csv: every lead (of the chosen status) as CSV, audited with the count."""
    status = status_filter(ctx.request.query_params.get("status"))
    text, rows = leads_csv(ctx.db.scalars(leads_query(status)))
    ctx.audit("export_leads", "lead", None, {"count": rows, "status": status})
    name = f"leads-{status or 'all'}-{ctx.now:%Y%m%d-%H%M}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
