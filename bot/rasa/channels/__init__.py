"""The project's own Rasa channels (e.g. `bot.rasa.channels.telegram.TelegramInput`)."""
