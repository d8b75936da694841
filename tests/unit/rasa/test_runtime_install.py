"""bot.rasa.runtime.install(): all patches on the supported Rasa, none on anything else."""

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import rasa

from bot.rasa import runtime
from bot.rasa.runtime.patches import PATCHES, PRIVATE_USES, Patch, PrivateUse
from bot.rasa.version import check_installed_rasa


def raw_value(patch: Patch) -> Any:
    """The target as its owner holds it (a staticmethod stays one)."""
    return vars(patch.owner())[patch.attribute]


@pytest.fixture
def originals(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Every target's current value, put back after the test whatever install() did."""
    before = {patch.name: raw_value(patch) for patch in PATCHES}
    for patch in PATCHES:
        monkeypatch.setattr(patch.owner(), patch.attribute, before[patch.name])
    yield before


def unchanged(originals: dict[str, Any]) -> bool:
    """Whether no target has been replaced."""
    return all(raw_value(patch) is originals[patch.name] for patch in PATCHES)


def test_install_replaces_every_target(originals: dict[str, Any]) -> None:
    runtime.install()
    for patch in PATCHES:
        installed = raw_value(patch)
        expected = patch.new_value()
        if patch.static:
            installed, expected = installed.__func__, expected.__func__
        assert installed is expected, patch.name


def test_install_works_with_rasas_own_calls(originals: dict[str, Any]) -> None:
    """After install(), Rasa's code reaches the replacements through its usual names."""
    from rasa.shared.core.events import Event, UserUttered

    runtime.install()
    assert Event.resolve_by_type("user") is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


@pytest.mark.parametrize("version", ["3.7.0", "4.0.1", "3.5.17", "3.60.0", "2.8.0"])
def test_another_rasa_version_is_refused_before_anything_changes(
    version: str, originals: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rasa, "__version__", version)
    with pytest.raises(RuntimeError, match=f"supports Rasa 3.6.x only, found {version}"):
        runtime.install()
    assert unchanged(originals)


@pytest.mark.parametrize("missing", PATCHES, ids=[patch.name for patch in PATCHES])
def test_a_missing_target_is_refused_before_anything_changes(
    missing: Patch, originals: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(missing.owner(), missing.attribute)
    with pytest.raises(RuntimeError, match=missing.name.replace(".", r"\.")):
        runtime.install()
    others = {name: value for name, value in originals.items() if name != missing.name}
    assert all(raw_value(p) is others[p.name] for p in PATCHES if p is not missing)


def test_every_private_use_names_an_existing_target() -> None:
    for use in PRIVATE_USES:
        assert use.exists(), use.name
        assert importlib.util.find_spec(use.user) is not None, use.user


def test_a_private_use_that_rasa_dropped_is_found_missing() -> None:
    gone = PrivateUse("rasa.core.tracker_store", "FailSafeTrackerStore._gone", "x", instance=True)
    assert not gone.exists()
    assert not PrivateUse("rasa.core.processor", "MessageProcessor._gone", "x").exists()


def test_every_patch_names_an_existing_target_and_replacement() -> None:
    for patch in PATCHES:
        assert patch.exists(), patch.name
        assert callable(getattr(patch.new_value(), "__func__", patch.new_value()))


@pytest.mark.parametrize("version", ["3.7.0", "4.0.1", "3.5.9", ""])
def test_the_boundary_refuses_another_installed_rasa(version: str) -> None:
    with pytest.raises(RuntimeError, match=f"found {version}"):
        check_installed_rasa(version_of=lambda name: version)


@pytest.mark.parametrize(
    "package",
    ["bot.rasa.runtime", "bot.rasa.nlu", "bot.rasa.channels", "bot.rasa.broker", "bot.rasa.events"],
)
def test_importing_a_boundary_package_checks_the_installed_rasa(package: str) -> None:
    fake = "import importlib.metadata as m; real = m.version; "
    fake += "m.version = lambda name: '3.7.0' if name == 'rasa' else real(name); "
    result = subprocess.run(
        [sys.executable, "-c", fake + f"import {package}"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "supports Rasa 3.6.x only, found 3.7.0" in result.stderr


def test_the_installed_rasa_is_the_supported_one() -> None:
    check_installed_rasa()  # raises otherwise
    assert rasa.__version__.startswith("3.6.")
