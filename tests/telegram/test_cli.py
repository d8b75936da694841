"""`python -m bot telegram ...`: webhook registration, info, and the development poller."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.cli import telegram as cli
from bot.rasa.channels.telegram_config import ALLOWED_UPDATES, SECRET_HEADER
from tests.support.servers import ROOT
from tests.telegram.conftest import SECRET, TelegramServers, subprocess_env
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import buttons_of, message_update, new_chat_id

HOOK = "https://example.org/webhooks/telegram/webhook"


def wired() -> bool:
    """Whether `python -m bot` has the `telegram` command yet."""
    from bot.cli import build_parser

    try:
        build_parser().parse_args(["telegram", "info"])
    except SystemExit:
        return False
    return True


def command() -> list[str]:
    """How to run the CLI in a child process."""
    module = ["-m", "bot", "telegram"] if wired() else ["-m", "bot.cli.telegram"]
    return [sys.executable, *module]


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, env_for_fake: dict) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "")


@pytest.mark.usefixtures("no_token")
@pytest.mark.parametrize(
    "argv", [["info"], ["set-webhook", "--url", HOOK], ["delete-webhook"], ["poll", "--once"]]
)
def test_without_a_token_every_command_stops_with_code_2(
    argv: list[str], capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(argv) == 2
    assert "TELEGRAM_TOKEN is not set" in capsys.readouterr().err


@pytest.mark.usefixtures("env_for_fake")
def test_set_webhook_registers_the_url_with_the_secret(
    fake_api: FakeBotApi, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["set-webhook", "--url", HOOK, "--drop-pending-updates"]) == 0
    call = fake_api.calls_of("setWebhook")[-1]
    assert call.params["url"] == HOOK and call.params["secret_token"] == SECRET
    assert call.params["drop_pending_updates"] is True
    assert call.params["allowed_updates"] == ALLOWED_UPDATES
    commands = fake_api.calls_of("setMyCommands")[-1].params["commands"]
    assert [c["command"] for c in commands] == ["start", "restart", "help"]
    assert "@PilotRockTestBot" in capsys.readouterr().out


@pytest.mark.usefixtures("env_for_fake")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set-webhook", "--url", "http://example.org/hook"], "only delivers to https"),
        (["set-webhook", "--url", ""], "no webhook URL"),
    ],
)
def test_set_webhook_refuses_what_telegram_would(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "")
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("env_for_fake")
def test_set_webhook_defaults_to_the_configured_url(fake_api: FakeBotApi) -> None:
    assert cli.main(["set-webhook"]) == 0
    assert fake_api.calls_of("setWebhook")[-1].params["url"] == HOOK


@pytest.mark.usefixtures("env_for_fake")
def test_info_and_delete_webhook(fake_api: FakeBotApi, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["set-webhook", "--url", HOOK]) == 0
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "@PilotRockTestBot" in out and HOOK in out and "pending updates: 0" in out
    assert cli.main(["delete-webhook"]) == 0
    assert fake_api.webhook["url"] == ""
    assert cli.main(["info"]) == 0
    assert "(none" in capsys.readouterr().out


@pytest.mark.usefixtures("env_for_fake")
def test_a_rejected_token_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "999:not-the-token")
    assert cli.main(["info"]) == 2
    assert "rejected the token" in capsys.readouterr().err


@pytest.mark.usefixtures("env_for_fake")
def test_poll_refuses_while_a_webhook_is_set(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["set-webhook", "--url", HOOK]) == 0
    assert cli.main(["poll", "--once", "--rasa-url", "http://127.0.0.1:9"]) == 2
    assert "delete-webhook" in capsys.readouterr().err


class Receiver(ThreadingHTTPServer):
    """A stand-in webhook: records what is POSTed, answers with a fixed status."""

    def __init__(self, status: int = 200) -> None:
        self.status, self.received = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", 200))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("env_for_fake")
def test_poll_forwards_updates_in_order_with_the_secret(
    fake_api: FakeBotApi, receiver: Receiver, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["delete-webhook"]) == 0
    chat_id = new_chat_id()
    updates = [message_update(chat_id, "/start"), message_update(chat_id, "hello")]
    for update in updates:
        fake_api.add_update(update)
    assert cli.main(["poll", "--once", "--timeout", "0", "--rasa-url", receiver.url]) == 0
    assert [body["update_id"] for _, _, body in receiver.received] == [
        u["update_id"] for u in updates
    ]
    path, headers, body = receiver.received[0]
    assert path == "/webhooks/telegram/webhook" and headers[SECRET_HEADER] == SECRET
    assert body["message"]["text"] == "/start" and body["message"]["chat"]["id"] == chat_id
    confirm = fake_api.calls_of("getUpdates")[-1]
    assert confirm.params["offset"] == updates[-1]["update_id"] + 1  # not fetched again
    assert "forwarded" in capsys.readouterr().out


@pytest.mark.usefixtures("env_for_fake")
@pytest.mark.parametrize("receiver", [403], indirect=True)
def test_poll_stops_when_the_server_refuses_the_secret(
    fake_api: FakeBotApi, receiver: Receiver, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["delete-webhook"]) == 0
    fake_api.add_update(message_update(new_chat_id(), "hello"))
    assert cli.main(["poll", "--once", "--timeout", "0", "--rasa-url", receiver.url]) == 2
    assert "refused the secret token" in capsys.readouterr().err
    assert cli.main(["delete-webhook", "--drop-pending-updates"]) == 0


@pytest.mark.e2e
def test_poll_drives_the_real_server_through_its_webhook(
    telegram_servers: TelegramServers,
) -> None:
    api, chat_id = telegram_servers.api, new_chat_id()
    env = subprocess_env(api)
    run = [*command()]
    assert (
        subprocess.run(
            [*run, "delete-webhook"], cwd=ROOT, env=env, capture_output=True, timeout=60
        ).returncode
        == 0
    )
    api.add_update(message_update(chat_id, "/start"))
    done = subprocess.run(
        [*run, "poll", "--once", "--timeout", "1", "--rasa-url", telegram_servers.servers.rasa_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    entry = api.wait_for(
        lambda: next(
            (
                m
                for m in api.messages_to(chat_id)
                if "/request_assessment" in buttons_of(m).values()
            ),
            None,
        )
    )
    assert "911" in entry["text"]


def test_the_command_is_part_of_python_m_bot() -> None:
    if not wired():
        pytest.skip("bot/cli/__init__.py does not register `telegram` yet")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "telegram", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert all(name in done.stdout for name in ("set-webhook", "delete-webhook", "info", "poll"))
