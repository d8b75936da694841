"""What the pages show and change: transcripts, masking, annotations, leads CSV, edits, erasure."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Booking, DateOverride, Lead, TimeOff, WeeklyHours
from bot.db.reviews import Annotation
from bot.db.staff import AuditEntry
from bot.rasa.events import events_table
from tests.staff.conftest import Staff
from tests.staff.seed import EMAIL, NAME, PHONE, PHONE_AS_TYPED, XSS, Seeded
from tests.support.conversations import greeting_conversation, write_conversation

SignIn = Callable[[str], Staff]


def audit_rows(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count(db: Session, model: object) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_script_in_a_transcript_is_shown_as_text(signed_in: SignIn) -> None:
    page = signed_in("navigator").get("/conversations/conv-xss")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    scripts = re.findall(r"<script[^>]*>", page.text, re.IGNORECASE)
    assert scripts == ['<script src="/static/live.js" defer>']  # the app's own file only


def test_transcript_shows_intents_actions_slots_and_the_lead(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    page = signed_in("navigator").get("/conversations/conv-booked")
    text = page.text
    assert 'data-testid="intent">request_assessment</strong>' in text
    assert '<span class="conf">0.95</span>' in text  # "Which one is right for me?"
    assert "lead_timezone=America/Denver" in text  # an entity
    assert "Action <strong>utter_greet</strong>" in text  # a bot reply and its action
    assert re.search(r"<details class=\"steps\">\s*<summary>\d+ actions?,", text)
    assert '<th scope="row">recommendation</th><td>both</td>' in text  # a slot change
    assert f'<a href="/leads/{seeded.lead_id}">Lead {seeded.lead_id}</a>: {NAME}' in text
    assert EMAIL in text
    entry = audit_rows(db, "view_transcript")[-1]
    assert (entry.actor, entry.target_id, entry.details) == (
        "staff:navigator",
        "conv-booked",
        {"masked": False},
    )


def test_reviewer_never_sees_contact_details(signed_in: SignIn, db: Session) -> None:
    reviewer = signed_in("reviewer")
    page = reviewer.get("/conversations/conv-booked")
    assert page.status_code == 200
    lowered = page.text.lower()
    for secret in (NAME, "Rivera", EMAIL, PHONE, PHONE_AS_TYPED, "5550142"):
        assert secret.lower() not in lowered, secret
    assert "masked for your role" in page.text
    assert "contact details hidden" in page.text
    assert "/leads/" not in page.text
    assert audit_rows(db, "view_transcript")[-1].details == {"masked": True}
    assert reviewer.get("/leads.csv").status_code == 403


@pytest.mark.parametrize("role", ["reviewer", "navigator"])
def test_search_never_finds_a_person_by_their_details(signed_in: SignIn, role: str) -> None:
    user = signed_in(role)
    for name in (NAME, "rivera"):
        page = user.get("/conversations", params={"text": name})
        assert "0 conversations" in page.text, name  # names never enter the search index
        assert "/conversations/conv-booked" not in page.text


def test_reviewer_cannot_probe_the_search_for_contact_details(signed_in: SignIn) -> None:
    reviewer = signed_in("reviewer")
    page = reviewer.get("/conversations", params={"text": EMAIL})
    assert "emails and phone numbers are not searchable" in page.text
    assert "6 conversations" in page.text  # the search was not run: nothing is revealed
    assert (
        reviewer.get("/conversations", params={"text": "chest pain"}).text.count(
            'href="/conversations/conv-emergency"'
        )
        == 1
    )


def test_annotation_via_post_creates_the_row(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    reviewer = signed_in("reviewer")
    response = reviewer.post(
        "/conversations/conv-booked/annotate",
        {"event_id": str(seeded.greet_event_id), "intent": "bot_challenge"},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"done=annotate#event-{seeded.greet_event_id}")
    db.expire_all()
    row = db.scalars(select(Annotation)).one()
    assert (row.conversation_id, row.event_id, row.text) == (
        "conv-booked",
        seeded.greet_event_id,
        "hi there",
    )
    assert (row.predicted_intent, row.corrected_intent) == ("greet", "bot_challenge")
    page = reviewer.get("/conversations/conv-booked")
    assert "Corrected to <strong>bot_challenge</strong>" in page.text


def test_messages_with_personal_details_cannot_be_annotated(signed_in: SignIn, db: Session) -> None:
    navigator = signed_in("navigator")
    name_message = db.scalar(
        select(events_table.c.id).where(
            events_table.c.sender_id == "conv-booked",
            events_table.c.type_name == "user",
            events_table.c.data.like(f"%I'm {NAME}%"),
        )
    )
    response = navigator.post(
        "/conversations/conv-booked/annotate", {"event_id": str(name_message), "intent": "greet"}
    )
    assert response.status_code == 400
    assert "without personal details" in response.text
    assert count(db, Annotation) == 0


def test_unknown_intent_is_refused(signed_in: SignIn, seeded: Seeded, db: Session) -> None:
    response = signed_in("admin").post(
        "/conversations/conv-booked/annotate",
        {"event_id": str(seeded.greet_event_id), "intent": "<b>made_up</b>"},
    )
    assert response.status_code == 400
    assert "&lt;b&gt;made_up&lt;/b&gt;" in response.text
    assert count(db, Annotation) == 0


def test_tags_notes_and_review_status(signed_in: SignIn) -> None:
    reviewer = signed_in("reviewer")
    assert reviewer.post("/conversations/conv-xss/tags", {"tag": "xss-check"}).status_code == 303
    assert reviewer.post("/conversations/conv-xss/notes", {"body": "<i>odd</i>"}).status_code == 303
    assert reviewer.post("/conversations/conv-xss/review", {"reviewed": "1"}).status_code == 303
    page = reviewer.get("/conversations/conv-xss").text
    assert '<span class="tag">xss-check</span>' in page
    assert "&lt;i&gt;odd&lt;/i&gt;" in page
    assert "Reviewed by Reviewer Person" in page
    bad = reviewer.post("/conversations/conv-xss/tags", {"tag": "Not A Tag!"})
    assert bad.status_code == 400
    inbox = reviewer.get("/conversations", params={"review_status": "reviewed"}).text
    assert "/conversations/conv-xss" in inbox and "/conversations/conv-booked" not in inbox


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {},
            {
                "conv-booked",
                "conv-xss",
                "conv-emergency",
                "conv-fallback",
                "conv-human",
                "conv-unsure",
            },
        ),
        ({"channel": "telegram"}, {"conv-fallback"}),
        ({"channel": "socketio", "emergency": "1"}, {"conv-emergency"}),
        ({"outcome": "booked"}, {"conv-booked"}),
        ({"recommendation": "both"}, {"conv-booked"}),
        ({"fallback": "1"}, {"conv-fallback", "conv-unsure"}),
        ({"human_requested": "1"}, {"conv-human"}),
        ({"text": "script"}, {"conv-xss"}),
        ({"date_from": "2025-03-04"}, set()),
        (
            {"date_to": "2025-03-03", "review_status": "unreviewed", "channel": "rest"},
            {"conv-booked", "conv-human", "conv-unsure"},
        ),
    ],
)
def test_inbox_filters(signed_in: SignIn, query: dict[str, str], expected: set[str]) -> None:
    page = signed_in("navigator").get("/conversations", params=query)
    assert page.status_code == 200
    assert set(re.findall(r'href="/conversations/(conv-[a-z]+)"', page.text)) == expected


def test_inbox_is_newest_first_and_explains_bad_filters(signed_in: SignIn) -> None:
    navigator = signed_in("navigator")
    page = navigator.get("/conversations").text
    order = re.findall(r'href="/conversations/(conv-[a-z]+)"', page)
    assert order[0] == "conv-unsure" and order[-1] == "conv-booked"
    bad = navigator.get("/conversations", params={"channel": "<fax>"})
    assert bad.status_code == 200
    assert "channel: unknown value &#39;&lt;fax&gt;&#39;" in bad.text


def test_leads_csv_export_is_safe_and_audited(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    response = signed_in("navigator").get("/leads.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment;" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["email"], row["status"]) == (NAME, EMAIL, "booked")
    assert row["phone"] == "'" + PHONE  # a leading + would start a formula
    assert row["summary"] == '\'=HYPERLINK("http://evil.example")'
    assert row["booking_reference"].startswith("PR-")
    entry = audit_rows(db, "export_leads")[-1]
    assert (entry.actor, entry.details) == ("staff:navigator", {"count": 1, "status": None})
    assert EMAIL not in str(entry.details)


def test_lead_views_are_audited(signed_in: SignIn, seeded: Seeded, db: Session) -> None:
    navigator = signed_in("navigator")
    assert NAME in navigator.get("/leads").text
    page = navigator.get(f"/leads/{seeded.lead_id}")
    assert EMAIL in page.text
    entry = audit_rows(db, "view_lead")[-1]
    assert (entry.target_type, entry.target_id) == ("lead", str(seeded.lead_id))
    assert (
        navigator.post(f"/leads/{seeded.lead_id}/status", {"status": "closed"}).status_code == 303
    )
    db.expire_all()
    assert db.get(Lead, seeded.lead_id).status == "closed"
    assert navigator.post(f"/leads/{seeded.lead_id}/status", {"status": "gone"}).status_code == 400


def test_bookings_callbacks_and_outbox(signed_in: SignIn, seeded: Seeded, db: Session) -> None:
    navigator = signed_in("navigator")
    bookings = navigator.get("/bookings").text
    assert "Dr. Ada Park" in bookings and "Wed 05 Mar 10:00 MST" in bookings
    callbacks = navigator.get("/callbacks").text
    assert "please call after 5" in callbacks and "Open (1)" in callbacks
    assert navigator.post(f"/callbacks/{seeded.callback_id}/done").status_code == 303
    assert "Open (0)" in navigator.get("/callbacks").text
    outbox = navigator.get("/outbox").text
    assert "Your intro call" in outbox
    assert "SECRET BODY TEXT" not in outbox
    assert '<span class="figure">1</span> pending' in outbox


def test_availability_edits_are_validated_and_audited(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    navigator = signed_in("navigator")
    base = f"/availability/{seeded.navigator_id}"
    saved = navigator.post(f"{base}/weekly", {"tue": "08:00-11:00, 12:00-15:30"})
    assert saved.status_code == 303
    db.expire_all()
    hours = db.scalars(select(WeeklyHours).where(WeeklyHours.navigator_id == seeded.navigator_id))
    assert sorted((h.weekday, h.start_time.isoformat(), h.end_time.isoformat()) for h in hours) == [
        (1, "08:00:00", "11:00:00"),
        (1, "12:00:00", "15:30:00"),
    ]
    entry = audit_rows(db, "edit_availability")[-1]
    assert (entry.target_id, entry.details) == (
        str(seeded.navigator_id),
        {"change": "weekly_hours"},
    )
    for form in (
        {"mon": "9-5"},
        {"mon": "12:00-09:00"},
        {"mon": "09:00-12:00, 11:00-13:00"},
    ):
        refused = navigator.post(f"{base}/weekly", form)
        assert refused.status_code == 400, form
    assert count(db, WeeklyHours) == 2  # unchanged by the refused forms
    assert navigator.post(f"{base}/override", {"date": "2020-01-01"}).status_code == 400
    assert (
        navigator.post(
            f"{base}/override", {"date": "2025-03-12", "hours": "10:00-14:00"}
        ).status_code
        == 303
    )
    assert count(db, DateOverride) == 2
    off = {"starts_at": "2025-03-11T09:00", "ends_at": "2025-03-11T08:00"}
    assert navigator.post(f"{base}/time-off", off).status_code == 400
    assert count(db, TimeOff) == 1
    off = {"starts_at": "2025-03-20T09:00", "ends_at": "2025-03-20T12:00", "reason": "training"}
    assert navigator.post(f"{base}/time-off", off).status_code == 303
    db.expire_all()
    assert count(db, TimeOff) == 2


def test_dashboard_draws_svg_charts(signed_in: SignIn) -> None:
    page = signed_in("reviewer").get("/dashboard")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 4
    assert '<title id="chart-funnel">Funnel</title>' in page.text
    assert re.search(r'<span class="figure">6</span> conversations', page.text)
    earlier = signed_in("reviewer").get(
        "/dashboard", params={"start": "2025-01-01", "end": "2025-01-31"}
    )
    assert re.search(r'<span class="figure">0</span> conversations', earlier.text)
    bad = signed_in("reviewer").get(
        "/dashboard", params={"start": "2025-03-05", "end": "2025-03-01"}
    )
    assert "is after end" in bad.text


def test_erasure_needs_confirmation_and_removes_the_rows(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    admin = signed_in("admin")
    assert "Yes, erase it" in admin.get("/conversations/conv-booked/erase").text
    assert admin.post("/conversations/conv-booked/erase").status_code == 400
    assert count(db, Lead) == 1
    done = admin.post("/conversations/conv-booked/erase", {"confirm": "erase"})
    assert done.status_code == 303 and done.headers["location"] == "/conversations?erased=1"
    assert count(db, Lead) == 0 and count(db, Booking) == 0
    remaining = db.scalar(
        select(func.count())
        .select_from(events_table)
        .where(events_table.c.sender_id == "conv-booked")
    )
    assert remaining == 0
    assert admin.get("/conversations/conv-booked").status_code == 404
    assert audit_rows(db, "erase_conversation")


def test_admin_manages_users_and_sees_the_audit_log(signed_in: SignIn, db: Session) -> None:
    admin = signed_in("admin")
    weak = admin.post(
        "/users",
        {
            "username": "weak",
            "display_name": "Weak",
            "role": "reviewer",
            "password": "short",
            "password_again": "short",
        },
    )
    assert weak.status_code == 400
    page = admin.get("/audit")
    assert 'data-testid="audit-status">The hash chain verifies' in page.text


def test_leads_are_paginated_and_a_page_past_the_end_shows_the_last(
    signed_in: SignIn, db: Session
) -> None:
    from bot.db.repository import create_lead

    for number in range(55):  # with the seeded lead: 56 leads, 50 a page
        create_lead(
            db,
            name=f"Paged Person {number:02d}",
            email=f"p{number}@example.com",
            timezone="UTC",
            channel="rest",
            conversation_id=f"paged-{number}",
        )
    db.commit()
    navigator = signed_in("navigator")
    first, last = navigator.get("/leads").text, navigator.get("/leads", params={"page": "99"}).text
    assert first.count("Paged Person") == 50 and "Paged Person 54" in first
    assert last.count("Paged Person") == 5 and "Paged Person 00" in last
    assert "Page 2 of 2" in last or "2 of 2" in last


@pytest.mark.parametrize("conversation_id", ["visitor/42 x", "a/erase", "100%/tags"])
def test_conversation_ids_with_slashes_open_and_take_reviews(
    signed_in: SignIn, db_url: str, db: Session, conversation_id: str
) -> None:
    write_conversation(db_url, conversation_id, greeting_conversation())
    url = "/conversations/" + quote(conversation_id, safe="")
    navigator = signed_in("navigator")
    page = navigator.get(url)
    assert page.status_code == 200
    assert "Action <strong>utter_greet</strong>" in page.text
    assert audit_rows(db, "view_transcript")[-1].target_id == conversation_id
    tagged = navigator.post(url + "/tags", {"tag": "slash-id"})
    assert tagged.status_code == 303 and tagged.headers["location"].startswith(url + "?")
    assert '<span class="tag">slash-id</span>' in navigator.get(url).text
    erase_form = signed_in("admin").get(url + "/erase")
    assert erase_form.status_code == 200
    assert f"<code>{conversation_id}</code>" in erase_form.text
    assert f'action="{url}/erase"' in erase_form.text
