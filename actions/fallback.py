"""Fallback: ask the visitor to confirm a guess, in friendly words."""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import TrackerAction
from bot.intake.intent_labels import intent_label

NEVER_SUGGEST = {"nlu_fallback", "out_of_scope", "emergency", "inform", "other_language"}


def best_guess(tracker: Tracker) -> str | None:
    """The highest-ranked intent worth suggesting to the visitor."""
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        name = ranked.get("name")
        if name and name not in NEVER_SUGGEST:
            return name
    return None


class ActionDefaultAskAffirmation(TrackerAction):
    """The first stage of the two-stage fallback, with visitor-facing labels."""

    action_name = "action_default_ask_affirmation"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Offer the best guess as a button, with a way out."""
        guess = best_guess(tracker)
        buttons = [{"title": "Something else", "payload": "/out_of_scope"}]
        if guess is None:
            dispatcher.utter_message(text="Sorry, I'm not sure what you mean.", buttons=buttons)
            return []
        dispatcher.utter_message(
            text=f'Sorry, I want to be sure I understand. Did you mean: "{intent_label(guess)}"?',
            buttons=[{"title": "Yes", "payload": f"/{guess}"}, *buttons],
        )
        return []
