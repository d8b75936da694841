"""The project's own Rasa channels (e.g. `bot.channels.telegram.TelegramInput`)."""

from bot.core.rasa_version import check_installed_rasa

check_installed_rasa()
