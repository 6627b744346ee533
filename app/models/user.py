from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.catalog import Skill
from app.models.enums import Role, check_in

if TYPE_CHECKING:  # payment.py imports job.py, which imports this module
    from app.models.payment import Account

user_skills = Table(
    "user_skills",
    Base.metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", BigInteger, ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
)


def rating_average(rating_sum: int, rating_count: int) -> float | None:
    """A user's average rating, to two decimals (None before the first review)."""
    return round(rating_sum / rating_count, 2) if rating_count else None


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(check_in("role", Role), name="role"),
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("rating_count >= 0 AND rating_sum >= 0", name="rating_non_negative"),
        CheckConstraint("completed_jobs >= 0", name="completed_jobs_non_negative"),
        CheckConstraint(
            "attended_shifts >= 0 AND no_shows >= 0 AND late_cancellations >= 0", name="reliability_non_negative"
        ),
        CheckConstraint("hourly_rate_minor IS NULL OR hourly_rate_minor >= 0", name="hourly_rate_non_negative"),
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="location_pair"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180)", name="location_range"),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    headline: Mapped[str | None] = mapped_column(String(160))
    bio: Mapped[str | None] = mapped_column(Text)
    hourly_rate_minor: Mapped[int | None] = mapped_column(BigInteger)
    city: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    payout_method: Mapped[str | None] = mapped_column(String(32))
    payout_account: Mapped[str | None] = mapped_column(String(64))
    # Denormalised counters, updated in the same transaction as the event that changes them.
    rating_sum: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rating_count: Mapped[int] = mapped_column(Integer, server_default="0")
    completed_jobs: Mapped[int] = mapped_column(Integer, server_default="0")
    # Reliability (shifts with a check-in, no-shows, late cancellations), for profiles and the ranking.
    attended_shifts: Mapped[int] = mapped_column(Integer, server_default="0")
    no_shows: Mapped[int] = mapped_column(Integer, server_default="0")
    late_cancellations: Mapped[int] = mapped_column(Integer, server_default="0")

    skills: Mapped[list[Skill]] = relationship(secondary=user_skills, lazy="raise", order_by=Skill.slug)
    account: Mapped["Account | None"] = relationship(
        primaryjoin="User.id == foreign(Account.user_id)", lazy="raise", viewonly=True, uselist=False
    )

    @property
    def rating_avg(self) -> float | None:
        return rating_average(self.rating_sum, self.rating_count)

    @property
    def reliability_score(self) -> float:
        """(attended + 4) / (attended + no_shows + late_cancellations + 4): a new worker's is 1."""
        return (self.attended_shifts + 4) / (self.attended_shifts + self.no_shows + self.late_cancellations + 4)

    @property
    def balance_minor(self) -> int:
        return self.account.balance_minor if self.account is not None else 0


class RefreshToken(Base):
    """A refresh token, stored as the SHA-256 of the opaque token; each one works once (rotation).

    A login starts a family; each rotation adds a token to it. Presenting a used token again revokes the
    family, so whoever holds the token it was rotated into (a thief or the user) must log in again.
    """

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # a password reset revokes every token of the account
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
