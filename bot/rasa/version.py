"""The one Rasa this project's boundary (`bot.rasa`) is written for: the package checks it
when imported, so the server, the shell, training and the tests all refuse another Rasa before
any of its private code is touched."""

from collections.abc import Callable
from importlib.metadata import version as installed_version

SUPPORTED_RASA = "3.6."


def check_rasa_version(version: str) -> None:
    """Refuse any Rasa but 3.6.x: the boundary replaces and subclasses its private code."""
    if not version.startswith(SUPPORTED_RASA):
        raise RuntimeError(
            f"this project supports Rasa {SUPPORTED_RASA}x only, found {version}: "
            "check every entry of the registry in bot/rasa/runtime/patches.py against that "
            "version first"
        )


def check_installed_rasa(version_of: Callable[[str], str] = installed_version) -> None:
    """Check the installed Rasa distribution without importing it."""
    check_rasa_version(version_of("rasa"))
