"""Outgoing email over SMTP: configuration, message building (with .ics invites), sending."""

import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.core.settings import Settings, get_settings

CALENDAR_METHOD = re.compile(rb"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """Where and how to send: an SMTP relay, its credentials and the From address."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_starttls: bool = True
    sender: str
    timeout: float = 30.0


def config_from_env(settings: Settings | None = None) -> SmtpConfig | None:
    """SMTP settings from SMTP_* (environment, then .env); None without SMTP_HOST or SMTP_SENDER."""
    settings = settings or get_settings()
    host, sender = settings.smtp_host.strip(), settings.smtp_sender.strip()
    if not host or not sender:
        return None
    return SmtpConfig(
        host=host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        use_starttls=settings.smtp_starttls,
        sender=sender,
        timeout=settings.smtp_timeout,
    )


def build_message(
    sender: str,
    recipient: str,
    subject: str,
    body_text: str,
    attachment_name: str | None = None,
    attachment: str | bytes | None = None,
) -> EmailMessage:
    """A plain-text email; an .ics attachment goes as text/calendar with its iTIP method."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body_text)
    if attachment is None:
        return message
    data = attachment.encode("utf-8") if isinstance(attachment, str) else attachment
    name = attachment_name or "attachment.bin"
    if name.lower().endswith(".ics"):
        found = CALENDAR_METHOD.search(data)
        method = found.group(1).decode("ascii") if found else "REQUEST"
        params = {"charset": "utf-8", "method": method}
        message.add_attachment(
            data, maintype="text", subtype="calendar", filename=name, params=params
        )
    else:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Send `message` through the configured relay or raise (smtplib.SMTPException, OSError)."""
    if message["From"] is None:
        message["From"] = config.sender
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.use_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.username and config.password:
            smtp.login(config.username, config.password)
        refused = smtp.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
