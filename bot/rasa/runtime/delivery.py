"""Message delivery under faults: a retried message is answered once, a failure says so.

Clients (the widget, the soak benchmark) send each visitor message with a `message_id` in its
metadata and send it again, with the same id, when the reply did not arrive. Under the
conversation's lock, a message whose id the tracker already holds is answered with the
replies that followed it instead of being processed twice. A message that cannot be handled
(database, lock store or action server away) gets a clear "please send it again" reply instead
of silence, and nothing of it is saved. Replies go out only after the tracker is saved.
"""

import asyncio
import logging
import re
from typing import Any

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from bot.core.settings import get_settings
from bot.rasa.runtime.strict_store import prefetched

log = logging.getLogger(__name__)
_run_remote_action = RemoteAction.run

MESSAGE_ID_KEY = "message_id"
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
TRY_AGAIN = (
    "Sorry, something went wrong on our side and your message didn't get through. "
    "Please send it again in a moment."
)
# handoff: a team member's message keeps its signature when replayed; timestamp: the widget
# recognises a replayed reply it has already shown.
REPLY_FIELDS = (
    "text",
    "buttons",
    "image",
    "attachment",
    "elements",
    "quick_replies",
    "custom",
    "handoff",
    "timestamp",
)


def client_message_id(message: UserMessage) -> str | None:
    """The client's id for this message, if it sent a valid one."""
    value = (message.metadata or {}).get(MESSAGE_ID_KEY)
    return value if isinstance(value, str) and MESSAGE_ID.match(value) else None


def replies_to(tracker: DialogueStateTracker, message_id: str) -> list[dict[str, Any]] | None:
    """The bot replies that followed the message with this id; None if it was never handled."""
    found = False
    replies: list[dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = (event.metadata or {}).get(MESSAGE_ID_KEY) == message_id
        elif found and isinstance(event, BotUttered):
            reply = event.message()
            replies.append({k: reply[k] for k in REPLY_FIELDS if reply.get(k)})
    return replies if found else None


async def replay(
    processor: MessageProcessor, message: UserMessage
) -> tuple[bool, DialogueStateTracker | None]:
    """Send again the replies to an already handled message; False if it is new. Also returns
    the tracker read to find out, for Rasa's handling of a new message to use."""
    message_id = client_message_id(message)
    if message_id is None:
        return False, None
    tracker = await processor.tracker_store.retrieve(message.sender_id)
    replies = replies_to(tracker, message_id) if tracker is not None else None
    if replies is None:
        return False, tracker
    for reply in replies:
        await message.output_channel.send_response(message.sender_id, reply)
    return True, tracker


class HeldReplies(OutputChannel):
    """Replies held back until the message's tracker is saved, then passed on in order.

    A visitor is never answered about a message the tracker store does not hold: a replica
    killed, or a database gone, before the save means no reply (the client sends it again).
    """

    def __init__(self, channel: OutputChannel) -> None:
        """Hold what is meant for `channel`."""
        self.channel = channel
        self.held: list[tuple[str, dict[str, Any]]] = []

    @classmethod
    def name(cls) -> str:
        """Channel name (Rasa reads the input channel's, not this)."""
        return "held"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Hold one reply."""
        self.held.append((recipient_id, message))

    async def send_text_message(self, recipient_id: str, text: str, **_: Any) -> None:
        """Hold a plain text reply sent directly."""
        self.held.append((recipient_id, {"text": text}))

    async def release(self) -> None:
        """Pass every held reply on to the real channel."""
        for recipient_id, reply in self.held:
            await self.channel.send_response(recipient_id, reply)


async def say_try_again(message: UserMessage) -> None:
    """Replace whatever was collected for this message with the please-try-again reply."""
    channel = message.output_channel
    if isinstance(channel, CollectingOutputChannel):
        channel.messages.clear()
    try:
        await channel.send_text_message(message.sender_id, TRY_AGAIN)
    except Exception as error:  # the channel itself is gone: nothing more can be said
        log.warning("could not send the retry notice (%s)", type(error).__name__)


async def handle_message(agent: Agent, message: UserMessage) -> list[dict[str, Any]] | None:
    """Same contract as Agent.handle_message, with replayed retries and a reply on failure."""
    if not agent.is_ready():  # the model is still loading: say so rather than stay silent
        await say_try_again(message)
        return _collected(message)
    processor, channel = agent.processor, message.output_channel
    held = HeldReplies(channel)
    try:
        async with agent.lock_store.lock(message.sender_id):
            replayed, tracker = await replay(processor, message)
            if replayed:
                return _collected(message)
            message.output_channel = held
            with prefetched(tracker):  # Rasa's own read of it takes this one
                await processor.handle_message(message)
            message.output_channel = channel
            await held.release()
            return _collected(message)
    except asyncio.CancelledError:
        raise
    except (Exception, ActionServerUnavailable) as error:  # log the type only, never the text
        message.output_channel = channel
        log.error(
            "message not handled (%s); the visitor is asked to send it again", type(error).__name__
        )
        await say_try_again(message)
        return _collected(message)


def _collected(message: UserMessage) -> list[dict[str, Any]] | None:
    """What a collecting channel gathered (REST), as Agent.handle_message returns it."""
    channel = message.output_channel
    return channel.messages if isinstance(channel, CollectingOutputChannel) else None


class ActionServerUnavailable(BaseException):
    """Raised past Rasa's catch-all in `_run_action`, so a message whose action could not run
    fails as a whole (nothing saved, the visitor asked to send it again) instead of being saved
    with the action's events silently lost. Caught by `handle_message` above."""


ACTION_RETRY_SECONDS = 0.25


def retryable(error: RasaException) -> bool:
    """Whether an action call failed on the way (connection, 5xx), not in the action's logic."""
    cause = error.__cause__ or error.__context__  # Rasa raises some without `from`
    if isinstance(cause, ClientResponseError | aiohttp.ClientResponseError):
        return cause.status >= 500
    return isinstance(cause, aiohttp.ClientConnectionError | asyncio.TimeoutError)


async def run_remote_action(action: RemoteAction, *args: Any) -> list[Event]:
    """Same contract as RemoteAction.run, tried ACTION_CALL_ATTEMPTS times on transport failures
    (1 behind a retrying proxy); then fails the message."""
    attempts = get_settings().action_call_attempts
    for attempt in range(1, attempts + 1):
        try:
            return await _run_remote_action(action, *args)
        except ActionExecutionRejection:
            raise
        except RasaException as error:
            if not retryable(error):
                raise
            if attempt == attempts:
                raise ActionServerUnavailable(action.name()) from error
            await asyncio.sleep(ACTION_RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")
