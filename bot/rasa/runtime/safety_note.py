"""Moderate risk: the numbers go out first, before the normal reply, in every state.

When the message guard (`bot.rasa.nlu.guard.MessageGuard`) assesses a message as moderate risk,
the visitor gets one short line with 911 and 988 straight after the message is logged, before
any action runs: cold, in a form, during a live takeover (Rasa paused) and on every channel.
The line is a bot utterance without an action, so the dialogue policies see the conversation
exactly as they would without it, and the normal reply follows (a confident answer to the open
question is still taken).
"""

from rasa.core.channels.channel import OutputChannel
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.intake.emergency import SAFETY_NOTE
from bot.intake.risk import MODERATE, from_parse_data

_run_action_extract_slots = MessageProcessor.run_action_extract_slots


def note_events(tracker: DialogueStateTracker) -> list[BotUttered]:
    """The safety line, when the latest message is moderate risk."""
    latest = tracker.latest_message
    if latest is None or from_parse_data(latest.parse_data).level != MODERATE:
        return []
    return [BotUttered(SAFETY_NOTE)]


async def run_action_extract_slots(
    processor: MessageProcessor, output_channel: OutputChannel, tracker: DialogueStateTracker
) -> DialogueStateTracker:
    """Same contract as MessageProcessor.run_action_extract_slots, the safety line first."""
    events = note_events(tracker)
    if events:
        tracker.update_with_events(list(events), processor.domain)
        await processor._send_bot_messages(list(events), tracker, output_channel)
    return await _run_action_extract_slots(processor, output_channel, tracker)
