"""The README's configuration table is the one generated from `Settings`, and stays so."""

import pytest
from pydantic import BaseSettings, Field, SecretStr

from bot.cli.config import (
    ENVIRONMENT_ONLY_NOTE,
    README,
    settings_table,
    shown_default,
    table_in,
)
from bot.cli.supervise import CLUSTER_PORTS
from bot.core.paths import ROOT
from bot.core.settings import ENVIRONMENT_ONLY, ENVIRONMENT_ONLY_AFTER, Settings

FIX = "run `make docs` (python -m bot settings table --write) and commit README.md"


def table_rows() -> dict[str, list[str]]:
    """Each variable of the generated table -> its cells (default, meaning)."""
    rows = {}
    for line in settings_table().splitlines()[2:]:
        cells = [part.strip() for part in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_readme_table_is_the_generated_one() -> None:
    documented = table_in(README.read_text(encoding="utf-8"))
    assert documented == settings_table(), f"README.md's configuration table is out of date: {FIX}"


def test_every_setting_has_a_description() -> None:
    missing = [name for name, f in Settings.__fields__.items() if not f.field_info.description]
    assert missing == [], f"give these a Field(..., description=...): {missing}"


def test_every_setting_is_read_from_its_upper_case_name() -> None:
    for name, field in Settings.__fields__.items():
        assert field.field_info.extra["env_names"] == {name}


def test_table_has_every_setting_and_environment_only_variable_once() -> None:
    lines = settings_table().splitlines()
    names = [line.split(" | ")[0].strip("| `") for line in lines[2:]]
    expected = [name.upper() for name in Settings.__fields__]
    after = expected.index(ENVIRONMENT_ONLY_AFTER.upper()) + 1
    expected[after:after] = [var.name for var in ENVIRONMENT_ONLY]
    assert names == expected
    assert lines[:2] == ["| variable | default | meaning |", "|---|---|---|"]


def test_environment_only_rows_say_so_and_match_what_supervise_sets() -> None:
    rows = table_rows()
    assert {var.name: var.default for var in ENVIRONMENT_ONLY} == CLUSTER_PORTS
    for var in ENVIRONMENT_ONLY:
        assert var.name.lower() not in Settings.__fields__
        assert rows[var.name] == [f"`{var.default}`", ENVIRONMENT_ONLY_NOTE + var.description]


def test_defaults_show_no_path_of_this_machine_and_no_secret() -> None:
    table = settings_table()
    assert str(ROOT) not in table
    rows = table_rows()
    assert rows["DATABASE_URL"][0] == "`sqlite:///var/pilotrock.db`"
    assert rows["ACTION_SERVER_URL"][0] == "`http://127.0.0.1:$ACTION_SERVER_PORT/webhook`"
    for name in ("STAFF_SECRET_KEY", "WIDGET_SESSION_SECRET"):
        default = Settings.__fields__[name.lower()].default
        value = default.get_secret_value() if isinstance(default, SecretStr) else default
        assert value not in table and rows[name][0] == "a development placeholder"


def test_a_secret_without_a_shown_default_is_refused() -> None:
    class Example(BaseSettings):
        api_key: str = Field("k-123", description="a key")
        password: SecretStr = Field(SecretStr("pw"), description="a password")
        empty_token: str = Field("", description="a token")

    for name in ("api_key", "password"):
        with pytest.raises(ValueError, match="shown_default"):
            shown_default(name, Example.__fields__[name])
    assert shown_default("empty_token", Example.__fields__["empty_token"]) == "empty"


def test_plain_defaults_are_shown_as_code() -> None:
    class Example(BaseSettings):
        flag: bool = Field(True, description="a flag")
        port: int = Field(5005, description="a port")
        maybe: bool | None = Field(None, description="three states")

    shown = {name: shown_default(name, f) for name, f in Example.__fields__.items()}
    assert shown == {"flag": "`true`", "port": "`5005`", "maybe": "unset"}
