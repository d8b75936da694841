"""The shape of this server's plain custom actions: a fixed name and a reply from the tracker."""

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class TrackerAction(Action, ABC):
    """An action named `action_name` whose reply needs the tracker only (not the domain).

    Abstract until a subclass sets `action_name` and defines `respond`: the action server
    registers every concrete subclass of Action, and skips abstract ones like this.
    """

    @property
    @abstractmethod
    def action_name(self) -> str:
        """The name the domain, rules and stories know the action by."""

    def name(self) -> str:
        """Action name."""
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Rasa SDK's entry point: `respond`."""
        return self.respond(dispatcher, tracker)

    @abstractmethod
    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Send the action's messages; the events it returns to Rasa."""
