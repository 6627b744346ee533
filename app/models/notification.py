from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin


class Notification(IdMixin, CreatedMixin, Base):
    """Something that happened to `user_id`, written in the transaction of the event it reports."""

    __tablename__ = "notifications"
    __table_args__ = (
        # GET /notifications: a user's notifications, newest first; the stream's Last-Event-ID replay
        Index("ix_notifications_user_newest", "user_id", text("id DESC")),
        # GET /notifications?unread=true, GET /notifications/unread-count, POST /notifications/read-all
        Index("ix_notifications_user_unread", "user_id", text("id DESC"), postgresql_where=text("read_at IS NULL")),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # NotificationKind, without a CHECK: kinds grow with features (app/models/enums.py).
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, server_default="")
    link: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationSetting(Base):
    """A user's choice for one kind; a kind without a row has the defaults (app/services/notifications.py)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)
