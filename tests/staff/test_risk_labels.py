"""Risk in the transcript view: each message's label and score, the staff risk label (a missed
risk or a false alarm), the inbox marker, the alert link, and the export against the real data/."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversations.annotations import normalise
from bot.core.paths import DATA
from bot.db.reviews import RiskAnnotation
from bot.db.staff import AuditEntry
from bot.intake.answer_model import load_examples
from bot.intake.risk_model import SafetyExample, load_safety_examples
from bot.rasa.events import events_table, load_events
from tests.staff.conftest import Staff
from tests.support.conversations import Script, at, greeting, write_conversation
from tests.support.indexing import index_pending
from tests.support.labels import outputs, run_export
from tests.support.risk import risk, risky

SignIn = Callable[[str], Staff]
CONVERSATION = "conv-risk"
URL = f"/conversations/{CONVERSATION}"
HIGH_TEXT = "i've got the pills counted out for tonight"
MODERATE_TEXT = "this wait for the scan results is killing me"
MISSED_TEXT = "sorted out who gets my guitars and posted the goodbye notes, saturday is the day"
OLD_TEXT = "what does the intro call cost"
EMAIL_TEXT = "email me at sam.rivera@example.com, i can't go on like this"
ODD_TEXT = "how long is the call"
ODD_RISK = {"label": "<script>alert(1)</script>", "score": 0.9, "level": "high"}


def risk_conversation() -> list:
    """A greeting, then messages with every kind of risk annotation (and one without)."""
    script = greeting(Script(at(hour=8), "socketio"))
    messages = [
        (HIGH_TEXT, risk("crisis", 0.934, "high", "crisis", ("guard", "model"))),
        (MODERATE_TEXT, risk("none", 0.41, "moderate", "unclear", ("model",))),
        (MISSED_TEXT, risk("none", 0.08, "none", None, ())),
        (OLD_TEXT, None),
        (EMAIL_TEXT, risk("crisis", 0.88, "high", "crisis")),
        (ODD_TEXT, ODD_RISK),
    ]
    for text, annotation in messages:
        risky(script, text, annotation).utter("utter_greet").listen()
    return script.events


@pytest.fixture
def conversation(db_url: str, db: Session) -> dict[str, int]:
    """conv-risk stored in this test's database: its visitor messages' event ids by text."""
    write_conversation(db_url, CONVERSATION, risk_conversation())
    events = load_events(db, CONVERSATION)
    db.commit()
    return {e.data["text"]: e.id for e in events if e.type_name == "user"}


def article(page: str, event_id: int) -> str:
    """The HTML of one message of a transcript page."""
    match = re.search(
        rf'<article class="msg visitor" id="event-{event_id}".*?</article>', page, re.S
    )
    assert match, f"no message {event_id} on the page"
    return match.group(0)


def shown_risk(html: str) -> str | None:
    """The risk line of a message as text (tags dropped, whitespace collapsed), if any."""
    match = re.search(r'<p class="meta" data-testid="risk">(.*?)</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()) if match else None


def options(html: str) -> list[tuple[str, str]]:
    """(value, text) of the risk select's options."""
    match = re.search(r'<select name="label".*?</select>', html, re.S)
    assert match, "no risk select"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', match.group(0))


def stored(db: Session) -> list[RiskAnnotation]:
    """Every risk label in the database."""
    db.expire_all()
    return list(db.scalars(select(RiskAnnotation).order_by(RiskAnnotation.id)))


def mark(staff: Staff, event_id: int | str, label: str, path: str = URL, **extra: str):
    """POST a risk label."""
    return staff.post(f"{path}/annotate-risk", {"event_id": str(event_id), "label": label, **extra})


@pytest.mark.parametrize("role", ["admin", "navigator", "reviewer"])
def test_every_role_sees_each_messages_risk(
    signed_in: SignIn, conversation: dict[str, int], role: str
) -> None:
    page = signed_in(role).get(URL).text
    high = article(page, conversation[HIGH_TEXT])
    assert shown_risk(high) == "risk: crisis 0.93 · high via guard, model"
    assert 'data-testid="emergency-flag">Crisis' in high
    moderate = article(page, conversation[MODERATE_TEXT])
    assert shown_risk(moderate) == "risk: none 0.41 · moderate (unclear) via model"
    assert 'data-testid="emergency-flag">Possible risk' in moderate
    missed = article(page, conversation[MISSED_TEXT])
    assert shown_risk(missed) == "risk: none 0.08"
    assert 'data-testid="emergency-flag"' not in missed
    for text in (OLD_TEXT, ODD_TEXT):  # no annotation, or one that is not well formed
        assert shown_risk(article(page, conversation[text])) is None
    assert "<script>alert(1)</script>" not in page
    assert (
        shown_risk(article(page, conversation[EMAIL_TEXT])) == "risk: crisis 0.88 · high via model"
    )


