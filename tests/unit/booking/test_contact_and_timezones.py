"""Contact details and time zones as visitors type them."""

import pytest

from bot.booking.contact import clean_name, display_phone, find_email, find_phone, proves_contact
from bot.booking.timezones import is_valid_zone, to_timezone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm Maria Lopez", "Maria Lopez"),
        ("my name is anne-marie o'neil", "Anne-Marie O'Neil"),
        ("it's José", "José"),
        ("call me sam", "Sam"),
        ("Ellen McDonald", "Ellen McDonald"),
        ("12345", None),
        ("hi", None),
        ("maria@example.com", None),
        ("<script>alert(1)</script>", None),
        ("a" * 100, None),
    ],
)
def test_names(text: str, expected: str | None) -> None:
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sure, it's Jo.Smith@Example.com thanks", "Jo.Smith@example.com"),
        ("maria.lopez@example.org", "maria.lopez@example.org"),
        ("maria at example dot com", None),
        ("maria@", None),
        ("@example.com", None),
    ],
)
def test_emails(text: str, expected: str | None) -> None:
    assert find_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me at (415) 555-2671", "+14155552671"),
        ("415.555.2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("my number is 12", None),
        ("555 555 5555", None),
    ],
)
def test_phones(text: str, expected: str | None) -> None:
    assert find_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "proves"),
    [
        ("cancel PR-7KQ4M2 Maria.Lopez@Example.com", True),
        ("move PR-7KQ4M2, my number is (415) 555-2671", True),
        ("cancel PR-7KQ4M2", False),
        ("cancel PR-7KQ4M2 someone.else@example.com", False),
        ("cancel PR-7KQ4M2 415 555 2672", False),
        ("maria.lopez@example.co", False),
    ],
)
def test_contact_proof(text: str, proves: bool) -> None:
    assert proves_contact(text, "maria.lopez@example.com", "+14155552671") is proves
    assert proves_contact(text, None, None) is False


def test_phone_display() -> None:
    assert display_phone("+14155552671") == "+1 415-555-2671"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eastern time", "America/New_York"),
        ("EST", "America/New_York"),
        ("Central Standard Time", "America/Chicago"),
        ("mountain time zone", "America/Denver"),
        ("pacific", "America/Los_Angeles"),
        ("Chicago", "America/Chicago"),
        ("I'm near Boston", "America/New_York"),
        ("we live in seattle", "America/Los_Angeles"),
        ("Europe/Paris", "Europe/Paris"),
        ("london", "Europe/London"),
        ("Honolulu", "Pacific/Honolulu"),
        ("whenever", None),
        ("", None),
    ],
)
def test_time_zones_from_words(text: str, expected: str | None) -> None:
    assert to_timezone(text) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("America/Chicago", True),
        ("UTC", True),
        ("Mars/Olympus", False),
        (None, False),
        ("EST5EDT", False),
    ],
)
def test_zone_validation(name: str | None, valid: bool) -> None:
    assert is_valid_zone(name) is valid
