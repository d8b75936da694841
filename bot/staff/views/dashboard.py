"""The dashboard: funnel, recommendation split, fallback rate and top intents for a period."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.responses import Response

from bot.conversations.inbox import RECOMMENDATION_LABELS, parse_date
from bot.conversations.stats import Dashboard, dashboard
from bot.staff.charts import bar_chart, percent
from bot.staff.permissions import Permission
from bot.staff.views.base import Context, Routes

DEFAULT_DAYS = 30
routes = Routes()  # declared on each handler below


def period(query: dict[str, str], today: date) -> tuple[date, date]:
    """The chosen period (inclusive UTC days); default the last 30 days up to today."""
    end = parse_date("end", query["end"]) if query.get("end") else today
    start = (
        parse_date("start", query["start"])
        if query.get("start")
        else end - timedelta(days=DEFAULT_DAYS - 1)
    )
    return start, end


def funnel_bars(figures: Dashboard) -> list[tuple[str, float]]:
    """Conversations → assessed → each recommendation → leads → booked."""
    steps = dict(figures.funnel)
    bars: list[tuple[str, float]] = [
        ("Conversations", steps.get("Conversations", 0)),
        ("Assessed", steps.get("Assessed", 0)),
    ]
    bars += [
        (f"→ {RECOMMENDATION_LABELS.get(kind, kind)}", count)
        for kind, count in figures.recommendations.items()
    ]
    bars += [("Leads", steps.get("Leads", 0)), ("Booked", steps.get("Booked", 0))]
    return bars


@routes.get("/dashboard", Permission.VIEW_DASHBOARD)
def view(ctx: Context) -> Response:
    """GET /dashboard: the figures for the chosen period, as inline SVG charts."""
    query = {key: ctx.request.query_params.get(key, "").strip() for key in ("start", "end")}
    today = ctx.now.date()
    error = None
    try:
        start, end = period(query, today)
        figures = dashboard(ctx.db, start, end)
    except ValueError as problem:
        error = str(problem)
        start, end = today - timedelta(days=DEFAULT_DAYS - 1), today
        figures = dashboard(ctx.db, start, end)
    split_total = sum(figures.recommendations.values())
    charts = {
        "funnel": bar_chart(funnel_bars(figures), title="Funnel"),
        "split": bar_chart(
            [(RECOMMENDATION_LABELS.get(k, k), v) for k, v in figures.recommendations.items()],
            title="Recommendation split",
        )
        if split_total
        else bar_chart([], title="Recommendation split"),
        "fallback": bar_chart(
            [("Fallback messages", figures.fallback_rate)],
            title="Fallback rate",
            fmt=percent,
            scale_to=1.0,
        ),
        "intents": bar_chart(figures.top_intents, title="Top intents"),
    }
    return ctx.render(
        "dashboard.html",
        title="Dashboard",
        figures=figures,
        charts=charts,
        error=error,
        start=start.isoformat(),
        end=end.isoformat(),
        split_total=split_total,
    )
