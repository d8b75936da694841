"""Live pages are pushed, not polled: new chat lines reach open pages as Server-Sent Events.

- One reader per staff-app process (`feed.LiveFeed`, a background thread) follows Rasa's events
  table by id (`tail.EventTail`), which Rasa's tracker store writes in both profiles. It runs only
  while live pages are open, and reads every `feed.POLL` seconds however many there are.
- A page subscribes to one conversation through `GET /conversations/{id}/live/stream?after=N`
  (`stream.EventStream`), after the same session and permission checks as the page itself.
- Each new event becomes chat lines once per kind of page (`chat_view.ChatView`): personal, or
  masked with what masking knows of the conversation so far. A reviewer's page is only ever handed
  the masked view's frames.
- Frames are typed (`frames`): `ready`, `messages`, `state`, `reconnect`, `down`. Other topics
  (the waiting requests, say) can travel the same way as new types.
- When a stream cannot be opened or breaks, the page says it is reconnecting and polls
  `live.json` until a new stream is up (static/live.js).
"""
