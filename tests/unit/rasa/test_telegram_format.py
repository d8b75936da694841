"""Telegram output conversion: markdown to HTML, 4,096-character parts, button keys."""

import re
from html.parser import HTMLParser

import pytest

from bot.rasa.channels.telegram_format import (
    KEY_PREFIX,
    MAX_CALLBACK_DATA,
    MAX_MESSAGE,
    CallbackKeys,
    keyboard,
    split_message,
    to_html,
    utf16_len,
)


def visible(html_text: str) -> str:
    """The text a Telegram user sees for an HTML message (checks tags are balanced)."""

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.text, self.open = "", []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            assert tag == "b", tag
            self.open.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.open.pop() == tag

        def handle_data(self, data: str) -> None:
            self.text += data

    parser = Parser()
    parser.feed(html_text)
    parser.close()
    assert parser.open == [], "unclosed tag"
    return parser.text


def words(text: str) -> list[str]:
    return text.split()


# ---- HTML ----


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("plain text", "plain text"),
        ("**bold** and not", "<b>bold</b> and not"),
        ("a **b** c **d**", "a <b>b</b> c <b>d</b>"),
        ("5 < 6 & 7 > 3", "5 &lt; 6 &amp; 7 &gt; 3"),
        ("**<script>** & co", "<b>&lt;script&gt;</b> &amp; co"),
        ("<b>not a tag</b>", "&lt;b&gt;not a tag&lt;/b&gt;"),
        ("&amp; stays literal", "&amp;amp; stays literal"),
        ("an unpaired ** stays", "an unpaired ** stays"),
        ("** spaced ** is not bold", "** spaced ** is not bold"),
        ("*single* and _under_ and `code`", "*single* and _under_ and `code`"),
        ("quotes \" and ' stay", "quotes \" and ' stay"),
        ("**two\nlines**", "<b>two\nlines</b>"),
        ("", ""),
    ],
)
def test_markdown_becomes_telegram_html(markdown: str, html: str) -> None:
    assert to_html(markdown) == html


# ---- splitting ----


def test_short_text_is_one_part() -> None:
    assert split_message("Hello **there**") == ["Hello <b>there</b>"]


def test_empty_or_blank_text_is_no_part() -> None:
    assert split_message("") == [] and split_message(" \n\n ") == []


def test_5000_characters_become_two_parts_on_a_paragraph() -> None:
    first, second = "A" + " word" * 700, "B" + " word" * 300
    parts = split_message(f"{first}\n\n{second}")
    assert [visible(p) for p in parts] == [first, second]


def test_parts_prefer_sentence_then_word_boundaries() -> None:
    text = "This is one sentence. " * 300  # 6,600 characters, no newline
    parts = split_message(text)
    assert len(parts) == 2
    assert all(len(visible(p)) <= MAX_MESSAGE for p in parts)
    assert visible(parts[0]).endswith("sentence.")
    assert words(" ".join(visible(p) for p in parts)) == words(text)
    no_sentences = "word " * 2000
    parts = split_message(no_sentences)
    assert all(re.fullmatch(r"(word ?)+", visible(p)) for p in parts)
    assert sum(len(words(visible(p))) for p in parts) == 2000


def test_a_word_longer_than_a_message_is_cut_hard() -> None:
    parts = split_message("x" * 10_000)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_the_limit_counts_utf16_units_and_keeps_emoji_whole() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_message(text)
    assert all(utf16_len(visible(p)) <= MAX_MESSAGE for p in parts)
    assert "".join(visible(p) for p in parts) == text


def test_escaping_never_pushes_a_part_over_the_limit_nor_splits_an_entity() -> None:
    text = "<&> " * 2000  # each visible character becomes up to 5 in HTML
    parts = split_message(text)
    assert len(parts) == 2
    for part in parts:
        assert utf16_len(visible(part)) <= MAX_MESSAGE
        assert not re.search(r"&(?!lt;|gt;|amp;)", part)  # every & starts a whole entity


def test_a_split_prefers_a_boundary_outside_bold_text() -> None:
    bold = "**" + " ".join(["important"] * 50) + "**"
    text = "intro words " * 300 + bold + " outro words" * 100
    parts = split_message(text)
    assert len(parts) == 2
    assert all(p.count("<b>") == p.count("</b>") for p in parts)
    assert sum(p.count("<b>") for p in parts) == 1  # the bold run was not cut


def test_a_bold_run_longer_than_a_message_is_closed_and_reopened() -> None:
    text = "Intro. **" + " ".join(["bold"] * 1500) + "** after"
    parts = split_message(text)
    assert len(parts) == 2
    assert parts[0].startswith("Intro. <b>") and parts[0].endswith("</b>")
    assert parts[1].startswith("<b>") and parts[1].endswith("</b> after")
    for part in parts:
        assert utf16_len(visible(part)) <= MAX_MESSAGE
    assert words(" ".join(visible(p) for p in parts)) == words(text.replace("**", ""))


def test_a_custom_limit() -> None:
    assert [visible(p) for p in split_message("one two three four", limit=9)] == [
        "one two",
        "three",
        "four",
    ]


# ---- callback data ----


def test_short_payloads_travel_as_they_are() -> None:
    keys = CallbackKeys()
    payload = '/inform{"scope": "bounded"}'
    assert keys.encode(payload) == payload and keys.decode(payload) == payload


def test_long_payloads_travel_as_short_stable_keys() -> None:
    keys = CallbackKeys()
    payload = '/inform{"slot_choice": "2030-01-15T14:30:00+00:00", "tz": "America/Los_Angeles"}'
    assert len(payload.encode()) > MAX_CALLBACK_DATA
    key = keys.encode(payload)
    assert key.startswith(KEY_PREFIX) and len(key.encode()) <= MAX_CALLBACK_DATA
    assert key == CallbackKeys.key_for(payload) == CallbackKeys().encode(payload)
    assert keys.decode(key) == payload
    assert CallbackKeys().decode(key) is None  # another process never saw it: expired


def test_multibyte_payloads_are_measured_in_bytes() -> None:
    keys = CallbackKeys()
    payload = "/inform" + "é" * 30  # 37 characters, 67 bytes
    assert keys.encode(payload).startswith(KEY_PREFIX)


def test_a_payload_that_looks_like_a_key_is_keyed_too() -> None:
    keys = CallbackKeys()
    tricky = KEY_PREFIX + "abc"
    assert keys.encode(tricky) != tricky and keys.decode(keys.encode(tricky)) == tricky


def test_the_key_map_forgets_the_least_recently_used() -> None:
    keys = CallbackKeys(capacity=2)
    first, second, third = (f"/inform{{'n': {n}, 'pad': '{'x' * 64}'}}" for n in range(3))
    key1, key2 = keys.encode(first), keys.encode(second)
    assert keys.decode(key1) == first  # touch: now `second` is the oldest
    keys.encode(third)
    assert keys.decode(key1) == first and keys.decode(key2) is None


def test_keyboard_one_button_a_row() -> None:
    keys = CallbackKeys()
    markup = keyboard(
        [
            {"title": "What's the difference?", "payload": "/ask_difference"},
            {"title": "Website", "url": "https://pilotrock.example"},
            {"title": "", "payload": ""},
        ],
        keys,
    )
    rows = markup.to_dict()["inline_keyboard"]
    assert rows == [
        [{"text": "What's the difference?", "callback_data": "/ask_difference"}],
        [{"text": "Website", "url": "https://pilotrock.example"}],
    ]
    assert keyboard([], keys) is None
