"""`python -m bot staff ...` and `python -m bot audit ...` against a real database."""

import getpass
import io
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.core.settings import get_settings
from bot.db.session import session_scope
from bot.staff.accounts import LoginFailed, authenticate, list_users

PASSWORD = "Good pass 1234"


class Terminal(io.StringIO):
    """Standard input that claims to be a terminal."""

    def isatty(self) -> bool:
        """Yes, a terminal."""
        return True


@pytest.fixture
def cli_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL pointing at the migrated test database for the commands."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str | io.StringIO = "") -> int:
    """Run one command with `stdin` as its standard input; its exit code."""
    stream = stdin if isinstance(stdin, io.StringIO) else io.StringIO(stdin)
    monkeypatch.setattr(sys, "stdin", stream)
    return main(argv)


def create(monkeypatch: pytest.MonkeyPatch, username: str, role: str = "admin") -> int:
    """`staff create-user` with PASSWORD on standard input."""
    argv = ["staff", "create-user", "--username", username, "--name", "Pat Lee", "--role", role]
    return run(monkeypatch, argv, PASSWORD + "\n")


def audit_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> list[str]:
    """The output of `audit tail`."""
    capsys.readouterr()
    assert run(monkeypatch, ["audit", "tail", "--last", "50"]) == 0
    return capsys.readouterr().out.splitlines()


def test_create_user_reads_the_password_from_stdin(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert create(monkeypatch, "boss") == 0
    assert "created admin 'boss'" in capsys.readouterr().out
    with session_scope() as session:
        assert authenticate(session, "boss", PASSWORD).display_name == "Pat Lee"
    lines = audit_lines(monkeypatch, capsys)
    assert len(lines) == 1
    assert f"cli:{getpass.getuser()} user_created staff_user:1" in lines[0]
    assert PASSWORD not in lines[0] and "Pat Lee" not in lines[0]


def test_on_a_terminal_the_password_is_typed_twice(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    argv = ["staff", "create-user", "--username", "ada", "--name", "Ada", "--role", "navigator"]
    assert run(monkeypatch, argv, Terminal()) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    typed = iter([PASSWORD, PASSWORD])
    assert run(monkeypatch, argv, Terminal()) == 0
    forced = [*argv[:3], "bob", *argv[4:], "--password-stdin"]
    assert run(monkeypatch, forced, Terminal(PASSWORD + "\n")) == 0
    with session_scope() as session:
        assert [user.username for user in list_users(session)] == ["ada", "bob"]
        authenticate(session, "bob", PASSWORD)


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["--username", "ada", "--name", "Ada", "--role", "admin"], "short\n", "at least 12"),
        (["--username", "ada", "--name", "Ada", "--role", "admin"], "", "no password"),
        (["--username", "A D", "--name", "Ada", "--role", "admin"], PASSWORD, "usernames are"),
    ],
)
def test_bad_input_exits_2_with_a_clear_error(
    cli_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    assert run(monkeypatch, ["staff", "create-user", *argv], stdin) == 2
    assert message in capsys.readouterr().err
    with session_scope() as session:
        assert list_users(session) == []


def test_unknown_role_is_a_usage_error(cli_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as caught:
        create(monkeypatch, "ada", role="root")
    assert caught.value.code == 2


def test_account_changes_are_audited(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    assert create(monkeypatch, "boss") == 0
    assert create(monkeypatch, "ada", role="reviewer") == 0
    assert run(monkeypatch, ["staff", "set-role", "--username", "ada", "--role", "navigator"]) == 0
    assert run(monkeypatch, ["staff", "set-password", "--username", "ada"], "New pass 56789\n") == 0
    assert run(monkeypatch, ["staff", "deactivate", "--username", "ada"]) == 0
    assert run(monkeypatch, ["staff", "deactivate", "--username", "boss"]) == 2
    assert "last active admin" in capsys.readouterr().err
    assert run(monkeypatch, ["staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ada" in listing and "inactive" in listing and "2 staff users" in listing
    actions = [line.split()[3] for line in audit_lines(monkeypatch, capsys)]
    assert actions == [
        "user_created",
        "user_created",
        "role_changed",
        "password_changed",
        "user_deactivated",
    ]
    with session_scope() as session, pytest.raises(LoginFailed):
        authenticate(session, "ada", "New pass 56789")


def test_audit_verify_exit_codes(
    cli_database: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    assert run(monkeypatch, ["audit", "verify"]) == 0
    assert "audit log intact: 0 entries" in capsys.readouterr().out
    for name in ("boss", "ada", "sam"):
        assert create(monkeypatch, name) == 0
    capsys.readouterr()
    assert run(monkeypatch, ["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "audit log intact: 3 entries" in out
    anchor = out.split("head: ")[1].split()[0]
    trigger_table = " ON audit_log" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER audit_log_no_delete{trigger_table}")
        connection.exec_driver_sql("DELETE FROM audit_log WHERE seq = 3")
    assert run(monkeypatch, ["audit", "verify"]) == 0
    assert run(monkeypatch, ["audit", "verify", "--anchor", anchor]) == 1
    assert "seq 3: the anchored entry is missing" in capsys.readouterr().out
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_log WHERE seq = 1")
    assert run(monkeypatch, ["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED: 2 problems in 1 entries" in out and "seq 1: missing" in out
    assert run(monkeypatch, ["audit", "verify", "--anchor", "nonsense"]) == 2
