"""The live-takeover pages: the request list, the badge, reviewers, masking, CSP, no JavaScript."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.handoffs import Handoff
from bot.staff.app import STATIC
from tests.staff.conftest import LIVE_ID, Clock, Staff, form_token
from tests.staff.rasa_stand_in import RasaStandIn, visitor_says
from tests.staff.seed import EMAIL, NAME, PHONE, PHONE_AS_TYPED

SignIn = Callable[[str], Staff]
LIVE = f"/conversations/{LIVE_ID}"
SCRIPT_TAG = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)


def form_actions(page: str) -> list[str]:
    """The addresses the page's POST forms go to (the header's sign-out form left out)."""
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    return [action for action in actions if action != "/logout"]


def waiting_badge(page: str) -> str:
    """The navigation's waiting count as rendered."""
    return re.search(r"<span data-waiting>(\d+)</span>", page).group(1)


def test_the_list_shows_waiting_and_claimed_requests(
    takeover: SignIn, live_chat: str, db_url: str, clock: Clock
) -> None:
    navigator = takeover("navigator")
    page = navigator.get("/handoffs")
    assert page.status_code == 200
    row = re.search(r'<tr data-testid="handoff-row">(.*?)</tr>', page.text, re.S).group(1)
    assert "waiting" in row and LIVE_ID in row and "the visitor" in row and "socketio" in row
    assert "2025-03-04 14:58 UTC" in row  # asked two minutes before the clock's now
    assert form_actions(page.text)[:1] == [f"{LIVE}/join"]
    assert waiting_badge(page.text) == "1"

    navigator.post(f"{LIVE}/join")
    claimed = takeover("admin").get("/handoffs").text
    assert "Navigator Person" in claimed and "in chat" in claimed
    assert f'href="{LIVE}/live">Open</a>' in claimed
    assert f"{LIVE}/join" not in claimed
    assert waiting_badge(claimed) == "0"


def test_count_json_and_the_badge_on_every_page(
    signed_in: SignIn, seeded: object, db_url: str, clock: Clock, request: pytest.FixtureRequest
) -> None:
    reviewer = signed_in("reviewer")
    response = reviewer.get("/handoffs/count.json")
    assert response.json() == {"waiting": 0}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    request.getfixturevalue("live_chat")
    assert reviewer.get("/handoffs/count.json").json() == {"waiting": 1}
    for path in ("/conversations", "/dashboard", "/handoffs", f"{LIVE}/live"):
        page = reviewer.get(path).text
        assert waiting_badge(page) == "1", path
        assert 'href="/handoffs"' in page and ">Live chats" in page
        assert 'href="/conversations"' in page and ">Inbox<" in page  # the old items stay


def test_polling_does_not_keep_an_idle_session_alive(signed_in: SignIn, clock: Clock) -> None:
    navigator = signed_in("navigator")
    for _ in range(14):  # a page left open: the script polls, the person does nothing
        clock.advance(minutes=1)
        assert navigator.get("/handoffs/count.json").status_code == 200
    clock.advance(minutes=2)  # 16 minutes since the last thing the person did
    response = navigator.get("/handoffs")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?expired=1")


def test_reviewers_see_no_buttons_and_are_refused(
    takeover: SignIn, live_chat: str, rasa: RasaStandIn, db: Session
) -> None:
    reviewer = takeover("reviewer")
    listing = reviewer.get("/handoffs")
    assert listing.status_code == 200 and LIVE_ID in listing.text
    assert form_actions(listing.text) == []
    assert "<button" not in listing.text.replace('<button type="submit" class="link">', "")
    page = reviewer.get(f"{LIVE}/live")
    assert page.status_code == 200
    assert form_actions(page.text) == []
    assert "Waiting for a navigator since" in page.text
    for path, form in (("join", {}), ("messages", {"text": "hi"}), ("hand-back", {"note": "x"})):
        refused = reviewer.post(f"{LIVE}/{path}", form)
        assert refused.status_code == 403, path
        assert "Your role does not allow" in refused.text
    db.expire_all()
    assert db.scalars(select(Handoff.status)).all() == ["waiting"]
    assert rasa.delivered == []


