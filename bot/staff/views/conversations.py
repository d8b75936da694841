"""The inbox and the transcript view, with tags, notes, review status, labels and erasure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.responses import Response

from bot.conversations import review
from bot.conversations.inbox import (
    CHANNEL_LABELS,
    CHANNELS,
    HANDOFF_FILTER_LABELS,
    HANDOFF_FILTERS,
    OUTCOME_LABELS,
    RECOMMENDATION_LABELS,
    RECOMMENDATIONS,
    REVIEW_STATUS_LABELS,
    InboxFilters,
    InboxPage,
    list_conversations,
    live_window_start,
)
from bot.conversations.masking import Masker, lead_values, mask_transcript
from bot.conversations.privacy import erase_conversation
from bot.conversations.transcript import (
    ActionRun,
    BotMessage,
    SessionStart,
    SlotChange,
    Transcript,
    VisitorMessage,
    build_transcript,
)
from bot.db.models import Lead
from bot.db.repository import callback_requests_of
from bot.db.reviews import (
    NO_RISK,
    NOT_AN_ANSWER,
    OUTCOMES,
    REVIEW_STATUSES,
    RISK_LABELS,
    answer_values,
)
from bot.intake.recommendation import ASSESSMENT_SLOTS
from bot.intake.risk import ALERT_LEVELS
from bot.rasa.events import StoredEvent, load_events
from bot.staff.chat import live_state
from bot.staff.encoded_ids import conversation_url
from bot.staff.permissions import Permission
from bot.staff.views.base import Context, Routes, page_number, redirect

PER_PAGE = 25
ERASE_CONFIRMATION = "erase"
NOTICES = {
    "tag": "Tags saved.",
    "note": "Note added.",
    "review": "Review status saved.",
    "annotate": "Intent correction saved.",
    "annotate-answer": "Answer label saved.",
    "annotate-risk": "Risk label saved.",
}
DEFAULT_QUESTION = ASSESSMENT_SLOTS[0]  # the answer form's question when none was open
VALUE_NAMES = {NOT_AN_ANSWER: "not an answer"}
RISK_NUMBERS = {"acute": "acute (911)", "crisis": "crisis (988)"}
routes = Routes()  # declared on each handler below


@dataclass
class Steps:
    """Consecutive actions and slot changes, shown collapsed under one summary line."""

    actions: list[ActionRun] = field(default_factory=list)
    slots: list[SlotChange] = field(default_factory=list)
    kind: str = "steps"


@dataclass
class Line:
    """A visitor message, bot reply or session start as the transcript page shows it."""

    kind: str
    item: Any
    annotation: Any = None
    annotatable: bool = False
    answer: AnswerLine | None = None
    risk: RiskLine | None = None


@dataclass
class AnswerLine:
    """A visitor message's answer reading, staff labels and answer form defaults."""

    reading: review.AnswerReading | None  # for the question open when the message came
    labels: list[Any]  # AnswerAnnotation rows, in question order
    question: str  # the form's preselected question
    value: str | None  # the form's preselected value (None: staff must choose)


@dataclass
class RiskLine:
    """A visitor message's staff risk label and the risk form's choices."""

    label: Any  # the RiskAnnotation row, or None
    verdict: str | None  # what the saved label says ("false alarm", "missed risk: crisis (988)")
    choices: list[tuple[str, str]]  # (label, what choosing it says), in RISK_LABELS order


def risk_name(label: str, flagged: bool) -> str:
    """What a risk label says of a message the bot did (flagged) or did not treat as a risk."""
    if label == NO_RISK:
        return "false alarm" if flagged else "no risk"
    return ("risk: " if flagged else "missed risk: ") + RISK_NUMBERS.get(label, label)


def risk_line(message: VisitorMessage, label: Any) -> RiskLine:
    """The saved label (judged against the risk level stored with it) and the form's choices."""
    flagged = message.risk is not None and message.risk.alerting
    verdict = risk_name(label.label, label.predicted_level in ALERT_LEVELS) if label else None
    return RiskLine(label, verdict, [(value, risk_name(value, flagged)) for value in RISK_LABELS])


def answer_line(parse_data: dict[str, Any], labels: list[Any]) -> AnswerLine:
    """The open question's reading; the form's question (open, else scope) and its value."""
    open_question = review.open_question_of(parse_data)
    question = open_question or DEFAULT_QUESTION
    saved = next((label.value for label in labels if label.question == question), None)
    guess = review.reading_of(parse_data, question)
    reading = review.reading_of(parse_data, open_question) if open_question else None
    return AnswerLine(reading, labels, question, saved or (guess.value if guess else None))