def test_the_form_offers_missed_risk_or_false_alarm(
    signed_in: SignIn, conversation: dict[str, int]
) -> None:
    page = signed_in("reviewer").get(URL).text
    flagged = article(page, conversation[HIGH_TEXT])
    form = re.search(r'<form [^>]*data-testid="risk-form">.*?</form>', flagged, re.S)
    assert form and f'action="{URL}/annotate-risk"' in form.group(0)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}">', form.group(0))
    assert options(flagged) == [
        ("", "choose…"),
        ("acute", "risk: acute (911)"),
        ("crisis", "risk: crisis (988)"),
        ("none", "false alarm"),
    ]
    assert options(article(page, conversation[MISSED_TEXT])) == [
        ("", "choose…"),
        ("acute", "missed risk: acute (911)"),
        ("crisis", "missed risk: crisis (988)"),
        ("none", "no risk"),
    ]
    assert 'data-testid="risk-form"' in article(page, conversation[OLD_TEXT])
    assert 'data-testid="risk-form"' not in article(page, conversation[EMAIL_TEXT])


def test_a_reviewer_marks_a_missed_risk_and_a_false_alarm(
    signed_in: SignIn, conversation: dict[str, int], db: Session
) -> None:
    reviewer = signed_in("reviewer")
    missed, alarm = conversation[MISSED_TEXT], conversation[MODERATE_TEXT]
    response = mark(reviewer, missed, "crisis")
    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}?done=annotate-risk#event-{missed}"
    assert mark(reviewer, alarm, "acute").status_code == 303
    assert mark(reviewer, alarm, "none").status_code == 303  # changed: one row per message
    rows = [(r.event_id, r.text, r.label, r.predicted_label, r.predicted_level) for r in stored(db)]
    assert rows == [
        (missed, MISSED_TEXT, "crisis", "none", "none"),
        (alarm, MODERATE_TEXT, "none", "none", "moderate"),
    ]
    page = reviewer.get(f"{URL}?done=annotate-risk").text
    assert "Risk label saved." in page
    shown = article(page, missed)
    assert re.search(
        r'data-testid="risk-label">Staff: <strong>missed risk: crisis \(988\)</strong>'
        r'\s*<span class="muted">\(model: none 0\.08 · none;',
        shown,
    )
    assert re.search(r'<option value="crisis" selected>', shown)
    assert "Staff: <strong>false alarm</strong>" in article(page, alarm)
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "annotate_risk")).all()
    assert [(e.actor, e.target_type, e.target_id, e.details) for e in entries] == [
        ("staff:reviewer", "conversation", CONVERSATION, {"event_id": missed}),
        ("staff:reviewer", "conversation", CONVERSATION, {"event_id": alarm}),
        ("staff:reviewer", "conversation", CONVERSATION, {"event_id": alarm}),
    ]
    assert "guitars" not in json.dumps([e.details for e in entries])


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("high", "&#39;high&#39; is not a risk label"),
        ("<b>x</b>", "&#39;&lt;b&gt;x&lt;/b&gt;&#39; is not a risk label"),
        ("", "is not a risk label: choose acute or crisis (a missed risk) or none"),
        ("Crisis", "is not a risk label"),
    ],
)
def test_bad_labels_are_refused_with_a_clear_400(
    signed_in: SignIn, conversation: dict[str, int], db: Session, label: str, message: str
) -> None:
    response = mark(signed_in("admin"), conversation[MISSED_TEXT], label)
    assert response.status_code == 400
    assert message in response.text and "<b>x</b>" not in response.text
    assert stored(db) == []


def test_only_typed_messages_without_personal_details_of_this_conversation(
    signed_in: SignIn, conversation: dict[str, int], db: Session
) -> None:
    navigator = signed_in("navigator")
    bot_event = db.scalar(
        select(events_table.c.id).where(
            events_table.c.sender_id == CONVERSATION, events_table.c.type_name == "bot"
        )
    )
    for event_id in (conversation[EMAIL_TEXT], bot_event, 10_000_000, "abc", "1" * 19):
        assert mark(navigator, event_id, "crisis").status_code == 400, event_id
    other = mark(navigator, conversation[MISSED_TEXT], "crisis", "/conversations/conv-booked")
    assert other.status_code == 400  # a message of conv-risk, posted to another conversation
    missing = mark(navigator, conversation[MISSED_TEXT], "crisis", "/conversations/nobody")
    assert missing.status_code == 404
    assert stored(db) == []


