"""Every class path the Rasa project files name imports, and is the kind of class Rasa expects."""

from importlib import import_module
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.channels.channel import InputChannel
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.engine.graph import GraphComponent
from ruamel.yaml import YAML

from bot.core.paths import ROOT

ENDPOINT_KINDS = {
    "tracker_store": TrackerStore,
    "lock_store": LockStore,
    "event_broker": EventBroker,
}


def load(name: str) -> dict[str, Any]:
    """A project file's YAML (empty when the file is empty)."""
    return YAML().load((ROOT / name).read_text()) or {}  # ${VARS} stay as written


def dotted(name: Any) -> bool:
    """Whether a configured name is a class path (Rasa's own names have no dots)."""
    return isinstance(name, str) and "." in name


def endpoint_paths(name: str) -> list[tuple[str, type]]:
    """The store and broker classes an endpoints file names."""
    return [
        (block["type"], ENDPOINT_KINDS.get(section, object))
        for section, block in load(name).items()
        if isinstance(block, dict) and dotted(block.get("type"))
    ]


def named_classes() -> list[tuple[str, str, type]]:
    """(file, class path, expected base) for every class path in the Rasa project files."""
    config = load("config.yml")
    components = [
        ("config.yml", item["name"], GraphComponent)
        for key in ("pipeline", "policies")
        for item in config.get(key) or []
        if dotted(item.get("name"))
    ]
    channels = [
        ("credentials.yml", path, InputChannel) for path in load("credentials.yml") if dotted(path)
    ]
    endpoints = [
        (name, path, base)
        for name in ("endpoints.yml", "endpoints.cluster.yml")
        for path, base in endpoint_paths(name)
    ]
    return components + channels + endpoints


def test_the_project_files_name_the_classes_we_expect() -> None:
    paths = {path for _, path, _ in named_classes()}
    assert {
        "bot.rasa.nlu.guard.MessageGuard",
        "bot.rasa.channels.telegram.TelegramInput",
        "bot.rasa.runtime.tracker_store.ProjectSQLTrackerStore",
        "bot.rasa.runtime.lock_store.ProjectLockStore",
        "bot.rasa.runtime.lock_store.RedisTicketLockStore",
    } <= paths


@pytest.mark.parametrize(
    ("source", "path", "base"), named_classes(), ids=[f"{s}:{p}" for s, p, _ in named_classes()]
)
def test_every_named_class_imports(source: str, path: str, base: type) -> None:
    module, _, name = path.rpartition(".")
    found = getattr(import_module(module), name, None)
    assert isinstance(found, type), f"{source} names {path}, which does not import"
    assert issubclass(found, base), f"{source} names {path}, not a {base.__name__}"
