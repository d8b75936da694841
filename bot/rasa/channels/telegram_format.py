"""Turn the bot's replies into Telegram messages: HTML, 4,096-character parts, button keys.

The bot's texts use one piece of markdown, `**bold**`; everything else is plain text. Telegram's
HTML parse mode needs `<`, `>` and `&` escaped. A message may hold 4,096 characters after
entity parsing (Telegram counts UTF-16 code units), so long replies are split on paragraph,
line, sentence or word boundaries, preferring boundaries outside bold text; a bold run that has
to be cut is closed and reopened, so every part is well-formed on its own.

Inline-keyboard `callback_data` may hold 64 bytes. Payloads that fit go as they are; longer ones
(or ones that start with the key prefix) travel as a short sha256-based key kept in an LRU map.
"""

import base64
import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_MESSAGE = 4096  # characters after entity parsing, counted in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes
KEY_PREFIX = "~k:"
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_NEWLINE = re.compile(r"\n")
_SENTENCE_END = re.compile("[.!?\u2026][\"'\u201d\u2019)\\]]*(?=\\s)")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Segment:
    """A run of visible text, bold or not."""

    text: str
    bold: bool = False


def parse(text: str) -> list[Segment]:
    """Split the bot's markdown into plain and bold runs (unpaired `**` stays literal)."""
    segments: list[Segment] = []
    position = 0
    for match in _BOLD.finditer(text):
        if match.start() > position:
            segments.append(Segment(text[position : match.start()]))
        segments.append(Segment(match.group(1), bold=True))
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def render(segments: Iterable[Segment]) -> str:
    """Segments as Telegram HTML: text escaped, bold runs in <b>."""
    parts = []
    for segment in segments:
        escaped = html.escape(segment.text, quote=False)
        parts.append(f"<b>{escaped}</b>" if segment.bold and escaped else escaped)
    return "".join(parts)


def to_html(text: str) -> str:
    """The bot's markdown as Telegram HTML."""
    return render(parse(text))


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_offsets(text: str) -> list[int]:
    """offsets[i] = UTF-16 length of text[:i]."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def _bold_spans(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    spans, position = [], 0
    for segment in segments:
        if segment.bold:
            spans.append((position, position + len(segment.text)))
        position += len(segment.text)
    return spans


def _best_boundary(plain: str, start: int, end: int, spans: list[tuple[int, int]]) -> int:
    """Where to cut plain[start:], given that plain[start:end] is the most that fits."""
    if end >= len(plain):
        return len(plain)

    def inside_bold(cut: int) -> bool:
        return any(a < cut < b for a, b in spans)

    # One character past the limit too: a boundary right at `end` is as good as any.
    window = plain[start : end + 1]
    room = end - start
    minimum = max(1, room // 4)  # don't leave a tiny part just for a nicer boundary
    levels = [
        [m.start() for m in _PARAGRAPH.finditer(window)],
        [m.start() for m in _NEWLINE.finditer(window)],
        [m.end() for m in _SENTENCE_END.finditer(window)],
        [m.start() for m in _WHITESPACE.finditer(window)],
    ]
    # First a boundary outside bold text that leaves a fair-sized part; then any boundary.
    for allow_bold in (False, True):
        for number, level in enumerate(levels):
            floor = 1 if allow_bold and number == len(levels) - 1 else minimum
            for cut in sorted(level, reverse=True):
                if cut > room:
                    continue
                if cut < floor:
                    break
                if allow_bold or not inside_bold(start + cut):
                    return start + cut
    return end  # one very long word: a hard cut


def split_segments(segments: Sequence[Segment], limit: int = MAX_MESSAGE) -> list[list[Segment]]:
    """Cut segments into parts whose visible text fits `limit` UTF-16 units, trimmed."""
    plain = "".join(segment.text for segment in segments)
    offsets = _utf16_offsets(plain)
    spans = _bold_spans(segments)
    ranges = []
    start = 0
    while start < len(plain):
        while start < len(plain) and plain[start].isspace():
            start += 1
        if start >= len(plain):
            break
        # The furthest end whose UTF-16 length from `start` fits the limit.
        low, high = start, len(plain)
        while low < high:
            middle = (low + high + 1) // 2
            if offsets[middle] - offsets[start] <= limit:
                low = middle
            else:
                high = middle - 1
        end = low
        cut = _best_boundary(plain, start, end, spans)
        stop = cut
        while stop > start and plain[stop - 1].isspace():
            stop -= 1
        if stop > start:
            ranges.append((start, stop))
        start = cut
    return [_slice(segments, a, b) for a, b in ranges]


def _slice(segments: Sequence[Segment], start: int, stop: int) -> list[Segment]:
    """The segments' visible text between two offsets of the joined plain text."""
    parts, position = [], 0
    for segment in segments:
        a, b = position, position + len(segment.text)
        position = b
        lo, hi = max(a, start), min(b, stop)
        if lo < hi:
            parts.append(Segment(segment.text[lo - a : hi - a], segment.bold))
    return parts


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """The bot's markdown text as one or more Telegram HTML messages, each within the limit."""
    return [render(part) for part in split_segments(parse(text), limit)]


class CallbackKeys:
    """Button payloads <-> callback_data within Telegram's 64 bytes (an in-memory LRU map)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def key_for(payload: str) -> str:
        """The short, stable key of a long payload: prefix + 128 bits of its sha256."""
        digest = hashlib.sha256(payload.encode("utf-8")).digest()[:16]
        return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def encode(self, payload: str) -> str:
        """callback_data for a payload: itself when it fits, otherwise a remembered key."""
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA and not payload.startswith(KEY_PREFIX):
            return payload
        key = self.key_for(payload)
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind callback_data; None for a key this process no longer knows."""
        if not data.startswith(KEY_PREFIX):
            return data
        payload = self._payloads.get(data)
        if payload is not None:
            self._payloads.move_to_end(data)
        return payload


def keyboard(buttons: Sequence[dict], keys: CallbackKeys) -> InlineKeyboardMarkup | None:
    """Rasa buttons ({"title", "payload"} or {"title", "url"}) as an inline keyboard, one a row."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        if not title:
            continue
        if button.get("url") or button.get("type") == "web_url":
            rows.append([InlineKeyboardButton(title, url=button.get("url") or button["payload"])])
            continue
        payload = str(button.get("payload") or title)
        rows.append([InlineKeyboardButton(title, callback_data=keys.encode(payload))])
    return InlineKeyboardMarkup(rows) if rows else None
