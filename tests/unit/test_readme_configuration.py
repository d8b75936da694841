"""The README's configuration table and `Settings` cannot drift apart."""

import re

from bot.core.paths import ROOT
from bot.core.settings import Settings

# Set only in the environment of the production profile (deploy/supervisord/cluster.conf and
# HAProxy), not read through Settings; their row says so.
ENVIRONMENT_ONLY = {
    "RASA_REPLICA_1_PORT",
    "RASA_REPLICA_2_PORT",
    "ACTIONS_REPLICA_1_PORT",
    "ACTIONS_REPLICA_2_PORT",
    "HAPROXY_STATS_PORT",
}


def documented() -> dict[str, str]:
    """Each variable named in the first column of the table -> its whole row."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") : text.index("## Architecture")]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {
        name: row for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }


def test_every_setting_has_a_row() -> None:
    settings = {name.upper() for name in Settings.__fields__}
    assert sorted(settings - set(documented())) == []


def test_every_row_is_a_setting_or_says_it_is_environment_only() -> None:
    settings = {name.upper() for name in Settings.__fields__}
    rows = documented()
    for name in set(rows) - settings:
        assert name in ENVIRONMENT_ONLY, f"{name} is documented but is no setting"
        assert "environment only" in rows[name]
