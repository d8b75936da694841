"""What `bot.runtime.install()` replaces in Rasa, and with what, named by dotted paths.

Targets and replacements are names, not objects, so every target can be looked up (and found
missing) before any replacement module is imported or anything is changed.
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Patch:
    """One attribute of a Rasa module or class, replaced by a function of this package."""

    module: str  # e.g. "rasa.core.processor"
    target: str  # "Class.attribute" or "attribute" (of the module itself)
    replacement: str  # "bot.runtime.module:function"
    static: bool = False  # install the replacement as a staticmethod

    @property
    def name(self) -> str:
        """The target's full dotted name."""
        return f"{self.module}.{self.target}"

    def owner(self) -> Any:
        """The module or class that holds the target; raises when it does not exist."""
        owner: Any = import_module(self.module)
        for part in self.target.split(".")[:-1]:
            owner = getattr(owner, part)
        return owner

    @property
    def attribute(self) -> str:
        """The target's attribute name on its owner."""
        return self.target.rsplit(".", 1)[-1]

    def exists(self) -> bool:
        """Whether the target is there and callable, defined by its owner (not inherited)."""
        try:
            owner = self.owner()
        except (ImportError, AttributeError):
            return False
        own = vars(owner) if isinstance(owner, type) else {}
        value = own.get(self.attribute) if own else getattr(owner, self.attribute, None)
        return callable(value)

    def new_value(self) -> Any:
        """The replacement, as it is to be set on the owner."""
        module, _, function = self.replacement.partition(":")
        value = getattr(import_module(module), function)
        return staticmethod(value) if self.static else value


PATCHES = (
    Patch(
        "rasa.core.actions.action",
        "RemoteAction._validate_action_result",
        "bot.runtime.speedups:validate_action_result",
    ),
    Patch(
        "rasa.shared.core.events",
        "Event.resolve_by_type",
        "bot.runtime.speedups:resolve_event_type",
        static=True,
    ),
    Patch(
        "rasa.core.processor",
        "MessageProcessor._parse_message_with_graph",
        "bot.runtime.speedups:parse_message",
    ),
    Patch(
        "rasa.utils.endpoints",
        "EndpointConfig.session",
        "bot.runtime.pooled_http:pooled_session",
    ),
    Patch("rasa.core.run", "configure_app", "bot.runtime.speedups:configure_app"),
    Patch("rasa.core.agent", "Agent.handle_message", "bot.runtime.delivery:handle_message"),
    Patch("rasa.core.tracker_store", "FailSafeTrackerStore.save", "bot.runtime.strict_store:save"),
    Patch(
        "rasa.core.tracker_store",
        "FailSafeTrackerStore.retrieve",
        "bot.runtime.strict_store:retrieve",
    ),
    Patch(
        "rasa.core.tracker_store",
        "FailSafeTrackerStore.retrieve_full_tracker",
        "bot.runtime.strict_store:retrieve_full_tracker",
    ),
    Patch("rasa.core.actions.action", "RemoteAction.run", "bot.runtime.delivery:run_remote_action"),
    Patch(
        "rasa.core.processor",
        "MessageProcessor._should_handle_message",
        "bot.runtime.paused:should_handle_message",
        static=True,
    ),
    Patch(
        "rasa.core.processor",
        "MessageProcessor.run_action_extract_slots",
        "bot.runtime.safety_note:run_action_extract_slots",
    ),
)
