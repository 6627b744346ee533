from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin
from app.models.user import User


class Message(IdMixin, CreatedMixin, Base):
    """One message of an application's thread (its worker and the job's owner), stored as plain text."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("char_length(body) BETWEEN 1 AND 2000", name="body_length"),
        # GET /applications/{id}/messages: a thread, oldest first
        Index("ix_messages_application_oldest", "application_id", "id"),
    )

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)

    sender: Mapped[User] = relationship(lazy="raise")
