"""Typed settings read from the environment and `.env`.

Each field's `description` (and, where the value depends on this machine or is a secret, its
`shown_default`) is the README's configuration table: `python -m bot settings table --write`.
"""

from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseSettings, Field, SecretStr, validator

from bot.core.paths import ROOT, VAR

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-token-change-me"}


@dataclass(frozen=True)
class EnvironmentOnly:
    """A variable no program reads through `Settings`: supervisord and HAProxy expand it."""

    name: str
    default: str
    description: str


# The production profile's replicas and HAProxy's stats page, set by `python -m bot supervise
# cluster` (defaults in bot/cli/supervise.py) for deploy/supervisord/cluster.conf and
# deploy/haproxy/haproxy.cfg. The table lists them after ENVIRONMENT_ONLY_AFTER.
ENVIRONMENT_ONLY = (
    EnvironmentOnly("RASA_REPLICA_1_PORT", "5011", "the first Rasa replica behind HAProxy"),
    EnvironmentOnly("RASA_REPLICA_2_PORT", "5012", "the second Rasa replica behind HAProxy"),
    EnvironmentOnly("ACTIONS_REPLICA_1_PORT", "5061", "the first action server behind HAProxy"),
    EnvironmentOnly("ACTIONS_REPLICA_2_PORT", "5062", "the second action server behind HAProxy"),
    EnvironmentOnly("HAPROXY_STATS_PORT", "8404", "HAProxy's stats page (`/stats`, loopback)"),
)
ENVIRONMENT_ONLY_AFTER = "outbox_health_port"