def answer_choices() -> list[tuple[str, tuple[str, ...]]]:
    """The answer form's values grouped by question (each question's two values; "none" apart)."""
    return [(question, answer_values(question)[:2]) for question in ASSESSMENT_SLOTS]


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The inbox form's choice lists as (value, label)."""
    return {
        "channel": [(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS],
        "outcome": [(o, OUTCOME_LABELS.get(o, o)) for o in OUTCOMES],
        "recommendation": [(r, RECOMMENDATION_LABELS.get(r, r)) for r in RECOMMENDATIONS],
        "review_status": [(s, REVIEW_STATUS_LABELS.get(s, s)) for s in REVIEW_STATUSES],
        "handoff": [(h, HANDOFF_FILTER_LABELS[h]) for h in HANDOFF_FILTERS],
        "flag": [("1", "Yes"), ("0", "No")],
    }


@routes.get("/conversations", Permission.VIEW_CONVERSATIONS)
def inbox(ctx: Context) -> Response:
    """GET /conversations: the index as the consumer keeps it, filtered, paginated, newest first.

    Under the handoff filter waiting requests come first. Previews come masked from the index
    (as its search text does), so every role reads them as they are.
    """
    query = ctx.request.query_params
    error = None
    try:
        filters = InboxFilters.from_query(query)
        if filters.text and probes_contact_details(filters.text):
            raise ValueError(
                "text: emails and phone numbers are not searchable here; find people under Leads"
            )
    except ValueError as problem:
        error, filters = str(problem), InboxFilters()
    result = inbox_page(ctx, filters)
    kept = filters.to_query() if error is None else {}

    def page_url(number: int) -> str:
        return "/conversations?" + urlencode({**kept, "page": str(number)})

    if ctx.flag("erased"):
        ctx.messages.append("The conversation and everything linked to it were erased.")
    return ctx.render(
        "inbox.html",
        title="Inbox",
        page=result,
        filters=kept,
        error=error,
        choices=filter_choices(),
        page_url=page_url,
        channel_labels=CHANNEL_LABELS,
        outcome_labels=OUTCOME_LABELS,
        recommendation_labels=RECOMMENDATION_LABELS,
        review_labels=REVIEW_STATUS_LABELS,
        live_minutes=ctx.settings.handoff_live_minutes,
    )


def inbox_page(ctx: Context, filters: InboxFilters) -> InboxPage:
    """The inbox page the query asks for (the last one when it asks past the end)."""
    live_since = live_window_start(ctx.now, ctx.settings.handoff_live_minutes)
    number = page_number(ctx.request.query_params.get("page"))
    result = list_conversations(
        ctx.db, filters, page=number, per_page=PER_PAGE, live_since=live_since
    )
    if result.page <= result.pages:
        return result
    return list_conversations(
        ctx.db, filters, page=result.pages, per_page=PER_PAGE, live_since=live_since
    )


def probes_contact_details(text: str) -> bool:
    """Whether a search text holds something masking would hide (an email, a phone number)."""
    return Masker(()).text(text) != text


def clean_messages(full: Transcript, masked: Transcript) -> set[int]:
    """Event ids of typed visitor messages that masking leaves unchanged (no personal details).

    Only these can be annotated: annotations become training data, which must not hold
    anybody's name, email or phone number.
    """
    masked_text = {m.event_id: m.text for m in masked.visitor_messages()}
    return {
        m.event_id
        for m in full.visitor_messages()
        if m.text.strip() and not m.text.startswith("/") and masked_text.get(m.event_id) == m.text
    }


def lines_of(
    shown: Transcript,
    clean: set[int],
    annotations: dict[int, Any],
    parse_data: dict[int, dict[str, Any]] | None = None,
    answer_labels: dict[int, list[Any]] | None = None,
    risk_labels: dict[int, Any] | None = None,
) -> list[Line | Steps]:
    """The transcript as page lines; consecutive actions and slot changes grouped."""
    parse_data, answer_labels = parse_data or {}, answer_labels or {}
    risk_labels = risk_labels or {}
    lines: list[Line | Steps] = []
    for item in shown.items:
        if isinstance(item, (ActionRun, SlotChange)):
            if not lines or not isinstance(lines[-1], Steps):
                lines.append(Steps())
            steps = lines[-1]
            assert isinstance(steps, Steps)
            if isinstance(item, ActionRun):
                steps.actions.append(item)
            else:
                steps.slots.append(item)
        elif isinstance(item, VisitorMessage):
            annotation = annotations.get(item.event_id)
            labels = answer_labels.get(item.event_id, [])
            answer = answer_line(parse_data.get(item.event_id, {}), labels)
            risk = risk_line(item, risk_labels.get(item.event_id))
            lines.append(Line("visitor", item, annotation, item.event_id in clean, answer, risk))
        elif isinstance(item, BotMessage):
            lines.append(Line(bot_line_kind(item), item))
        elif isinstance(item, SessionStart):
            lines.append(Line("session", item))
    return lines


def bot_line_kind(message: BotMessage) -> str:
    """The line's kind: bot (the assistant), staff (a staff message), handoff (join, hand-back)."""
    if not message.from_staff:
        return "bot"
    return "staff" if message.handoff == "staff_message" else "handoff"


def parse_data_of(events: list[StoredEvent]) -> dict[int, dict[str, Any]]:
    """Each visitor message's NLU parse data by event id."""
    return {
        e.id: e.data.get("parse_data") or {}
        for e in events
        if e.type_name == "user" and isinstance(e.data.get("parse_data"), dict)
    }


def conversation(
    ctx: Context, conversation_id: str
) -> tuple[list[StoredEvent], Transcript, Transcript, list[Lead]]:
    """(events, full transcript, masked transcript, leads); ConversationNotFoundError."""
    events = load_events(ctx.db, conversation_id)
    if not events:
        raise review.ConversationNotFoundError(conversation_id)
    full = build_transcript(events)
    leads = list(
        ctx.db.scalars(
            select(Lead)
            .options(selectinload(Lead.bookings))
            .where(Lead.conversation_id == conversation_id)
            .order_by(Lead.created_at)
        )
    )
    return events, full, mask_transcript(full, lead_values(leads)), leads


@routes.get("/conversations/{conversation_id}", Permission.VIEW_CONVERSATIONS)
def transcript(ctx: Context) -> Response:
    """GET /conversations/{id}: the transcript with review tools (audited view)."""
    conversation_id = ctx.param("conversation_id")
    events, full, masked, leads = conversation(ctx, conversation_id)
    personal = ctx.can(Permission.VIEW_PERSONAL)
    shown = full if personal else masked
    can_call = ctx.can(Permission.MANAGE_CALLBACKS)
    callbacks = callback_requests_of(ctx.db, conversation_id) if can_call else []
    ctx.notice(NOTICES)
    ctx.audit("view_transcript", "conversation", conversation_id, {"masked": not personal})
    return ctx.render(
        "transcript.html",
        title="Conversation",
        conversation_id=conversation_id,
        url=conversation_url(conversation_id),
        lines=lines_of(
            shown,
            clean_messages(full, masked),
            review.annotations_for(ctx.db, conversation_id),
            parse_data_of(events),
            review.answer_annotations_for(ctx.db, conversation_id),
            review.risk_annotations_for(ctx.db, conversation_id),
        ),
        leads=leads,
        personal=personal,
        callbacks=callbacks,
        state=review.review_state(ctx.db, conversation_id),
        intents=review.known_intents(),
        questions=ASSESSMENT_SLOTS,
        answer_choices=answer_choices(),
        not_an_answer=NOT_AN_ANSWER,
        value_names=VALUE_NAMES,
        live=live_state(ctx.db, conversation_id, ctx.user),
    )


def back(ctx: Context, done: str) -> Response:
    """Back to the transcript after a change, with a notice."""
    return redirect(conversation_url(ctx.param("conversation_id"), done=done))


@routes.post("/conversations/{conversation_id}/tags", Permission.REVIEW)
def tags(ctx: Context) -> Response:
    """POST /conversations/{id}/tags: add or remove a tag."""
    conversation_id, tag = ctx.param("conversation_id"), ctx.field("tag")
    if ctx.field("action") == "remove":
        review.remove_tag(ctx.db, conversation_id, ctx.user, tag)
    else:
        review.add_tag(ctx.db, conversation_id, ctx.user, tag)
    return back(ctx, "tag")


@routes.post("/conversations/{conversation_id}/notes", Permission.REVIEW)
def notes(ctx: Context) -> Response:
    """POST /conversations/{id}/notes: add a note."""
    review.add_note(ctx.db, ctx.param("conversation_id"), ctx.user, ctx.field("body"))
    return back(ctx, "note")


@routes.post("/conversations/{conversation_id}/review", Permission.REVIEW)
def reviewed(ctx: Context) -> Response:
    """POST /conversations/{id}/review: mark reviewed (reviewed=1) or not (reviewed=0)."""
    flag = ctx.field("reviewed")
    if flag not in ("0", "1"):
        raise ValueError("reviewed must be 1 or 0")
    review.set_reviewed(ctx.db, ctx.param("conversation_id"), ctx.user, flag == "1")
    return back(ctx, "review")


def annotatable_event(ctx: Context, conversation_id: str) -> int:
    """The posted event id, if it is a message of the conversation that may be annotated."""
    event_id = ctx.field("event_id")
    if not event_id.isdigit() or len(event_id) > 18:
        raise ValueError("event_id must be a number")
    _, full, masked, _ = conversation(ctx, conversation_id)
    if int(event_id) not in clean_messages(full, masked):
        raise ValueError(
            "only typed visitor messages without personal details can be annotated "
            "(annotations become training data)"
        )
    return int(event_id)


@routes.post("/conversations/{conversation_id}/annotate", Permission.REVIEW)
def annotate(ctx: Context) -> Response:
    """POST /conversations/{id}/annotate: save the correct intent of one visitor message."""
    conversation_id = ctx.param("conversation_id")
    event_id = annotatable_event(ctx, conversation_id)
    review.annotate(ctx.db, conversation_id, event_id, ctx.field("intent"), ctx.user)
    return redirect(conversation_url(conversation_id, done="annotate") + f"#event-{event_id}")


@routes.post("/conversations/{conversation_id}/annotate-answer", Permission.REVIEW)
def annotate_answer(ctx: Context) -> Response:
    """POST /conversations/{id}/annotate-answer: label what a message answers to a question."""
    conversation_id = ctx.param("conversation_id")
    question, value = ctx.field("question"), ctx.field("value")
    review.valid_answer(question, value)
    event_id = annotatable_event(ctx, conversation_id)
    review.annotate_answer(ctx.db, conversation_id, event_id, question, value, ctx.user)
    return redirect(
        conversation_url(conversation_id, done="annotate-answer") + f"#event-{event_id}"
    )


@routes.post("/conversations/{conversation_id}/annotate-risk", Permission.REVIEW)
def annotate_risk(ctx: Context) -> Response:
    """POST /conversations/{id}/annotate-risk: mark a message a missed risk or a false alarm."""
    conversation_id, label = ctx.param("conversation_id"), ctx.field("label")
    review.valid_risk_label(label)
    event_id = annotatable_event(ctx, conversation_id)
    review.annotate_risk(ctx.db, conversation_id, event_id, label, ctx.user)
    return redirect(conversation_url(conversation_id, done="annotate-risk") + f"#event-{event_id}")


@routes.get("/events/{event_id:int}", Permission.VIEW_CONVERSATIONS)
def visitor_event(ctx: Context) -> Response:
    """GET /events/{id}: the transcript at a visitor message (alert links carry no conversation)."""
    event_id = int(ctx.param("event_id"))
    found = review.conversation_of_message(ctx.db, event_id)
    if found is None:
        return ctx.fail("There is no such message (it may have been erased).", 404)
    return redirect(conversation_url(found) + f"#event-{event_id}")


@routes.get("/conversations/{conversation_id}/erase", Permission.ERASE)
def erase_form(ctx: Context) -> Response:
    """GET /conversations/{id}/erase: the confirmation step before erasing."""
    conversation_id = ctx.param("conversation_id")
    if not load_events(ctx.db, conversation_id):
        return ctx.fail("There is no such conversation (it may have been erased).", 404)
    leads = ctx.db.scalars(select(Lead.id).where(Lead.conversation_id == conversation_id)).all()
    return ctx.render(
        "erase.html",
        title="Erase conversation",
        conversation_id=conversation_id,
        url=conversation_url(conversation_id),
        lead_count=len(leads),
    )


@routes.post("/conversations/{conversation_id}/erase", Permission.ERASE)
def erase(ctx: Context) -> Response:
    """POST /conversations/{id}/erase: delete the conversation and its linked rows (audited)."""
    if ctx.field("confirm") != ERASE_CONFIRMATION:
        raise ValueError("tick the box to confirm the erasure")
    conversation_id = ctx.param("conversation_id")
    erase_conversation(ctx.db, conversation_id, actor=ctx.actor)
    ctx.request.app.state.live_feed.forget(conversation_id)  # open live pages let it go
    return redirect("/conversations?erased=1")
