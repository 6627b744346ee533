"""Attendance: one timesheet per hired worker and shift, and the disputes a client opens about pay."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.enums import DisputeKind, DisputeStatus, TimesheetStatus, check_in
from app.models.job import Job, Shift
from app.models.user import User

CHECKED_IN = "('checked_in', 'checked_out', 'submitted', 'approved', 'disputed', 'resolved')"
CHECKED_OUT = "('checked_out', 'submitted', 'approved', 'disputed', 'resolved')"
SUBMITTED = "('submitted', 'approved', 'disputed', 'resolved')"


class Timesheet(IdMixin, TimestampMixin, Base):
    __tablename__ = "timesheets"
    __table_args__ = (
        CheckConstraint(check_in("status", TimesheetStatus), name="status"),
        CheckConstraint("scheduled_minutes BETWEEN 30 AND 960", name="scheduled_minutes_range"),
        # each step of the state machine has its timestamps and minutes, and only those
        CheckConstraint(f"(checked_in_at IS NOT NULL) = (status IN {CHECKED_IN})", name="checked_in_iff"),
        CheckConstraint(f"(checked_out_at IS NOT NULL) = (status IN {CHECKED_OUT})", name="checked_out_iff"),
        CheckConstraint("checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="check_out_after_in"),
        CheckConstraint(
            "(recorded_minutes IS NOT NULL) = (checked_out_at IS NOT NULL) AND recorded_minutes >= 0",
            name="recorded_minutes",
        ),
        CheckConstraint(
            f"(submitted_at IS NOT NULL) = (status IN {SUBMITTED}) AND (claimed_minutes IS NOT NULL) = (status IN"
            f" {SUBMITTED}) AND claimed_minutes BETWEEN 0 AND scheduled_minutes",
            name="claimed_minutes",
        ),
        CheckConstraint(
            "(approved_minutes IS NOT NULL) = (status IN ('approved', 'resolved'))"
            " AND approved_minutes BETWEEN 0 AND scheduled_minutes",
            name="approved_minutes",
        ),
        UniqueConstraint("shift_id", "worker_id", name="uq_timesheets_shift_worker"),
        # GET /jobs/{id}/timesheets, completion's check and pay: a job's timesheets by shift and worker
        Index("ix_timesheets_job_shift_worker", "job_id", "shift_id", "worker_id"),
        # the scheduler's sweeps: timesheets still waiting for a check-in, or for the client's review
        Index("ix_timesheets_scheduled", "shift_id", postgresql_where=text("status = 'scheduled'")),
        Index("ix_timesheets_submitted", "submitted_at", postgresql_where=text("status = 'submitted'")),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), server_default=TimesheetStatus.scheduled.value)
    scheduled_minutes: Mapped[int] = mapped_column(Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_in_lat: Mapped[float | None] = mapped_column(Float)
    check_in_lng: Mapped[float | None] = mapped_column(Float)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_out_lat: Mapped[float | None] = mapped_column(Float)
    check_out_lng: Mapped[float | None] = mapped_column(Float)
    recorded_minutes: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    approved_minutes: Mapped[int | None] = mapped_column(Integer)

    job: Mapped[Job] = relationship(lazy="raise")
    shift: Mapped[Shift] = relationship(lazy="raise")
    worker: Mapped[User] = relationship(lazy="raise")


class Dispute(IdMixin, TimestampMixin, Base):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint(check_in("kind", DisputeKind), name="kind"),
        CheckConstraint(check_in("status", DisputeStatus), name="status"),
        CheckConstraint("(kind = 'timesheet') = (timesheet_id IS NOT NULL)", name="timesheet_iff_kind"),
        CheckConstraint("(kind = 'timesheet') = (proposed_minutes IS NOT NULL)", name="proposed_iff_timesheet"),
        CheckConstraint("proposed_minutes >= 0", name="proposed_minutes_non_negative"),
        CheckConstraint(
            "(status = 'resolved') = (resolved_at IS NOT NULL)"
            " AND (status = 'resolved' AND kind = 'timesheet') = (resolved_minutes IS NOT NULL)"
            " AND (status = 'resolved' AND kind = 'work') = (worker_amount_minor IS NOT NULL)",
            name="resolution",
        ),
        CheckConstraint("resolved_minutes >= 0 AND worker_amount_minor >= 0", name="resolution_non_negative"),
        # one dispute per timesheet; one work dispute per hired worker and job
        Index("uq_disputes_timesheet", "timesheet_id", unique=True, postgresql_where=text("timesheet_id IS NOT NULL")),
        Index(
            "uq_disputes_work_job_worker", "job_id", "worker_id", unique=True, postgresql_where=text("kind = 'work'")
        ),
        # completion's check (an open dispute blocks it) and pay (resolved work disputes)
        Index("ix_disputes_job", "job_id"),
        # GET /disputes?status=open: the admins' queue, oldest first
        Index("ix_disputes_status_created", "status", "created_at", "id"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default=DisputeStatus.open.value)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    timesheet_id: Mapped[int | None] = mapped_column(ForeignKey("timesheets.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    proposed_minutes: Mapped[int | None] = mapped_column(Integer)
    resolved_minutes: Mapped[int | None] = mapped_column(Integer)
    worker_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    job: Mapped[Job] = relationship(lazy="raise")
    worker: Mapped[User] = relationship(lazy="raise", foreign_keys=[worker_id])
