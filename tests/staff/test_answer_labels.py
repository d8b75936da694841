"""Answer labels in the transcript view: the model's reading, the form, saving, refusing, audit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bot.core.settings import Settings
from bot.db.reviews import AnswerAnnotation
from bot.db.staff import AuditEntry
from bot.rasa.events import events_table
from bot.staff.app import create_app
from tests.db.conftest import database_url, pg_admin  # noqa: F401 (fixtures)
from tests.staff.conftest import Clock, Staff, form_token, log_in
from tests.staff.seed import (
    ANSWER_TEXT,
    NAME,
    PASSWORD,
    START,
    UNPROMPTED_TEXT,
    Seeded,
    build,
)

SignIn = Callable[[str], Staff]
URL = "/conversations/conv-unsure"


def article(page: str, event_id: int) -> str:
    """The HTML of one message of a transcript page."""
    match = re.search(
        rf'<article class="msg visitor" id="event-{event_id}".*?</article>', page, re.S
    )
    assert match, f"no message {event_id} on the page"
    return match.group(0)


def selected(html: str, name: str) -> list[str]:
    """The selected option values of the select `name` in a piece of HTML."""
    match = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert match, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]* selected', match.group(0))


def stored(db: Session) -> list[AnswerAnnotation]:
    """Every answer label in the database."""
    db.expire_all()
    return list(db.scalars(select(AnswerAnnotation).order_by(AnswerAnnotation.id)))


def label(staff: Staff, event_id: int | str, question: str, value: str, **extra: str):
    """POST an answer label."""
    form = {"event_id": str(event_id), "question": question, "value": value, **extra}
    return staff.post(f"{URL}/annotate-answer", form)


def test_transcript_shows_the_reading_and_the_form(signed_in: SignIn, seeded: Seeded) -> None:
    page = signed_in("reviewer").get(URL).text
    answer = article(page, seeded.answer_event_id)
    assert ANSWER_TEXT.replace("'", "&#39;") in answer
    assert re.search(
        r'data-testid="answer-reading">Answer \(support\): <strong>alone</strong>\s*'
        r'<span class="conf">0\.93</span>',
        answer,
    )
    form = re.search(r'<form [^>]*data-testid="answer-form">.*?</form>', answer, re.S)
    assert form and f'action="{URL}/annotate-answer"' in form.group(0)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}">', form.group(0))
    assert selected(answer, "question") == ["support"]  # the question that was open
    assert selected(answer, "value") == ["alone"]  # the model's reading of it
    values = re.findall(r'<option value="([^"]*)"', answer.split('name="value"')[1])
    assert values == [
        "bounded",
        "complex",
        "one_time",
        "many",
        "answer",
        "navigate",
        "has_support",
        "alone",
        "none",
    ]
    assert ">not an answer</option>" in answer
    unprompted = article(page, seeded.unprompted_event_id)
    assert UNPROMPTED_TEXT in unprompted
    assert 'data-testid="answer-reading"' not in unprompted  # no question was open
    assert selected(unprompted, "question") == ["scope"]
    assert selected(unprompted, "value") == ["complex"]


def test_messages_without_readings_get_the_form_with_nothing_chosen(
    signed_in: SignIn, seeded: Seeded
) -> None:
    page = signed_in("navigator").get("/conversations/conv-booked").text
    greeting = article(page, seeded.greet_event_id)
    assert 'data-testid="answer-form"' in greeting
    assert 'data-testid="answer-reading"' not in greeting
    assert selected(greeting, "question") == ["scope"]
    assert selected(greeting, "value") == [""]  # "choose…": the browser makes staff pick


def test_no_answer_form_on_messages_with_personal_details(signed_in: SignIn, db: Session) -> None:
    name_message = db.scalar(
        select(events_table.c.id).where(
            events_table.c.sender_id == "conv-booked",
            events_table.c.type_name == "user",
            events_table.c.data.like(f"%I'm {NAME}%"),
        )
    )
    navigator = signed_in("navigator")
    page = navigator.get("/conversations/conv-booked").text
    assert 'data-testid="answer-form"' not in article(page, name_message)
    response = navigator.post(
        "/conversations/conv-booked/annotate-answer",
        {"event_id": str(name_message), "question": "scope", "value": "none"},
    )
    assert response.status_code == 400
    assert "without personal details" in response.text
    assert stored(db) == []


def test_a_reviewer_labels_an_answer_and_sees_it(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    reviewer = signed_in("reviewer")
    response = label(reviewer, seeded.answer_event_id, "support", "has_support")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"{URL}?done=annotate-answer#event-{seeded.answer_event_id}"
    )
    (row,) = stored(db)
    assert (row.conversation_id, row.event_id, row.question, row.value, row.text) == (
        "conv-unsure",
        seeded.answer_event_id,
        "support",
        "has_support",
        ANSWER_TEXT,
    )
    assert (row.predicted_value, row.predicted_confidence) == ("alone", pytest.approx(0.93))
    page = reviewer.get(f"{URL}?done=annotate-answer").text
    assert "Answer label saved." in page
    answer = article(page, seeded.answer_event_id)
    assert re.search(
        r'data-testid="answer-label">Answer to support labelled '
        r"<strong>has_support</strong>\s*<span class=\"muted\">\(model: alone "
        r"0\.93;",
        answer,
    )
    assert selected(answer, "value") == ["has_support"]  # the saved label, not the reading
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "annotate_answer")).all()
    assert [(e.actor, e.target_type, e.target_id, e.details) for e in entries] == [
        (
            "staff:reviewer",
            "conversation",
            "conv-unsure",
            {"event_id": seeded.answer_event_id, "question": "support"},
        ),
    ]
    assert "nobody" not in json.dumps(entries[0].details)


def test_changing_a_label_keeps_one_per_question(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    navigator = signed_in("navigator")
    event_id = seeded.unprompted_event_id
    assert label(navigator, event_id, "scope", "complex").status_code == 303
    assert label(navigator, event_id, "scope", "bounded").status_code == 303
    assert label(navigator, event_id, "decisions", "none").status_code == 303
    assert [(r.question, r.value) for r in stored(db)] == [
        ("scope", "bounded"),
        ("decisions", "none"),
    ]
    shown = article(navigator.get(URL).text, event_id)
    assert re.findall(r"Answer to (\w+) labelled <strong>([^<]+)</strong>", shown) == [
        ("scope", "bounded"),
        ("decisions", "not an answer"),
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"question": "support", "value": "bounded"},
            "&#39;bounded&#39; is not an answer label for the support question",
        ),
        ({"question": "scope", "value": "<b>x</b>"}, "&#39;&lt;b&gt;x&lt;/b&gt;&#39; is not"),
        ({"question": "scope", "value": ""}, "is not an answer label for the scope question"),
        (
            {"question": "<i>mood</i>", "value": "none"},
            "unknown question &#39;&lt;i&gt;mood&lt;/i&gt;&#39;",
        ),
        ({"question": "", "value": "none"}, "unknown question"),
        ({"value": "none"}, "unknown question"),
        ({"question": "scope", "value": "none", "event_id": "abc"}, "event_id must be a number"),
        ({"question": "scope", "value": "none", "event_id": "1" * 19}, "event_id must be a number"),
    ],
)
def test_bad_labels_are_refused_with_a_clear_400(
    signed_in: SignIn, seeded: Seeded, db: Session, form: dict[str, str], message: str
) -> None:
    data = {"event_id": str(seeded.answer_event_id), **form}
    response = signed_in("admin").post(f"{URL}/annotate-answer", data)
    assert response.status_code == 400
    assert message in response.text
    assert "<b>x</b>" not in response.text and "<i>mood</i>" not in response.text
    assert stored(db) == []


def test_only_typed_visitor_messages_of_this_conversation(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    admin = signed_in("admin")
    bot_event = db.scalar(
        select(events_table.c.id).where(
            events_table.c.sender_id == "conv-unsure", events_table.c.type_name == "bot"
        )
    )
    for event_id in (bot_event, seeded.greet_event_id, 10_000_000):  # greet: conv-booked's
        response = label(admin, event_id, "scope", "none")
        assert response.status_code == 400, event_id
    missing = admin.post(
        "/conversations/no-such-conversation/annotate-answer",
        {"event_id": str(seeded.answer_event_id), "question": "scope", "value": "none"},
    )
    assert missing.status_code == 404
    assert stored(db) == []


@pytest.fixture
def valid_form(seeded: Seeded) -> dict[str, str]:
    """A label the seeded answer message may be given (support: alone), as the form posts it."""
    return {"event_id": str(seeded.answer_event_id), "question": "support", "value": "alone"}


def test_the_csrf_token_is_required(
    signed_in: SignIn, valid_form: dict[str, str], db: Session
) -> None:
    reviewer = signed_in("reviewer")
    missing = reviewer.post(f"{URL}/annotate-answer", valid_form, csrf=False)
    wrong = reviewer.post(f"{URL}/annotate-answer", {**valid_form, "csrf_token": "x" * 43})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert "security token is missing or wrong" in response.text
    assert stored(db) == []


def test_signed_out_visitors_go_to_the_login_page(
    client: TestClient, valid_form: dict[str, str], db: Session
) -> None:
    response = client.post(f"{URL}/annotate-answer", data=valid_form)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert stored(db) == []


def test_erasing_the_conversation_removes_its_labels(
    signed_in: SignIn, seeded: Seeded, db: Session
) -> None:
    admin = signed_in("admin")
    assert label(admin, seeded.answer_event_id, "support", "alone").status_code == 303
    assert label(admin, seeded.unprompted_event_id, "scope", "complex").status_code == 303
    assert len(stored(db)) == 2
    assert admin.post(f"{URL}/erase", {"confirm": "erase"}).status_code == 303
    assert stored(db) == []
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "erase_conversation")).one()
    assert entry.details["answer_annotations"] == 2
    assert db.scalar(select(func.count()).select_from(AnswerAnnotation)) == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_labels_on_postgresql(database_url: str) -> None:  # noqa: F811 (the imported fixture)
    seeded = build(database_url)
    settings = Settings(database_url=database_url, environment="test", staff_cookie_secure=False)
    with TestClient(create_app(settings, clock=Clock(START)), follow_redirects=False) as client:
        assert log_in(client, "reviewer", PASSWORD).status_code == 303
        page = client.get(URL).text
        assert 'data-testid="answer-reading">Answer (support)' in page
        for value in ("alone", "none"):
            form = {
                "csrf_token": form_token(page),
                "event_id": str(seeded.answer_event_id),
                "question": "support",
                "value": value,
            }
            assert client.post(f"{URL}/annotate-answer", data=form).status_code == 303
        assert "labelled <strong>not an answer</strong>" in client.get(URL).text
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    AnswerAnnotation.question,
                    AnswerAnnotation.value,
                    AnswerAnnotation.predicted_value,
                )
            ).all()
            actions = list(connection.scalars(select(AuditEntry.action)))
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("support", "none", "alone")]
    assert actions.count("annotate_answer") == 2
