"""Map what a visitor says ('eastern time', 'Chicago', 'PST') to an IANA time zone."""

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

US_ZONE_BUTTONS: list[tuple[str, str]] = [
    ("Eastern", "America/New_York"),
    ("Central", "America/Chicago"),
    ("Mountain", "America/Denver"),
    ("Arizona", "America/Phoenix"),
    ("Pacific", "America/Los_Angeles"),
    ("Alaska", "America/Anchorage"),
    ("Hawaii", "Pacific/Honolulu"),
]

ALIASES: dict[str, str] = {
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "east coast": "America/New_York",
    "central": "America/Chicago",
    "ct": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "midwest": "America/Chicago",
    "mountain": "America/Denver",
    "mt": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "west coast": "America/Los_Angeles",
    "california": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "hst": "Pacific/Honolulu",
    "uk": "Europe/London",
    "gmt": "Europe/London",
    "bst": "Europe/London",
    "utc": "UTC",
}

# US cities without an IANA zone of their own.
CITIES: dict[str, str] = {
    "new york city": "America/New_York",
    "nyc": "America/New_York",
    "boston": "America/New_York",
    "philadelphia": "America/New_York",
    "washington": "America/New_York",
    "dc": "America/New_York",
    "atlanta": "America/New_York",
    "miami": "America/New_York",
    "orlando": "America/New_York",
    "tampa": "America/New_York",
    "charlotte": "America/New_York",
    "pittsburgh": "America/New_York",
    "baltimore": "America/New_York",
    "cleveland": "America/New_York",
    "columbus": "America/New_York",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "san antonio": "America/Chicago",
    "minneapolis": "America/Chicago",
    "st louis": "America/Chicago",
    "nashville": "America/Chicago",
    "new orleans": "America/Chicago",
    "kansas city": "America/Chicago",
    "milwaukee": "America/Chicago",
    "salt lake city": "America/Denver",
    "albuquerque": "America/Denver",
    "tucson": "America/Phoenix",
    "seattle": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "san jose": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "sacramento": "America/Los_Angeles",
}


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, filler words dropped."""
    text = re.sub(r"[^a-z0-9/_+\- ]", " ", text.lower())
    text = re.sub(
        r"\b(time|zone|timezone|standard|daylight|i m|im|i am|in|the|live|near)\b", " ", text
    )
    return " ".join(text.split())


@lru_cache(maxsize=1)
def zone_names() -> dict[str, str]:
    """Every IANA zone by its lower-case full name and by its city part ('chicago')."""
    names: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("Etc/", "SystemV/")) or "/" not in zone:
            continue
        names.setdefault(zone.lower(), zone)
        names.setdefault(zone.rsplit("/", 1)[-1].replace("_", " ").lower(), zone)
    return names


def to_timezone(text: str) -> str | None:
    """The IANA zone a free-text answer names, or None if it is unclear."""
    if not text or len(text) > 100:
        return None
    raw = text.strip()
    if raw in available_timezones() and "/" in raw:
        return raw
    key = normalise(raw)
    for table in (ALIASES, CITIES, zone_names()):
        if key in table:
            return table[key]
    words = key.split()
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            for table in (CITIES, ALIASES, zone_names()):
                if phrase in table:
                    return table[phrase]
    return None


def is_valid_zone(name: str | None) -> bool:
    """True for an IANA zone name this machine knows."""
    if not name or ("/" not in name and name != "UTC"):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return True
