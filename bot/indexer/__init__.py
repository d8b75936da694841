"""The index consumer: keeps the staff conversation index and dashboard figures up to date.

Staff pages only read the index (`bot.conversations.index`); this process writes it. It reads a
source of events, groups each batch by conversation and brings those conversations' index rows
(and their intent counts, which the dashboard sums) up to their newest stored events.

Sources:
- production (`RABBITMQ_URL` set): Rasa's RabbitMQ event broker (`bot.rasa.broker`) fans every
  tracker event out to the durable queue `EVENT_QUEUE`; `bot.indexer.rabbitmq` consumes it with
  manual acks, sent only after the index transaction has committed.
- embedded default (SQLite, no RabbitMQ): `bot.indexer.events_table` tails Rasa's own `events`
  table by increasing id from a checkpoint kept in the database (see that module for why).

Exactly once: a broker message or table row only names a conversation that changed. Its index row
is re-summarised from the tracker store's events and stamped with the id of the newest event it
covers (`last_event_id`) in the same transaction; a row already at the newest event is left alone.
Applying the same event again (a redelivery after a crash, a reconnect, a duplicate publish) finds
the row current and changes nothing, and no figure is ever incremented, only recomputed.

Catch-up and reconciliation: the queue (or the checkpoint) keeps what arrived while the consumer
was down. Rasa's broker can still lose events (held in a Rasa process's memory while RabbitMQ is
unreachable, see `bot.rasa.broker`), so at start and then periodically the consumer also
reconciles: one grouped query finds conversations whose newest event id differs from the indexed
one, and those are re-summarised. After any outage the index converges to the trackers.
"""

RECONCILE_EVERY = 60.0  # seconds between reconciliations (one grouped query over the events)
