"""Validation of the contact details a visitor gives: name, email, phone."""

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "US"
NAME_PREFIXES = re.compile(
    r"^(hi|hello|hey)?[\s,]*(my name is|my name's|name is|i am|i'm|im|it's|its|this is|call me)\s+",
    re.IGNORECASE,
)
NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
EMAIL_IN_TEXT = re.compile(r"[^\s<>()\"',;]+@[^\s<>()\"',;]+\.[^\s<>()\"',;]+")
MAX_NAME_LENGTH = 80
NOT_NAMES = {"hi", "hello", "hey", "yes", "no", "ok", "okay", "sure", "thanks", "maybe", "skip"}


def clean_name(text: str) -> str | None:
    """A person's name from a free-text reply ('I'm Maria Lopez' -> 'Maria Lopez'), or None."""
    name = NAME_PREFIXES.sub("", text.strip()).strip(" .!,")
    if not name or len(name) > MAX_NAME_LENGTH or not NAME_CHARS.match(name):
        return None
    if len(name.split()) > 5 or name.lower() in NOT_NAMES:
        return None
    return name if any(ch.isupper() for ch in name) else name.title()


def find_email(text: str) -> str | None:
    """A syntactically valid email address in the text, normalised, or None."""
    match = EMAIL_IN_TEXT.search(text)
    if not match:
        return None
    try:
        return validate_email(match.group(0), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def find_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """A valid phone number in the text as E.164 (US numbers by default), or None."""
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        if phonenumbers.is_valid_number(match.number):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def proves_contact(text: str, email: str | None, phone: str | None) -> bool:
    """Whether the text contains the given email address or phone number (as booked)."""
    found_email = find_email(text)
    if email and found_email and found_email.casefold() == email.casefold():
        return True
    return bool(phone) and find_phone(text) == phone


def display_phone(e164: str) -> str:
    """A phone number in friendly international format."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
