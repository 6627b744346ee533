from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, aggregate_order_by
from sqlalchemy.orm import Mapped, column_property, declared_attr, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin, TimestampMixin
from app.models.catalog import Category, Skill
from app.models.enums import EscrowStatus, JobStatus, PayType, check_in
from app.models.user import User

job_skills = Table(
    "job_skills",
    Base.metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", BigInteger, ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
    # GET /jobs?skill=: jobs having any of the given skills
    Index("ix_job_skills_skill_job", "skill_id", "job_id"),
)


class Shift(IdMixin, CreatedMixin, Base):
    """A scheduled shift of a job: every hired worker works each one (a timesheet per worker and shift)."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint(
            "ends_at - starts_at BETWEEN interval '30 minutes' AND interval '16 hours'", name="length_range"
        ),
        # a job's shifts in order (every job view lists them; accepting a worker copies them into timesheets)
        Index("ix_shifts_job_starts", "job_id", "starts_at"),
        # the scheduler's reminder: shifts starting soon whose workers were not told yet
        Index("ix_shifts_unreminded", "starts_at", postgresql_where=text("reminded_at IS NULL")),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # when its hired workers were told it starts soon (the scheduler's reminder, once per shift)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds()) // 60


def schedule_of(job_id: ColumnElement[int]) -> ColumnElement[list[dict[str, Any]]]:
    """The shifts of the job `job_id` names, as a JSONB array [{id, starts_at, ends_at}] (UTC, in order):
    `Job.schedule`, and the same expression for Core selects of the jobs table."""
    shifts = Shift.__table__.c
    utc = {
        "id": shifts.id,
        "starts_at": func.timezone(literal_column("'UTC'"), shifts.starts_at),
        "ends_at": func.timezone(literal_column("'UTC'"), shifts.ends_at),
    }
    item = func.jsonb_build_object(*(x for k, v in utc.items() for x in (literal_column(f"'{k}'"), v)))
    aggregated = (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(item, shifts.starts_at)), func.jsonb_build_array()))
        .where(shifts.job_id == job_id)
        .correlate_except(Shift.__table__)
        .scalar_subquery()
    )
    return type_coerce(aggregated, JSONB)


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(check_in("status", JobStatus), name="status"),
        CheckConstraint(check_in("pay_type", PayType), name="pay_type"),
        CheckConstraint(check_in("escrow_status", EscrowStatus), name="escrow_status"),
        CheckConstraint("pay_rate_minor > 0", name="pay_rate_positive"),
        CheckConstraint("(pay_type = 'hourly') = (hours IS NOT NULL)", name="hours_iff_hourly"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
        CheckConstraint("openings BETWEEN 1 AND 50", name="openings_range"),
        CheckConstraint("hired_count BETWEEN 0 AND openings", name="hired_within_openings"),
        CheckConstraint("applications_count >= 0", name="applications_count_non_negative"),
        CheckConstraint("open_disputes >= 0", name="open_disputes_non_negative"),
        CheckConstraint("total_cost_minor > 0", name="total_cost_positive"),
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="location_pair"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180)", name="location_range"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="period_order"),
        # GET /jobs (sort=newest): open jobs, newest first
        Index(
            "ix_jobs_open_newest", text("created_at DESC"), text("id DESC"), postgresql_where=text("status = 'open'")
        ),
        # GET /jobs (sort=pay, pay_min/pay_max): open jobs by pay rate
        Index(
            "ix_jobs_open_pay", text("pay_rate_minor DESC"), text("id DESC"), postgresql_where=text("status = 'open'")
        ),
        # GET /jobs?category=: open jobs of one category, newest first
        Index(
            "ix_jobs_open_category_newest",
            "category_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("status = 'open'"),
        ),
        # GET /jobs?q=: full-text search over open jobs
        Index(
            "ix_jobs_open_search",
            "search_vector",
            postgresql_using="gin",
            postgresql_where=text("status = 'open'"),
        ),
        # GET /jobs?near=&radius_km=: bounding-box prefilter on open jobs with a location
        Index(
            "ix_jobs_open_location",
            text("point(lng, lat)"),
            postgresql_using="gist",
            postgresql_where=text("status = 'open' AND lat IS NOT NULL"),
        ),
        # GET /users/{id}/jobs: a client's jobs, newest first
        Index("ix_jobs_client_newest", "client_id", text("created_at DESC"), text("id DESC")),
    )

    client_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, server_default="")
    pay_type: Mapped[str] = mapped_column(String(16))
    pay_rate_minor: Mapped[int] = mapped_column(BigInteger)
    hours: Mapped[int | None] = mapped_column(Integer)
    openings: Mapped[int] = mapped_column(Integer, server_default="1")
    total_cost_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), server_default=JobStatus.open.value)
    escrow_status: Mapped[str] = mapped_column(String(16), server_default=EscrowStatus.none.value)
    hired_count: Mapped[int] = mapped_column(Integer, server_default="0")
    applications_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # Disputes waiting for an admin (they block completion), kept with the job row that every writer locks.
    open_disputes: Mapped[int] = mapped_column(Integer, server_default="0")
    city: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('english'::regconfig, title || ' ' || description)", persisted=True),
        deferred=True,
    )

    client: Mapped[User] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    skills: Mapped[list[Skill]] = relationship(secondary=job_skills, lazy="raise", order_by=Skill.slug)
    shifts: Mapped[list[Shift]] = relationship(lazy="raise", order_by=Shift.starts_at, cascade="all, delete-orphan")

    @declared_attr
    def schedule(cls) -> Mapped[list[dict[str, Any]]]:
        """The shifts as JSON [{id, starts_at, ends_at}] (UTC), in the job's own row: every view of a job lists
        them without a query of their own, so the read endpoints keep their statement budgets."""
        # Not expired by a flush of the job's own columns (shifts change only through writes that reload the job).
        return column_property(schedule_of(cast("ColumnElement[int]", cls.id)), expire_on_flush=False)

    @property
    def funded(self) -> bool:
        return self.escrow_status == EscrowStatus.held
