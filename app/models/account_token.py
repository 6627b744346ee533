from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin
from app.models.enums import AccountTokenPurpose, check_in
from app.models.user import User


class AccountToken(IdMixin, CreatedMixin, Base):
    """A single-use link's token (password reset, e-mail verification), stored as its SHA-256 only.

    The token itself is HMAC(secret key, salt) (app/security.py), so the e-mail task can rebuild it from
    the row and the queue never holds it; a database leak alone gives neither tokens nor a way to make one.
    """

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint(check_in("purpose", AccountTokenPurpose), name="purpose"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    # password reset: the other live links of the account are spent with the one used
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="raise")
