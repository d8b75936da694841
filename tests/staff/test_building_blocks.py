"""The staff app's small parts: SVG charts, CSRF tokens, local redirect targets, CSV cells."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from bot.staff.charts import bar_chart, percent
from bot.staff.csrf import LOGIN_TOKEN_SECONDS, check_login_token, new_login_token, tokens_match
from bot.staff.views.base import local_path
from bot.staff.views.leads import safe_cell

SECRET = "a-test-secret-that-is-long-enough-for-anything"


def test_chart_escapes_labels_and_scales_bars() -> None:
    svg = str(bar_chart([("<b>greet</b>", 10), ("thank", 5), ("deny", 0)], title="Top <intents>"))
    assert "<b>" not in svg and "&lt;b&gt;greet&lt;/b&gt;" in svg
    assert '<title id="chart-top--intents">Top &lt;intents&gt;</title>' in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert "style=" not in svg  # the CSP allows no inline styles


def test_chart_percentages_and_empty_data() -> None:
    svg = str(bar_chart([("Fallback", 0.25)], title="Rate", fmt=percent, scale_to=1.0))
    assert ">25.0%</text>" in svg
    assert "no data for this period" in str(bar_chart([], title="Top intents"))


def test_login_token_round_trip_and_tampering() -> None:
    token, cookie = new_login_token(SECRET)
    assert check_login_token(SECRET, cookie, token)
    assert not check_login_token(SECRET, cookie, token + "x")
    assert not check_login_token("another-secret-entirely-1234567890", cookie, token)
    assert not check_login_token(SECRET, None, token)
    assert not check_login_token(SECRET, cookie[:-2] + "xx", token)
    other, _ = new_login_token(SECRET)
    assert not check_login_token(SECRET, cookie, other)


def test_login_token_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = int(time.time()) - LOGIN_TOKEN_SECONDS - 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: stale)
    token, cookie = new_login_token(SECRET)
    monkeypatch.undo()
    assert not check_login_token(SECRET, cookie, token)


@pytest.mark.parametrize(
    ("expected", "given"),
    [("abc", "abc"), (None, "abc"), ("abc", None), ("abc", ""), ("", ""), ("abc", ["abc"])],
)
def test_tokens_match(expected: str | None, given: object) -> None:
    assert tokens_match(expected, given) is (expected == "abc" and given == "abc")


@pytest.mark.parametrize(
    ("target", "result"),
    [
        ("/conversations?page=2", "/conversations?page=2"),
        ("/leads/3", "/leads/3"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/x", "/"),
        ("leads", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        (None, "/"),
    ],
)
def test_local_path(target: str | None, result: str) -> None:
    assert local_path(target) == result


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+13035550142", "'+13035550142"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Sam", "Sam"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert safe_cell(value) == cell
