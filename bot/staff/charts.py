"""Inline SVG bar charts for the dashboard: no JavaScript, no CDN, escaped labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

WIDTH = 640
LABEL_WIDTH = 210
VALUE_WIDTH = 70
ROW = 28
BAR = 18
PAD = 6


def count(value: float) -> str:
    """A count as text."""
    return f"{value:,.0f}"


def percent(value: float) -> str:
    """A 0..1 ratio as a percentage."""
    return f"{value * 100:.1f}%"


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: Callable[[float], str] = count,
    scale_to: float | None = None,
) -> Markup:
    """A horizontal bar chart as an accessible inline <svg> (values also in its text)."""
    if not bars:
        return Markup('<p class="empty">{}</p>').format(f"{title}: no data for this period.")
    top = scale_to if scale_to is not None else max(value for _, value in bars)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW * len(bars) + PAD
    parts = [
        Markup(
            '<svg class="chart" role="img" aria-labelledby="{id}" viewBox="0 0 {w} {h}" '
            'width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{id}">{title}</title>'
        ).format(id=_chart_id(title), w=WIDTH, h=height, title=title)
    ]
    for index, (label, value) in enumerate(bars):
        y = PAD + index * ROW
        length = max(1.0, span * value / top) if value > 0 and top > 0 else 0.0
        parts.append(
            Markup(
                '<g class="bar"><text class="label" x="{lx}" y="{ty}" text-anchor="end">'
                "{label}</text>"
                '<rect x="{bx}" y="{y}" width="{len:.1f}" height="{bh}" rx="2"></rect>'
                '<text class="value" x="{vx:.1f}" y="{ty}">{value}</text></g>'
            ).format(
                lx=LABEL_WIDTH - 8,
                ty=y + BAR - 4,
                label=label,
                bx=LABEL_WIDTH,
                y=y,
                len=length,
                bh=BAR,
                vx=LABEL_WIDTH + length + 6,
                value=fmt(value),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _chart_id(title: str) -> str:
    """A stable element id for a chart's <title>."""
    slug = "".join(char if char.isalnum() else "-" for char in title.lower()).strip("-")
    return "chart-" + (slug or "untitled")
