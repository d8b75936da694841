"""Build rasa-sdk trackers the way the action server receives them."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The project's domain as the action server gets it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def make_tracker(domain: dict[str, Any]):
    """A factory for trackers whose latest message is a user message."""

    def build(
        text: str = "",
        intent: str | None = None,
        slots: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        active_loop: str | None = None,
        side_step: str | None = None,
        confidence: float = 0.95,
    ) -> Tracker:
        all_slots = {name: None for name in domain["slots"]} | {"requested_slot": None}
        all_slots |= slots or {}
        message = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}] if intent else [],
            "entities": entities or [],
        }
        # As the form's validation action sees it: listen, the user's message, any side-step
        # answered by a rule, then the form's own ActionExecuted that Rasa appends.
        events = [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": message},
            *([{"event": "action", "name": side_step}] if side_step else []),
            {"event": "action", "name": active_loop or "assessment_form"},
        ]
        return Tracker(
            sender_id="test-visitor",
            slots=all_slots,
            latest_message=message,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name=events[-1]["name"],
        )

    return build


@pytest.fixture
def database(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """A migrated SQLite database with the default availability, used as DATABASE_URL."""
    from bot.booking.availability import seed_if_empty
    from bot.core.settings import get_settings
    from bot.db.migrate import upgrade
    from bot.db.session import dispose_engines, session_scope

    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    upgrade(url)
    with session_scope() as session:
        seed_if_empty(session)
    yield url
    dispose_engines()
    get_settings.cache_clear()
