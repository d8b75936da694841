"""The registry of Rasa's private code this boundary depends on, named by dotted paths.

`PATCHES` are replaced by `bot.rasa.runtime.install()`; `PRIVATE_USES` are private names the
boundary overrides in a subclass, calls or reads without replacing them. Targets and replacements
are names, not objects, so every entry can be looked up (and found missing) before any
replacement module is imported or anything is changed.
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Any


class Target:
    """A named attribute of a Rasa module or class (`module` and `target` set by subclasses)."""

    module: str  # e.g. "rasa.core.processor"
    target: str  # "Class.attribute" or "attribute" (of the module itself)
    instance: bool = False  # an attribute each instance sets in `__init__`, not the class's

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
        """Whether the target is there: callable and defined by its owner (not inherited), or
        for an instance attribute, assigned by the owner's own `__init__`."""
        try:
            owner = self.owner()
        except (ImportError, AttributeError):
            return False
        own = vars(owner) if isinstance(owner, type) else {}
        if self.instance:
            init = own.get("__init__")
            return init is not None and self.attribute in init.__code__.co_names
        value = own.get(self.attribute) if own else getattr(owner, self.attribute, None)
        return callable(value)


@dataclass(frozen=True)
class PrivateUse(Target):
    """A private attribute the boundary overrides in a subclass, calls or reads."""

    module: str
    target: str
    user: str  # the boundary's module that relies on it
    instance: bool = False


@dataclass(frozen=True)
class Patch(Target):
    """One attribute of a Rasa module or class, replaced by a function of this package."""

    module: str
    target: str
    replacement: str  # "bot.rasa.runtime.module:function"
    static: bool = False  # install the replacement as a staticmethod

    def new_value(self) -> Any:
        """The replacement, as it is to be set on the owner."""
        module, _, function = self.replacement.partition(":")
        value = getattr(import_module(module), function)
        return staticmethod(value) if self.static else value


PATCHES = (
    Patch(
        "rasa.core.actions.action",
        "RemoteAction._validate_action_result",
        "bot.rasa.runtime.speedups:validate_action_result",
    ),
    Patch(
        "rasa.shared.core.events",
        "Event.resolve_by_type",
        "bot.rasa.runtime.speedups:resolve_event_type",
        static=True,
    ),
    Patch(
        "rasa.core.processor",
        "MessageProcessor._parse_message_with_graph",
        "bot.rasa.runtime.speedups:parse_message",
    ),
    Patch(
        "rasa.utils.endpoints",
        "EndpointConfig.session",
        "bot.rasa.runtime.pooled_http:pooled_session",
    ),
    Patch("rasa.core.agent", "Agent.handle_message", "bot.rasa.runtime.delivery:handle_message"),
    Patch(
        "rasa.core.tracker_store", "FailSafeTrackerStore.save", "bot.rasa.runtime.strict_store:save"
    ),
    Patch(
        "rasa.core.tracker_store",
        "FailSafeTrackerStore.retrieve",
        "bot.rasa.runtime.strict_store:retrieve",
    ),
    Patch(
        "rasa.core.tracker_store",
        "FailSafeTrackerStore.retrieve_full_tracker",
        "bot.rasa.runtime.strict_store:retrieve_full_tracker",
    ),
    Patch(
        "rasa.core.actions.action",
        "RemoteAction.run",
        "bot.rasa.runtime.delivery:run_remote_action",
    ),
    Patch(
        "rasa.core.processor",
        "MessageProcessor._should_handle_message",
        "bot.rasa.runtime.paused:should_handle_message",
        static=True,
    ),
    Patch(
        "rasa.core.processor",
        "MessageProcessor.run_action_extract_slots",
        "bot.rasa.runtime.safety_note:run_action_extract_slots",
    ),
)

PRIVATE_USES = (
    PrivateUse(
        "rasa.core.channels.socketio", "SocketIOOutput._send_message", "bot.rasa.channels.socketio"
    ),
    PrivateUse(
        "rasa.core.brokers.pika", "PikaEventBroker._publish_unpublished_messages", "bot.rasa.broker"
    ),
    PrivateUse(
        "rasa.core.tracker_store",
        "FailSafeTrackerStore._tracker_store",
        "bot.rasa.runtime.strict_store",
        instance=True,
    ),
    PrivateUse(
        "rasa.core.processor",
        "MessageProcessor._send_bot_messages",
        "bot.rasa.runtime.safety_note",
    ),
    PrivateUse(
        "rasa.shared.core.training_data.story_reader.yaml_story_reader",
        "YAMLStoryReader._regex_message_pattern",
        "bot.rasa.runtime.payloads",
    ),
    PrivateUse(
        "rasa.core.tracker_store", "SQLTrackerStore._retrieve", "bot.rasa.runtime.tracker_store"
    ),
    PrivateUse("rasa.core.lock_store", "LockStore._acquire_lock", "bot.rasa.runtime.lock_store"),
)
