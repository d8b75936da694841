"""Typed settings read from the environment and `.env`."""

from functools import lru_cache

from pydantic import BaseSettings, SecretStr, validator

from bot.core.paths import ROOT, VAR

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-token-change-me"}


class Settings(BaseSettings):
    """Runtime configuration of every process."""

    environment: str = "development"
    database_url: str = f"sqlite:///{VAR / 'pilotrock.db'}"
    rasa_port: int = 5005
    rasa_api_token: str = "dev-token-change-me"
    rasa_cors: str = "*"
    rasa_workers: int = 2  # Rasa server processes (each loads the model: about 0.9 GB)
    rest_channel_enabled: bool = True
    action_server_port: int = 5055
    action_server_url: str = ""
    # Tries per action call (bot.rasa.runtime.delivery). 1 where a proxy retries and redispatches
    # them (the production profile's HAProxy), so one layer retries, never two.
    action_call_attempts: int = 3
    model_path: str = str(ROOT / "models")
    run_dir: str = str(VAR)
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    rasa_public_url: str = ""  # the Rasa server as browsers reach it; "" = page host:RASA_PORT
    # Telegram channel (bot.rasa.channels.telegram): no token = the channel is off.
    telegram_token: str = ""  # from @BotFather
    telegram_secret_token: str = ""  # webhook secret, A-Z a-z 0-9 _ -; empty = derived from token
    telegram_base_url: str = ""  # Bot API base; empty = https://api.telegram.org/bot
    telegram_webhook_url: str = ""  # public https URL of /webhooks/telegram/webhook (set at start)
    telegram_bot_username: str = ""  # without @, for t.me links
    # Confirmation emails (bot.mail.mailer, the outbox worker): no host or sender = kept unsent.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    smtp_sender: str = ""
    smtp_timeout: float = 30.0  # seconds
    log_level: str = "INFO"
    # Staff app (bot.staff): server-side sessions, idle and absolute limits, lockout.
    staff_host: str = "127.0.0.1"
    staff_port: int = 8081
    staff_secret_key: str = "dev-staff-secret-change-me"  # signs the login form's CSRF cookie
    staff_cookie_secure: bool | None = None  # None = Secure cookies outside development
    staff_idle_minutes: int = 15
    staff_session_hours: int = 8
    staff_max_failed_logins: int = 5
    staff_lockout_minutes: int = 15
    # Website chat (bot.rasa.channels.socketio): signs the session tokens the widget rejoins with.
    widget_session_secret: SecretStr = SecretStr("dev-widget-secret-change-me")
    retention_days: int = 365  # `python -m bot retention purge` default
    # Production profile (all empty = the embedded default: SQLite, in-database locks and queue).
    rasa_endpoints: str = "endpoints.yml"  # endpoints.cluster.yml: Redis locks, RabbitMQ broker
    redis_url: str = ""  # e.g. redis://127.0.0.1:6379/0 (Rasa's lock store)
    rabbitmq_url: str = ""  # e.g. amqp://guest:guest@127.0.0.1:5672/%2F (Rasa's event broker)
    event_queue: str = "pilotrock-events"  # the broker queue the index consumer reads
    health_host: str = "127.0.0.1"  # where the workers' /health listens (0.0.0.0 for probes)
    indexer_health_port: int = 8092  # GET /health of the index consumer
    outbox_health_port: int = 8093  # GET /health of the outbox worker
    # Live takeover (bot.handoff): where the team's tools reach Rasa's HTTP API, and time limits.
    rasa_url: str = ""  # Rasa's HTTP API for the staff app and workers; "" = 127.0.0.1:RASA_PORT
    staff_public_url: str = ""  # the staff app as navigators reach it (links in alert emails)
    handoff_claim_minutes: int = 5  # a request nobody claims in this time falls back to a callback
    handoff_reply_minutes: int = 5  # a claimed chat with no staff reply in this time falls back
    handoff_live_minutes: int = 10  # conversations active this recently count as live

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
