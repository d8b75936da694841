"""The Rasa boundary: every piece of code that touches Rasa 3.6's internals.

- `runtime`: the run-time patches (registry in `runtime.patches`), the strict tracker store,
  the lock store, message delivery and the pooled HTTP client of the action calls;
- `nlu`: the graph components (answer model, risk model, scope model, message guard);
- `channels`: the Socket.IO and Telegram channels and the Socket.IO bus;
- `broker`: the RabbitMQ event broker; `events`: Rasa's SQL `events` table, read by the rest.

Importing any part of it first checks the installed Rasa (`version`), so the server, the shell,
training and the tests all refuse another Rasa before any private code is touched.
"""

from bot.rasa.version import check_installed_rasa

check_installed_rasa()
