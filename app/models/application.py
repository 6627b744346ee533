from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.enums import ApplicationStatus, check_in
from app.models.job import Job
from app.models.user import User


class Application(IdMixin, TimestampMixin, Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(check_in("status", ApplicationStatus), name="status"),
        CheckConstraint("bid_minor IS NULL OR bid_minor > 0", name="bid_positive"),
        CheckConstraint("estimated_hours IS NULL OR estimated_hours > 0", name="estimated_hours_positive"),
        # one active (pending or accepted) application per worker and job
        Index(
            "uq_applications_active_job_worker",
            "job_id",
            "worker_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'accepted')"),
        ),
        # GET /jobs/{id}/applications?status=, GET /jobs/{id}/best-applicants, accept/reject bookkeeping
        Index("ix_applications_job_status_created", "job_id", "status", "created_at", "id"),
        # GET /jobs/{id}/applications without a status: a job's applications, newest first
        Index("ix_applications_job_newest", "job_id", text("created_at DESC"), text("id DESC")),
        # GET /users/me/applications: a worker's applications, newest first
        Index("ix_applications_worker_newest", "worker_id", text("created_at DESC"), text("id DESC")),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), server_default=ApplicationStatus.pending.value)
    cover_letter: Mapped[str] = mapped_column(Text, server_default="")
    bid_minor: Mapped[int | None] = mapped_column(BigInteger)
    estimated_hours: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[Job] = relationship(lazy="raise")
    worker: Mapped[User] = relationship(lazy="raise")
