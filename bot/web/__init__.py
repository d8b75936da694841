"""The website side: the demo page of the company site and the chat widget's files."""

from bot.web.app import create_app, run_web

__all__ = ["create_app", "run_web"]
