"""Situation archetypes: acknowledge, explain and pre-fill the assessment."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.assessment import reset_events
from actions.messages import latest_intent
from bot.situations import situation_for_intent

SITUATION_BUTTONS = [
    {"title": "Help me decide", "payload": "/request_assessment"},
    {"title": "Book the free call", "payload": "/book_call"},
]


class ActionAcknowledgeSituation(Action):
    """Answer a described situation with empathy, a tailored explanation and next steps."""

    def name(self) -> str:
        """Action name."""
        return "action_acknowledge_situation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Acknowledge, explain, offer the assessment, and pre-fill implied answers."""
        situation = situation_for_intent(latest_intent(tracker))
        if situation is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        dispatcher.utter_message(text=situation.acknowledgement)
        dispatcher.utter_message(text=situation.explanation)
        dispatcher.utter_message(
            text="If you like, a few quick questions will show which kind of help fits best.",
            buttons=SITUATION_BUTTONS,
        )
        events = reset_events() if tracker.get_slot("recommendation") else []
        events.append(SlotSet("situation", situation.name))
        events += [SlotSet(slot, value) for slot, value in situation.prefill.items()]
        return events
