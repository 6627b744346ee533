"""Shift work: shifts, timesheets, disputes, workers' reliability counters, cancelled applications.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKED_IN = "('checked_in', 'checked_out', 'submitted', 'approved', 'disputed', 'resolved')"
CHECKED_OUT = "('checked_out', 'submitted', 'approved', 'disputed', 'resolved')"
SUBMITTED = "('submitted', 'approved', 'disputed', 'resolved')"
TIMESHEET_STATUSES = (
    "('scheduled', 'checked_in', 'checked_out', 'submitted', 'approved', 'disputed', 'resolved', 'no_show')"
)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    for name in ("attended_shifts", "no_shows", "late_cancellations"):
        op.add_column("users", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint(
        op.f("ck_users_reliability_non_negative"),
        "users",
        "attended_shifts >= 0 AND no_shows >= 0 AND late_cancellations >= 0",
    )
    op.add_column("jobs", sa.Column("open_disputes", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint(op.f("ck_jobs_open_disputes_non_negative"), "jobs", "open_disputes >= 0")
    op.drop_constraint(op.f("ck_applications_status"), "applications", type_="check")
    op.create_check_constraint(
        op.f("ck_applications_status"),
        "applications",
        "status IN ('pending', 'accepted', 'rejected', 'withdrawn', 'cancelled')",
    )

    op.create_table(
        "shifts",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "ends_at - starts_at BETWEEN interval '30 minutes' AND interval '16 hours'",
            name=op.f("ck_shifts_length_range"),
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_shifts_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    # every job view lists its shifts in order; accepting a worker copies them into timesheets
    op.create_index("ix_shifts_job_starts", "shifts", ["job_id", "starts_at"])

    op.create_table(
        "timesheets",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("shift_id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="scheduled", nullable=False),
        sa.Column("scheduled_minutes", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_in_lat", sa.Float(), nullable=True),
        sa.Column("check_in_lng", sa.Float(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_out_lat", sa.Float(), nullable=True),
        sa.Column("check_out_lng", sa.Float(), nullable=True),
        sa.Column("recorded_minutes", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_minutes", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved_minutes", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(f"status IN {TIMESHEET_STATUSES}", name=op.f("ck_timesheets_status")),
        sa.CheckConstraint("scheduled_minutes BETWEEN 30 AND 960", name=op.f("ck_timesheets_scheduled_minutes_range")),
        sa.CheckConstraint(
            f"(checked_in_at IS NOT NULL) = (status IN {CHECKED_IN})", name=op.f("ck_timesheets_checked_in_iff")
        ),
        sa.CheckConstraint(
            f"(checked_out_at IS NOT NULL) = (status IN {CHECKED_OUT})", name=op.f("ck_timesheets_checked_out_iff")
        ),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= checked_in_at", name=op.f("ck_timesheets_check_out_after_in")
        ),
        sa.CheckConstraint(
            "(recorded_minutes IS NOT NULL) = (checked_out_at IS NOT NULL) AND recorded_minutes >= 0",
            name=op.f("ck_timesheets_recorded_minutes"),
        ),
        sa.CheckConstraint(
            f"(submitted_at IS NOT NULL) = (status IN {SUBMITTED}) AND (claimed_minutes IS NOT NULL) = (status IN"
            f" {SUBMITTED}) AND claimed_minutes BETWEEN 0 AND scheduled_minutes",
            name=op.f("ck_timesheets_claimed_minutes"),
        ),
        sa.CheckConstraint(
            "(approved_minutes IS NOT NULL) = (status IN ('approved', 'resolved'))"
            " AND approved_minutes BETWEEN 0 AND scheduled_minutes",
            name=op.f("ck_timesheets_approved_minutes"),
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_timesheets_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_timesheets_shift_id_shifts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_timesheets_worker_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timesheets")),
        sa.UniqueConstraint("shift_id", "worker_id", name="uq_timesheets_shift_worker"),
    )
    # GET /jobs/{id}/timesheets, completion's check and pay: a job's timesheets by shift and worker
    op.create_index("ix_timesheets_job_shift_worker", "timesheets", ["job_id", "shift_id", "worker_id"])
    # the scheduler's sweeps: timesheets still waiting for a check-in, or for the client's review
    op.create_index(
        "ix_timesheets_scheduled", "timesheets", ["shift_id"], postgresql_where=sa.text("status = 'scheduled'")
    )
    op.create_index(
        "ix_timesheets_submitted", "timesheets", ["submitted_at"], postgresql_where=sa.text("status = 'submitted'")
    )

    op.create_table(
        "disputes",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.BigInteger(), nullable=False),
        sa.Column("timesheet_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_minutes", sa.Integer(), nullable=True),
        sa.Column("resolved_minutes", sa.Integer(), nullable=True),
        sa.Column("worker_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by_id", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("kind IN ('timesheet', 'work')", name=op.f("ck_disputes_kind")),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_disputes_status")),
        sa.CheckConstraint(
            "(kind = 'timesheet') = (timesheet_id IS NOT NULL)", name=op.f("ck_disputes_timesheet_iff_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'timesheet') = (proposed_minutes IS NOT NULL)", name=op.f("ck_disputes_proposed_iff_timesheet")
        ),
        sa.CheckConstraint("proposed_minutes >= 0", name=op.f("ck_disputes_proposed_minutes_non_negative")),
        sa.CheckConstraint(
            "(status = 'resolved') = (resolved_at IS NOT NULL)"
            " AND (status = 'resolved' AND kind = 'timesheet') = (resolved_minutes IS NOT NULL)"
            " AND (status = 'resolved' AND kind = 'work') = (worker_amount_minor IS NOT NULL)",
            name=op.f("ck_disputes_resolution"),
        ),
        sa.CheckConstraint(
            "resolved_minutes >= 0 AND worker_amount_minor >= 0", name=op.f("ck_disputes_resolution_non_negative")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_disputes_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_disputes_worker_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["timesheet_id"], ["timesheets.id"], name=op.f("fk_disputes_timesheet_id_timesheets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_disputes_resolved_by_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    # one dispute per timesheet; one work dispute per hired worker and job
    op.create_index(
        "uq_disputes_timesheet",
        "disputes",
        ["timesheet_id"],
        unique=True,
        postgresql_where=sa.text("timesheet_id IS NOT NULL"),
    )
    op.create_index(
        "uq_disputes_work_job_worker",
        "disputes",
        ["job_id", "worker_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'work'"),
    )
    # completion's check (an open dispute blocks it) and pay (resolved work disputes)
    op.create_index("ix_disputes_job", "disputes", ["job_id"])
    # GET /disputes?status=open: the admins' queue, oldest first
    op.create_index("ix_disputes_status_created", "disputes", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("disputes")
    op.drop_table("timesheets")
    op.drop_table("shifts")
    op.execute("DELETE FROM applications WHERE status = 'cancelled'")
    op.drop_constraint(op.f("ck_applications_status"), "applications", type_="check")
    op.create_check_constraint(
        op.f("ck_applications_status"), "applications", "status IN ('pending', 'accepted', 'rejected', 'withdrawn')"
    )
    op.drop_constraint(op.f("ck_jobs_open_disputes_non_negative"), "jobs", type_="check")
    op.drop_column("jobs", "open_disputes")
    op.drop_constraint(op.f("ck_users_reliability_non_negative"), "users", type_="check")
    for name in ("late_cancellations", "no_shows", "attended_shifts"):
        op.drop_column("users", name)