def test_live_json_is_masked_for_reviewers(
    takeover: SignIn, live_chat: str, db_url: str, clock: Clock
) -> None:
    navigator, reviewer = takeover("navigator"), takeover("reviewer")
    navigator.post(f"{LIVE}/join")
    after = int(re.search(r'data-after="(\d+)"', navigator.get(f"{LIVE}/live").text).group(1))
    navigator.post(f"{LIVE}/messages", {"text": "Shall I call you on 303-555-0199?"})
    visitor_says(db_url, LIVE_ID, "yes, or write to jo.smith@example.com", clock.now)

    def texts(staff: Staff) -> list[str]:
        response = staff.get(f"{LIVE}/live.json", params={"after": str(after)})
        assert response.headers["cache-control"] == "no-store"
        return [item["text"] for item in response.json()["items"]]

    assert texts(navigator) == [
        "Shall I call you on 303-555-0199?",
        "yes, or write to jo.smith@example.com",
    ]
    assert texts(reviewer) == ["Shall I call you on •••?", "yes, or write to •••"]
    booked = reviewer.get("/conversations/conv-booked/live.json", params={"after": "0"}).text
    for secret in (NAME, "Rivera", EMAIL, PHONE, PHONE_AS_TYPED, "5550142"):
        assert secret not in booked, secret  # the lead's details, known from the lead row too
    assert NAME in navigator.get("/conversations/conv-booked/live.json").text


def test_live_json_refuses_a_bad_cursor(signed_in: SignIn, live_chat: str) -> None:
    response = signed_in("navigator").get(f"{LIVE}/live.json", params={"after": "1; drop"})
    assert response.status_code == 400
    assert "after must be an event id" in response.text


@pytest.mark.parametrize("path", ["/handoffs", f"{LIVE}/live", LIVE, "/conversations"])
def test_csp_allows_only_the_apps_own_script(signed_in: SignIn, live_chat: str, path: str) -> None:
    response = signed_in("navigator").get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    tags = re.findall(r"<script\b[^>]*>", response.text, re.I)
    assert tags == ['<script src="/static/live.js" defer>']
    assert SCRIPT_TAG.search(response.text).group(1) == ""  # no inline code
    assert not re.search(r"\son[a-z]+=", response.text, re.I)  # no inline event handlers
    assert "javascript:" not in response.text


def test_the_script_is_served_and_writes_text_only(client: object) -> None:
    response = client.get("/static/live.js")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    source = (STATIC / "live.js").read_text()
    for unsafe in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
        "Function(",
        "document.write",
    ):
        assert unsafe not in source, unsafe
    assert "textContent" in source


def test_the_whole_takeover_works_without_javascript(
    takeover: SignIn, live_chat: str, rasa: RasaStandIn, db_url: str, clock: Clock
) -> None:
    navigator = takeover("navigator")
    listing = navigator.get("/handoffs").text
    token, join = form_token(listing), form_actions(listing)[0]
    joined = navigator.client.post(join, data={"csrf_token": token})
    page = navigator.get(joined.headers["location"]).text
    assert "You have joined the chat: the assistant is paused." in page
    message_form = next(a for a in form_actions(page) if a.endswith("/messages"))
    sent = navigator.client.post(message_form, data={"csrf_token": token, "text": "Hello!"})
    page = navigator.get(sent.headers["location"]).text
    assert "Message sent." in page and ">Hello!</p>" in page
    refresh = html.unescape(re.search(r'<a href="([^"]+)" data-testid="refresh">', page).group(1))
    assert refresh == f"{LIVE}/live"

    clock.advance(seconds=30)
    visitor_says(db_url, LIVE_ID, "Hi Navigator, thanks", clock.now)
    page = navigator.get(refresh).text  # reloading shows the new message
    assert ">Hi Navigator, thanks</p>" in page
    hand_back = next(a for a in form_actions(page) if a.endswith("/hand-back"))
    back = navigator.client.post(hand_back, data={"csrf_token": token, "note": ""})
    page = navigator.get(back.headers["location"]).text
    assert "Not in a takeover: the assistant is answering." in page
    assert f"{LIVE}/join" in form_actions(page)
    assert rasa.delivered_to(LIVE_ID)[1] == "Hello!"


def test_the_transcript_names_staff_and_links_the_live_page(
    takeover: SignIn, live_chat: str
) -> None:
    navigator = takeover("navigator")
    navigator.post(f"{LIVE}/join")
    navigator.post(f"{LIVE}/messages", {"text": "I can help with that."})
    navigator.post(f"{LIVE}/hand-back", {"note": "booked a call"})
    page = navigator.get(LIVE).text
    staff = re.search(r'<article class="msg staff"[^>]*>(.*?)</article>', page, re.S).group(1)
    assert '<span class="who">Navigator Person</span>' in staff
    assert "I can help with that." in staff
    notes = re.findall(r'data-testid="handoff-note">\s*(.*?)\s*·', page, re.S)
    assert notes == [
        "Navigator Person joined the chat; the assistant was paused",
        "Navigator Person handed the chat back to the assistant",
    ]
    assert f'<a href="{LIVE}/live">Open the live chat</a>' in page
    assert "Not in a takeover" in page
    reviewer_page = takeover("reviewer").get(f"{LIVE}/live").text
    assert "booked a call" not in reviewer_page  # the note is for roles that see personal data
    assert "A hand-back note was left (hidden for your role)." in reviewer_page
