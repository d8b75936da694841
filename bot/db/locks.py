"""Rasa's conversation locks, kept in the project database so several Rasa workers share them."""

from sqlalchemy import Column, String, Text

from bot.db.models import Base


class ConversationLock(Base):
    """The serialised ticket lock of one conversation (Rasa's TicketLock as JSON)."""

    __tablename__ = "conversation_locks"

    conversation_id: str = Column(String(255), primary_key=True)
    data: str = Column(Text, nullable=False)
