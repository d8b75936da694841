"""Custom Rasa NLU components of the project."""

from bot.core.rasa_version import check_installed_rasa

check_installed_rasa()
