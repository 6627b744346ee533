from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.job import Job
from app.models.user import User


class Review(IdMixin, TimestampMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("job_id", "reviewer_id", "reviewee_id", name="uq_reviews_job_reviewer_reviewee"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("reviewer_id <> reviewee_id", name="not_self"),
        # GET /users/{id}/reviews (all, recent): reviews received, newest first
        Index("ix_reviews_reviewee_newest", "reviewee_id", text("created_at DESC"), text("id DESC")),
        # GET /users/{id}/reviews?filter=unread
        Index(
            "ix_reviews_reviewee_unread",
            "reviewee_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("read_at IS NULL"),
        ),
        # GET /users/{id}/reviews/given: reviews written, newest first
        Index("ix_reviews_reviewer_newest", "reviewer_id", text("created_at DESC"), text("id DESC")),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, server_default="")
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[Job] = relationship(lazy="raise")
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id], lazy="raise")
    reviewee: Mapped[User] = relationship(foreign_keys=[reviewee_id], lazy="raise")
