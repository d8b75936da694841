"""The project's own Rasa channels (e.g. `bot.channels.telegram.TelegramInput`)."""
