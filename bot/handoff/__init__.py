"""Live takeover: requests for a person, claims, live messages, hand-backs and fallbacks.

`state` keeps the handoff rows (database only), `duty` says who is on duty, `alerts` queues the
team's emails, `notices` words what the visitor is told, `conversation` speaks to Rasa's HTTP
API, `takeover` ties them together for the staff app, and `watcher` applies the time limits.
"""
