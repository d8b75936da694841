"""Every permission rule as one table: each role by each route, and unauthenticated visitors."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.staff.app import create_app
from bot.staff.permissions import ROLE_PERMISSIONS, Permission
from tests.staff.conftest import Staff
from tests.staff.seed import Seeded

NEW_PASSWORD = "Another-Long-Pass-42"
OK, REDIRECT, DENIED = 200, 303, 403
REFUSED, CONFLICT = 400, 409  # allowed, but the takeover step itself is refused (nobody joined)

# (method, path, form, admin, navigator, reviewer). {name} is filled from the seeded ids.
# A POST that is allowed answers 303 (Post/Redirect/Get); a GET answers 200 (/ redirects).
TABLE = [
    ("GET", "/", {}, REDIRECT, REDIRECT, REDIRECT),
    ("GET", "/conversations", {}, OK, OK, OK),
    ("GET", "/conversations/conv-booked", {}, OK, OK, OK),
    ("POST", "/conversations/conv-booked/tags", {"tag": "follow-up"}, REDIRECT, REDIRECT, REDIRECT),
    (
        "POST",
        "/conversations/conv-booked/notes",
        {"body": "checked the reply"},
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    ("POST", "/conversations/conv-booked/review", {"reviewed": "1"}, REDIRECT, REDIRECT, REDIRECT),
    (
        "POST",
        "/conversations/conv-booked/annotate",
        {"event_id": "{greet_event_id}", "intent": "greet"},
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    (
        "POST",
        "/conversations/conv-booked/annotate-answer",
        {"event_id": "{greet_event_id}", "question": "scope", "value": "none"},
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    (
        "POST",
        "/conversations/conv-booked/annotate-risk",
        {"event_id": "{greet_event_id}", "label": "none"},
        REDIRECT,
        REDIRECT,
        REDIRECT,
    ),
    ("GET", "/events/{greet_event_id}", {}, REDIRECT, REDIRECT, REDIRECT),
    ("GET", "/conversations/conv-booked/erase", {}, OK, DENIED, DENIED),
    ("POST", "/conversations/conv-booked/erase", {"confirm": "erase"}, REDIRECT, DENIED, DENIED),
    ("GET", "/handoffs", {}, OK, OK, OK),
    ("GET", "/handoffs/count.json", {}, OK, OK, OK),
    ("GET", "/conversations/conv-booked/live", {}, OK, OK, OK),
    ("GET", "/conversations/conv-booked/live.json", {}, OK, OK, OK),
    ("GET", "/conversations/conv-booked/live/stream", {}, OK, OK, OK),
    ("POST", "/conversations/conv-booked/join", {}, REFUSED, REFUSED, DENIED),
    ("POST", "/conversations/conv-booked/messages", {"text": "hello"}, CONFLICT, CONFLICT, DENIED),
    ("POST", "/conversations/conv-booked/hand-back", {"note": "done"}, REFUSED, REFUSED, DENIED),
    ("GET", "/leads", {}, OK, OK, DENIED),
    ("GET", "/leads/{lead_id}", {}, OK, OK, DENIED),
    ("POST", "/leads/{lead_id}/status", {"status": "contacted"}, REDIRECT, REDIRECT, DENIED),
    ("GET", "/leads.csv", {}, OK, OK, DENIED),
    ("GET", "/bookings", {}, OK, OK, DENIED),
    ("GET", "/callbacks", {}, OK, OK, DENIED),
    ("POST", "/callbacks/{callback_id}/done", {}, REDIRECT, REDIRECT, DENIED),
    ("GET", "/outbox", {}, OK, OK, DENIED),
    ("GET", "/availability", {}, OK, OK, DENIED),
    (
        "POST",
        "/availability/{navigator_id}/weekly",
        {"mon": "09:00-12:00, 13:00-17:00"},
        REDIRECT,
        REDIRECT,
        DENIED,
    ),
    (
        "POST",
        "/availability/{navigator_id}/override",
        {"date": "2025-03-10", "hours": "closed"},
        REDIRECT,
        REDIRECT,
        DENIED,
    ),
    (
        "POST",
        "/availability/{navigator_id}/time-off",
        {"starts_at": "2025-03-10T09:00", "ends_at": "2025-03-10T12:00", "reason": "clinic"},
        REDIRECT,
        REDIRECT,
        DENIED,
    ),
    ("POST", "/availability/overrides/{override_id}/delete", {}, REDIRECT, REDIRECT, DENIED),
    ("POST", "/availability/time-off/{time_off_id}/delete", {}, REDIRECT, REDIRECT, DENIED),
    ("GET", "/dashboard", {}, OK, OK, OK),
    ("GET", "/users", {}, OK, DENIED, DENIED),
    (
        "POST",
        "/users",
        {
            "username": "newcomer",
            "display_name": "New Comer",
            "role": "reviewer",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
        REDIRECT,
        DENIED,
        DENIED,
    ),
    ("POST", "/users/spare/role", {"role": "navigator"}, REDIRECT, DENIED, DENIED),
    ("POST", "/users/spare/deactivate", {}, REDIRECT, DENIED, DENIED),
    ("POST", "/users/spare/activate", {}, REDIRECT, DENIED, DENIED),
    (
        "POST",
        "/users/spare/password",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        REDIRECT,
        DENIED,
        DENIED,
    ),
    ("GET", "/audit", {}, OK, DENIED, DENIED),
    ("POST", "/logout", {}, REDIRECT, REDIRECT, REDIRECT),
]
ROLE_COLUMNS = ("admin", "navigator", "reviewer")
CASES = [
    pytest.param(method, path, form, role, row[3 + index], id=f"{role}-{method}-{path}")
    for row in TABLE
    for method, path, form in [row[:3]]
    for index, role in enumerate(ROLE_COLUMNS)
]
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"), ("GET", "/health")}


def route_template(path: str) -> str:
    """The route path a table row exercises (`{lead_id}` -> `{lead_id:int}`, ...)."""
    path = re.sub(r"\{(\w+_id)\}", r"{\1:int}", path)
    path = path.replace("conv-booked", "{conversation_id}")
    path = path.replace("{greet_event_id:int}", "{event_id:int}")
    return path.replace("/users/spare/", "/users/{username}/")


def fill(text: str, seeded: Seeded) -> str:
    """A path or form value with the seeded ids filled in."""
    return text.format(**{k: v for k, v in seeded.__dict__.items() if isinstance(v, int)})


@pytest.mark.parametrize(("method", "path", "form", "role", "expected"), CASES)
def test_role_route(
    signed_in: Callable[[str], Staff],
    seeded: Seeded,
    method: str,
    path: str,
    form: dict[str, str],
    role: str,
    expected: int,
) -> None:
    staff = signed_in(role)
    url = fill(path, seeded)
    if method == "GET":
        response = staff.get(url)
    else:
        response = staff.post(url, {key: fill(value, seeded) for key, value in form.items()})
    assert response.status_code == expected, response.text[:500]
    if expected == DENIED:
        assert "Your role does not allow" in response.text


@pytest.mark.parametrize(
    ("method", "path", "form"), [pytest.param(*row[:3], id=f"{row[0]}-{row[1]}") for row in TABLE]
)
def test_unauthenticated_goes_to_login(
    client: TestClient, seeded: Seeded, method: str, path: str, form: dict[str, str]
) -> None:
    url = fill(path, seeded)
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login")
    if method == "GET" and url != "/":
        assert location.endswith("next=" + url.replace("/", "%2F"))


def test_the_table_covers_every_route(settings: object) -> None:
    """A new route cannot slip in without a row in the table and a declared permission."""
    app = create_app(settings)  # type: ignore[arg-type]
    declared = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or ()) - {"HEAD"}
    }
    tabled = {(method, route_template(path)) for method, path, *_ in TABLE}
    assert declared - PUBLIC == tabled
    for route in app.routes:
        if isinstance(route, Route) and route.path not in {path for _, path in PUBLIC}:
            assert hasattr(route.endpoint, "permission"), f"{route.path} declares no permission"


def test_roles_hold_what_the_issue_says() -> None:
    """The table's data: admin everything; reviewers no personal data, leads or exports."""
    assert ROLE_PERMISSIONS["admin"] == frozenset(Permission)
    reviewer = ROLE_PERMISSIONS["reviewer"]
    assert Permission.VIEW_PERSONAL not in reviewer
    assert Permission.VIEW_LEADS not in reviewer and Permission.EXPORT_LEADS not in reviewer
    assert {Permission.VIEW_CONVERSATIONS, Permission.REVIEW, Permission.VIEW_DASHBOARD} <= reviewer
    navigator = ROLE_PERMISSIONS["navigator"]
    assert not {Permission.MANAGE_USERS, Permission.VIEW_AUDIT, Permission.ERASE} & navigator
    assert Permission.TAKE_OVER in navigator and Permission.TAKE_OVER not in reviewer