def test_the_csrf_token_and_a_session_are_required(
    signed_in: SignIn, client, conversation: dict[str, int], db: Session
) -> None:
    reviewer = signed_in("reviewer")
    form = {"event_id": str(conversation[MISSED_TEXT]), "label": "crisis"}
    assert reviewer.post(f"{URL}/annotate-risk", form, csrf=False).status_code == 403
    assert (
        reviewer.post(f"{URL}/annotate-risk", {**form, "csrf_token": "x" * 43}).status_code == 403
    )
    anonymous = client.post(f"{URL}/annotate-risk", data=form)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert stored(db) == []


def test_erasing_the_conversation_removes_its_risk_labels(
    signed_in: SignIn, conversation: dict[str, int], db: Session
) -> None:
    admin = signed_in("admin")
    assert mark(admin, conversation[MISSED_TEXT], "crisis").status_code == 303
    assert admin.post(f"{URL}/erase", {"confirm": "erase"}).status_code == 303
    assert stored(db) == []
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "erase_conversation")).one()
    assert entry.details["risk_annotations"] == 1


def test_the_alert_link_opens_the_message_in_its_conversation(
    signed_in: SignIn, client, conversation: dict[str, int]
) -> None:
    event_id = conversation[HIGH_TEXT]
    reviewer = signed_in("reviewer")
    response = reviewer.get(f"/events/{event_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}#event-{event_id}"
    for missing in (10_000_000, 2**40):
        gone = reviewer.get(f"/events/{missing}")
        assert gone.status_code == 404 and "no such message" in gone.text
    anonymous = client.get(f"/events/{event_id}")
    assert anonymous.headers["location"] == f"/login?next=%2Fevents%2F{event_id}"


def test_the_inbox_marks_a_conversation_with_a_risk_level(
    signed_in: SignIn, conversation: dict[str, int], db_url: str
) -> None:
    index_pending(db_url)
    navigator = signed_in("navigator")
    flagged = navigator.get("/conversations", params={"emergency": "1"}).text
    assert set(re.findall(r'href="/conversations/(conv-[a-z]+)"', flagged)) == {
        "conv-emergency",
        CONVERSATION,
    }
    row = re.search(rf'<tr>(?:(?!</tr>).)*href="{URL}".*?</tr>', flagged, re.S)
    assert row and '<span class="badge danger">emergency</span>' in row.group(0)


def in_training_data(text: str) -> bool:
    """Whether data/nlu, data/answers or data/safety already hold this text (normalised)."""
    key = normalise(text)
    nlu = [
        m.get("text")
        for p in sorted((DATA / "nlu").glob("*.yml"))
        for m in RasaYAMLReader().read(p).intent_examples
    ]
    answers = [t for pairs in load_examples(DATA / "answers").values() for t, _ in pairs]
    safety = [e.text for e in load_safety_examples(DATA / "safety")]
    return any(normalise(t) == key for t in (*nlu, *answers, *safety))


def test_labels_saved_on_the_page_export_to_files_training_accepts(
    signed_in: SignIn,
    conversation: dict[str, int],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """From the transcript page to files Rasa's and the models' loaders read, against data/."""
    assert not in_training_data(MISSED_TEXT)
    event_id = conversation[MISSED_TEXT]
    reviewer = signed_in("reviewer")
    assert mark(reviewer, event_id, "crisis").status_code == 303
    intent = {"event_id": str(event_id), "intent": "emergency"}
    assert reviewer.post(f"{URL}/annotate", intent).status_code == 303
    answer = {"event_id": str(event_id), "question": "scope", "value": "none"}
    assert reviewer.post(f"{URL}/annotate-answer", answer).status_code == 303

    monkeypatch.setenv("DATABASE_URL", db_url)
    out = tmp_path / "annotations"
    assert run_export(*outputs(out)) == 0
    printed = capsys.readouterr().out
    assert "guitars" not in printed
    assert "exported: 1" in printed and "answer labels exported: 1" in printed
    assert "risk labels exported: 1" in printed

    nlu = RasaYAMLReader().read(out / "nlu.yml").intent_examples
    assert [(m.get("text"), m.get("intent")) for m in nlu] == [(MISSED_TEXT, "emergency")]
    answers = load_examples(out / "answers")
    assert answers["scope"] == [(MISSED_TEXT, "none")]
    assert load_safety_examples(out / "safety") == [
        SafetyExample(MISSED_TEXT, "crisis", "staff_labels")
    ]
    merged = load_safety_examples(DATA / "safety") + load_safety_examples(out / "safety")
    assert SafetyExample(MISSED_TEXT, "crisis", "staff_labels") in merged