class Settings(BaseSettings):
    """Runtime configuration of every process."""

    environment: str = Field(
        default="development",
        description="`development`, `test` or `production`; production refuses placeholder secrets",
    )
    database_url: str = Field(
        default=f"sqlite:///{VAR / 'pilotrock.db'}",
        description="the one database: transcripts (Rasa's tracker store) and the project's "
        "tables; PostgreSQL in production, e.g. `postgresql://user:pw@host/db`",
        shown_default="`sqlite:///var/pilotrock.db`",
    )
    rasa_port: int = Field(
        default=5005,
        description="Rasa server port (REST channel, Socket.IO, HTTP API); in the production "
        "profile HAProxy listens here in front of the replicas",
    )
    rasa_api_token: str = Field(
        default="dev-token-change-me",
        description="token for Rasa's HTTP API (and HAProxy's readiness check); production "
        "refuses a placeholder",
        shown_default="`dev-token-change-me`",
    )
    rasa_cors: str = Field(default="*", description="allowed origins for the widget")
    rasa_workers: int = Field(
        default=2,
        description="Rasa server processes; each loads the model (about 0.9 GB). They share "
        "conversation locks through the database (`bot/rasa/runtime/lock_store.py`), so no Redis "
        "is needed; the production profile runs one per replica",
    )
    rest_channel_enabled: bool = Field(
        default=True, description="set `false` in production to switch the REST channel off"
    )
    action_server_port: int = Field(
        default=5055,
        description="action server port; in the production profile HAProxy listens here (on "
        "loopback) in front of the action-server replicas",
    )
    action_server_url: str = Field(
        default="",
        description="where Rasa calls the actions",
        shown_default="`http://127.0.0.1:$ACTION_SERVER_PORT/webhook`",
    )
    action_call_attempts: int = Field(
        default=3,
        description="tries per action call when the action server cannot be reached or answers "
        "5xx (1 to 10, `bot/rasa/runtime/delivery.py`); the production profile sets 1, because "
        "HAProxy retries and redispatches them, so one layer retries, never two",
    )
    model_path: str = Field(
        default=str(ROOT / "models"),
        description="trained model file or folder",
        shown_default="`models/`",
    )
    run_dir: str = Field(
        default=str(VAR),
        description="where run-time files go (per-port credentials, Rasa log; process logs in "
        "`log/`, sockets and pid files in `run/`)",
        shown_default="`var/`",
    )
    web_host: str = Field(
        default="0.0.0.0", description="where the demo site and widget assets listen"
    )
    web_port: int = Field(default=8080, description="port of the demo site and widget assets")
    rasa_public_url: str = Field(
        default="",
        description="the Rasa server as browsers reach it (empty: the page's host on `RASA_PORT`)",
    )
    # Telegram channel (bot.rasa.channels.telegram): no token = the channel is off.
    telegram_token: str = Field(
        default="",
        description="Telegram bot token from @BotFather; empty = the Telegram channel is off",
    )
    telegram_secret_token: str = Field(
        default="",
        description="the webhook secret Telegram must send (1-256 of A-Z a-z 0-9 _ -)",
        shown_default="derived from the token",
    )
    telegram_base_url: str = Field(
        default="",
        description="the Bot API base (tests point it at a fake)",
        shown_default="Telegram's (`https://api.telegram.org/bot`)",
    )
    telegram_webhook_url: str = Field(
        default="",
        description="the public https URL of `/webhooks/telegram/webhook`; when set, `run-rasa` "
        "registers this webhook once at start, before the workers fork",
    )
    telegram_bot_username: str = Field(
        default="",
        description="the bot's username without `@`, for the t.me links on the demo page",
    )
    # Confirmation emails (bot.mail.mailer, the outbox worker): no host or sender = kept unsent.
    smtp_host: str = Field(
        default="",
        description="the relay for confirmation emails (the outbox worker); empty = keep them in "
        "the outbox",
    )
    smtp_port: int = Field(default=587, description="the relay's port")
    smtp_username: str = Field(default="", description="the relay's login; empty = no login")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="the relay's password")
    smtp_starttls: bool = Field(
        default=True, description="upgrade the connection to the relay with STARTTLS"
    )
    smtp_sender: str = Field(
        default="", description="the emails' From address; empty = keep them in the outbox"
    )
    smtp_timeout: float = Field(
        default=30.0, description="how long to wait for the relay", shown_default="`30` seconds"
    )
    log_level: str = Field(
        default="INFO", description="log level of every process (no message text is logged at INFO)"
    )
    # Staff app (bot.staff): server-side sessions, idle and absolute limits, lockout.
    staff_host: str = Field(default="127.0.0.1", description="where the staff app listens")
    staff_port: int = Field(default=8081, description="port of the staff app")
    staff_secret_key: str = Field(
        default="dev-staff-secret-change-me",
        description="signs the login form's CSRF cookie; production refuses a placeholder or "
        "fewer than 32 characters",
        shown_default="a development placeholder",
    )
    staff_cookie_secure: bool | None = Field(
        default=None,
        description="`true`/`false` forces the cookies' `Secure` flag; unset = Secure outside "
        "development",
    )
    staff_idle_minutes: int = Field(
        default=15, description="staff sessions end after this long idle"
    )
    staff_session_hours: int = Field(
        default=8, description="staff sessions end after this long in all"
    )
    staff_max_failed_logins: int = Field(
        default=5, description="wrong passwords before an account is locked"
    )
    staff_lockout_minutes: int = Field(
        default=15, description="how long a locked account stays locked"
    )
    # Website chat (bot.rasa.channels.socketio): signs the session tokens the widget rejoins with.
    widget_session_secret: SecretStr = Field(
        default=SecretStr("dev-widget-secret-change-me"),
        description="signs the widget's session tokens; production refuses a placeholder or "
        "fewer than 32 characters; the same on every replica",
        shown_default="a development placeholder",
    )
    retention_days: int = Field(
        default=365, description="default age for `python -m bot retention purge`"
    )
    # Production profile (all empty = the embedded default: SQLite, in-database locks and queue).
    rasa_endpoints: str = Field(
        default="endpoints.yml",
        description="the Rasa endpoints file `run-rasa` uses; `make run-cluster` sets "
        "`endpoints.cluster.yml` (Redis locks, RabbitMQ broker)",
    )
    redis_url: str = Field(
        default="",
        description="production profile: Rasa's lock store and the Socket.IO bus between "
        "replicas, e.g. `redis://127.0.0.1:6379/0`; `make run-cluster` sets it",
    )
    rabbitmq_url: str = Field(
        default="",
        description="production profile: Rasa's event broker, e.g. "
        "`amqp://guest:guest@127.0.0.1:5672/%2F`; `make run-cluster` sets it",
    )
    event_queue: str = Field(
        default="pilotrock-events", description="the broker queue the staff index consumer reads"
    )
    health_host: str = Field(
        default="127.0.0.1",
        description="where the workers' health endpoints listen (`0.0.0.0` for container probes)",
    )
    indexer_health_port: int = Field(default=8092, description="the index consumer's `GET /health`")
    outbox_health_port: int = Field(
        default=8093,
        description="the outbox worker's `GET /health` (database reachable, a pass finished in "
        "the last 2 minutes)",
    )
    # Live takeover (bot.handoff): where the team's tools reach Rasa's HTTP API, and time limits.
    rasa_url: str = Field(
        default="",
        description="Rasa's HTTP API as the staff app and the outbox worker reach it (live "
        "takeover)",
        shown_default="`http://127.0.0.1:$RASA_PORT`",
    )
    staff_public_url: str = Field(
        default="",
        description="the staff app's address in the team's alert emails",
        shown_default="`http://localhost:$STAFF_PORT`",
    )
    handoff_claim_minutes: int = Field(
        default=5, description="a request nobody joins falls back to a call back after this long"
    )
    handoff_reply_minutes: int = Field(
        default=5,
        description="a joined chat without a staff reply falls back to a call back after this long",
    )
    handoff_live_minutes: int = Field(
        default=10,
        description="conversations active this recently count as live (inbox marker, joining "
        "without a request)",
    )

    class Config:
        """Read `.env` at the repository root; environment variables win."""

        env_file = str(ROOT / ".env")
        env_file_encoding = "utf-8"

    @validator("environment")
    def _known_environment(cls, value: str) -> str:  # noqa: N805
        """Accept only the environments the project knows."""
        if value not in {"development", "test", "production"}:
            raise ValueError("ENVIRONMENT must be development, test or production")
        return value

    @validator("action_call_attempts")
    def _at_least_one_attempt(cls, value: int) -> int:  # noqa: N805
        """An action call is tried at least once, and not endlessly."""
        if not 1 <= value <= 10:
            raise ValueError("ACTION_CALL_ATTEMPTS must be from 1 to 10")
        return value

    @validator("rasa_api_token")
    def _real_secret_outside_dev(cls, value: str, values: dict) -> str:  # noqa: N805
        """Refuse a placeholder API token in production."""
        if values.get("environment") == "production" and value in PLACEHOLDER_SECRETS:
            raise ValueError("RASA_API_TOKEN must be set to a real secret in production")
        return value

    @validator("staff_secret_key")
    def _real_staff_secret_outside_dev(cls, value: str, values: dict) -> str:  # noqa: N805
        """Refuse a placeholder staff secret in production."""
        if values.get("environment") == "production" and (
            value in PLACEHOLDER_SECRETS or "change-me" in value or len(value) < 32
        ):
            raise ValueError("STAFF_SECRET_KEY must be a real secret (32+ chars) in production")
        return value

    @validator("widget_session_secret")
    def _real_widget_secret_outside_dev(cls, value: SecretStr, values: dict) -> SecretStr:  # noqa: N805
        """Refuse a placeholder widget session secret in production."""
        secret = value.get_secret_value()
        if values.get("environment") == "production" and (
            secret in PLACEHOLDER_SECRETS or "change-me" in secret or len(secret) < 32
        ):
            raise ValueError("WIDGET_SESSION_SECRET must be a real secret (32+ chars)")
        return value

    @property
    def cookies_secure(self) -> bool:
        """Whether staff cookies carry the Secure flag."""
        if self.staff_cookie_secure is not None:
            return self.staff_cookie_secure
        return self.environment != "development"

    @property
    def rasa_api_url(self) -> str:
        """Rasa's HTTP API as the team's processes reach it (no trailing slash)."""
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def staff_url(self) -> str:
        """The staff app's public address, for links in emails (no trailing slash)."""
        return (self.staff_public_url or f"http://localhost:{self.staff_port}").rstrip("/")

    @property
    def actions_url(self) -> str:
        """The action server's webhook address."""
        return self.action_server_url or f"http://127.0.0.1:{self.action_server_port}/webhook"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
