"""Situation archetypes: acknowledge, explain, and propose the answers they imply."""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import reset_events
from actions.base import TrackerAction
from actions.messages import latest_intent
from bot.intake.assessment_flow import PREFILL, confirm_prefill_buttons, proposal_text
from bot.intake.situations import situation_for_intent

BOOK_BUTTON = {"title": "Book the free call", "payload": "/book_call"}


class ActionAcknowledgeSituation(TrackerAction):
    """Answer a described situation with empathy, a tailored explanation and a proposal."""

    action_name = "action_acknowledge_situation"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Acknowledge, explain, and ask the visitor to confirm the answers it implies."""
        situation = situation_for_intent(latest_intent(tracker))
        if situation is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        dispatcher.utter_message(text=situation.acknowledgement)
        dispatcher.utter_message(text=situation.explanation)
        dispatcher.utter_message(
            text=f"{proposal_text(situation.prefill)} A few quick questions will show which "
            "kind of help fits best.",
            buttons=[*confirm_prefill_buttons(), BOOK_BUTTON],
        )
        events = reset_events() if tracker.get_slot("recommendation") else []
        return [*events, SlotSet("situation", situation.name), SlotSet(PREFILL, situation.prefill)]
