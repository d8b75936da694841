"""What the per-stage profile times in the product's Rasa process, after its patches are on."""

from typing import Any

from bench.stages import Label, Profiler, Restore, wrap

NLU, POLICY = "NLU", "policy"
SERIALISE = "event serialisation (Event.as_dict)"


def node_label(profiler: Profiler) -> Label:
    """A graph node's stage name: the graph it runs in (NLU or policy) and the node's name."""
    return lambda node, *_: f"{profiler.group() or 'graph'}: {node._node_name}"


def rasa_targets(profiler: Profiler) -> list[tuple[Any, str, Label, str | None]]:
    """Rasa's processor, graph nodes, actions and trackers: (owner, attribute, label, group)."""
    from rasa.core.actions.action import ActionBotResponse, RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.trackers import DialogueStateTracker

    return [
        (MessageProcessor, "parse_message", "NLU: parse_message outside graph nodes", NLU),
        (MessageProcessor, "_predict_next_with_tracker", "policy: outside graph nodes", POLICY),
        (GraphNode, "__call__", node_label(profiler), None),
        (MessageProcessor, "run_action_extract_slots", "action_extract_slots", None),
        (RemoteAction, "run", "action server round trip (RemoteAction.run)", None),
        (ActionBotResponse, "run", "bot responses (ActionBotResponse.run)", None),
        (DialogueStateTracker, "current_state", "tracker state for actions (current_state)", None),
        (DialogueStateTracker, "copy", "tracker copy (replays its events)", None),
        (DialogueStateTracker, "from_dict", "tracker load: events -> tracker (from_dict)", None),
    ]


def project_targets() -> list[tuple[Any, str, Label, str | None]]:
    """The project's stores, message delivery and sentence encoder."""
    from bot.intake import answer_model, sentence_encoder
    from bot.rasa.runtime import delivery
    from bot.rasa.runtime.lock_store import ProjectLockStore
    from bot.rasa.runtime.tracker_store import ProjectSQLTrackerStore

    locks = "lock store (SQL: ticket, read, cleanup)"
    embed = "sentence encoder: embed_all (cache, batching)"
    return [
        (ProjectSQLTrackerStore, "retrieve", "tracker load (SQL query)", None),
        (ProjectSQLTrackerStore, "save", "tracker save (SQL insert)", None),
        (delivery, "replay", "retry check: message_id lookup (delivery.replay)", None),
        *((ProjectLockStore, name, locks, None) for name in ("issue_ticket", "get_lock")),
        *((ProjectLockStore, name, locks, None) for name in ("update_lock", "cleanup")),
        (answer_model, "embed_all", embed, None),
        (sentence_encoder, "embed_all", embed, None),
        (sentence_encoder.SentenceEncoder, "encode", "sentence encoder: ONNX encode", None),
    ]


def event_classes() -> list[type]:
    """Every event class that defines its own `as_dict`."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    return [cls for cls in [Event, *all_subclasses(Event)] if "as_dict" in vars(cls)]


def install_timers(profiler: Profiler) -> list[Restore]:
    """Time every target; the functions that put the originals back."""
    targets = rasa_targets(profiler) + project_targets()
    targets += [(cls, "as_dict", SERIALISE, None) for cls in event_classes()]
    restore: list[Restore] = []
    for owner, attribute, label, group in targets:
        if hasattr(owner, attribute):
            restore.append(wrap(profiler, owner, attribute, label, group))
        else:
            print(f"  (not timed: {getattr(owner, '__name__', owner)}.{attribute} is gone)")
    return restore
