"""Telegram updates as the Rasa workers receive them: each handled once, in order per chat."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlalchemy.orm import Mapped

from bot.db.models import Base, UTCDateTime, utcnow


class TelegramUpdate(Base):
    """One update from Telegram's webhook: which chat, when it came, when it was handled."""

    __tablename__ = "telegram_updates"
    __table_args__ = (Index("ix_telegram_updates_chat_update", "chat_id", "update_id"),)

    update_id: Mapped[int] = Column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = Column(BigInteger, nullable=False)
    received_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = Column(UTCDateTime, nullable=True)
