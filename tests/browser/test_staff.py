"""The staff app in a real Chromium: sign in, filter the inbox, annotate a message, the dashboard.

The app runs with uvicorn in a background thread against its own seeded SQLite database
(tests/staff/seed.py); the Rasa servers are not needed. Screenshots of the inbox, a transcript
and the dashboard go to artifacts/staff/ (git-ignored). Any console error (a CSP violation
included) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.core.settings import Settings
from bot.db.reviews import Annotation
from bot.db.session import dispose_engines
from tests.browser.conftest import served
from tests.staff.seed import PASSWORD, Seeded, build
from tests.support.servers import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts" / "staff"


@dataclass
class StaffApp:
    """The running staff app and its database."""

    url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def staff_app(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[StaffApp]:
    """`bot.staff.app` on a free port in a background thread, on a seeded database."""
    from bot.staff.app import create_app

    seeded = build(f"sqlite:///{tmp_path_factory.mktemp('staff-browser') / 'staff.db'}")
    settings = Settings(database_url=seeded.url, environment="test", staff_cookie_secure=False)
    try:
        with served(create_app(settings), "staff app") as url:
            yield StaffApp(url=url, seeded=seeded)
    finally:
        dispose_engines()


def annotations(seeded: Seeded) -> list[Annotation]:
    """The annotation rows in the app's database."""
    engine = create_engine(seeded.url, future=True)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Annotation)))
    finally:
        engine.dispose()


def test_sign_in_filter_annotate_and_dashboard(staff_app: StaffApp, staff_page: Page) -> None:
    page = staff_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{staff_app.url}/conversations")
    expect(page).to_have_url(f"{staff_app.url}/login?next=%2Fconversations")
    page.get_by_label("Username").fill("navigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{staff_app.url}/conversations")
    rows = page.locator('[data-testid="inbox"] tbody tr')
    expect(rows).to_have_count(6)

    page.get_by_label("Fallback or low confidence").select_option("1")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".count")).to_have_text("2 conversations")
    expect(rows).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

    rows.filter(has_text="Telegram").get_by_role("link").first.click()  # the transcript
    expect(page.get_by_role("heading", level=1)).to_contain_text("conv-fallback")
    message = page.locator('[data-testid="visitor-message"]').filter(
        has_text="purple monkey dishwasher"
    )
    expect(message.get_by_test_id("intent")).to_have_text("nlu_fallback")
    message.get_by_label("Correct intent").select_option("out_of_scope")
    message.get_by_role("button", name="Save intent").click()
    expect(page.get_by_role("status")).to_have_text("Intent correction saved.")
    corrected = page.locator('[data-testid="visitor-message"]').filter(
        has_text="purple monkey dishwasher"
    )
    expect(corrected.get_by_test_id("annotation")).to_contain_text("out_of_scope")
    page.screenshot(path=str(ARTIFACTS / "transcript.png"), full_page=True)
    saved = annotations(staff_app.seeded)
    assert [(a.conversation_id, a.text, a.predicted_intent, a.corrected_intent) for a in saved] == [
        ("conv-fallback", "purple monkey dishwasher", "nlu_fallback", "out_of_scope")
    ]

    page.get_by_role("link", name="Dashboard").click()
    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_label("To", exact=True).fill("2025-03-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".stats li").first).to_contain_text("6 conversations")
    expect(page.locator("svg.chart")).to_have_count(4)
    expect(page.get_by_role("img", name="Top intents")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
