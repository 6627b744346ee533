"""Initial schema. Each index names the query it serves; see docs/performance.md for the plans.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:44:13.904173
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_table(
        "skills",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
        sa.UniqueConstraint("slug", name=op.f("uq_skills_slug")),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("headline", sa.String(length=160), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("hourly_rate_minor", sa.BigInteger(), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("payout_method", sa.String(length=32), nullable=True),
        sa.Column("payout_account", sa.String(length=64), nullable=True),
        sa.Column("rating_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rating_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completed_jobs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('client', 'worker', 'admin')", name=op.f("ck_users_role")),
        sa.CheckConstraint("(lat IS NULL) = (lng IS NULL)", name=op.f("ck_users_location_pair")),
        sa.CheckConstraint("completed_jobs >= 0", name=op.f("ck_users_completed_jobs_non_negative")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower")),
        sa.CheckConstraint(
            "hourly_rate_minor IS NULL OR hourly_rate_minor >= 0",
            name=op.f("ck_users_hourly_rate_non_negative"),
        ),
        sa.CheckConstraint(
            "lat IS NULL OR (lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180)",
            name=op.f("ck_users_location_range"),
        ),
        sa.CheckConstraint("rating_count >= 0 AND rating_sum >= 0", name=op.f("ck_users_rating_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "accounts",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("balance_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind = 'external' OR balance_minor >= 0", name=op.f("ck_accounts_balance_non_negative")),
        sa.CheckConstraint("kind IN ('external', 'user', 'escrow', 'platform')", name=op.f("ck_accounts_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_accounts_user_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
        sa.UniqueConstraint("user_id", name=op.f("uq_accounts_user_id")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "jobs",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("pay_type", sa.String(length=16), nullable=False),
        sa.Column("pay_rate_minor", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("openings", sa.Integer(), server_default="1", nullable=False),
        sa.Column("total_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("escrow_status", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("hired_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("applications_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, title || ' ' || description)", persisted=True),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(pay_type = 'hourly') = (hours IS NOT NULL)", name=op.f("ck_jobs_hours_iff_hourly")),
        sa.CheckConstraint(
            "escrow_status IN ('none', 'held', 'released', 'refunded')", name=op.f("ck_jobs_escrow_status")
        ),
        sa.CheckConstraint("pay_type IN ('fixed', 'hourly')", name=op.f("ck_jobs_pay_type")),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'completed', 'cancelled')", name=op.f("ck_jobs_status")),
        sa.CheckConstraint("(lat IS NULL) = (lng IS NULL)", name=op.f("ck_jobs_location_pair")),
        sa.CheckConstraint("applications_count >= 0", name=op.f("ck_jobs_applications_count_non_negative")),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name=op.f("ck_jobs_period_order")
        ),
        sa.CheckConstraint("hired_count BETWEEN 0 AND openings", name=op.f("ck_jobs_hired_within_openings")),
        sa.CheckConstraint("hours IS NULL OR hours > 0", name=op.f("ck_jobs_hours_positive")),
        sa.CheckConstraint(
            "lat IS NULL OR (lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180)",
            name=op.f("ck_jobs_location_range"),
        ),
        sa.CheckConstraint("openings BETWEEN 1 AND 50", name=op.f("ck_jobs_openings_range")),
        sa.CheckConstraint("pay_rate_minor > 0", name=op.f("ck_jobs_pay_rate_positive")),
        sa.CheckConstraint("total_cost_minor > 0", name=op.f("ck_jobs_total_cost_positive")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_jobs_category_id_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_jobs_client_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    # GET /users/{id}/jobs: a client's jobs, newest first
    op.create_index(
        "ix_jobs_client_newest",
        "jobs",
        ["client_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # GET /jobs?category=: open jobs of one category, newest first
    op.create_index(
        "ix_jobs_open_category_newest",
        "jobs",
        ["category_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    # GET /jobs?near=&radius_km=: bounding-box prefilter on open jobs with a location
    op.create_index(
        "ix_jobs_open_location",
        "jobs",
        [sa.literal_column("point(lng, lat)")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("status = 'open' AND lat IS NOT NULL"),
    )
    # GET /jobs (sort=newest): open jobs, newest first
    op.create_index(
        "ix_jobs_open_newest",
        "jobs",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    # GET /jobs (sort=pay, pay_min/pay_max): open jobs by pay rate
    op.create_index(
        "ix_jobs_open_pay",
        "jobs",
        [sa.literal_column("pay_rate_minor DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    # GET /jobs?q=: full-text search over open jobs
    op.create_index(
        "ix_jobs_open_search",
        "jobs",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_refresh_tokens")),
    )
    # user deletes (FK support)
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_skills",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name=op.f("fk_user_skills_skill_id_skills"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_skills_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "skill_id", name=op.f("pk_user_skills")),
    )
    # skill deletes (FK support); user -> skills uses the primary key
    op.create_index("ix_user_skills_skill_user", "user_skills", ["skill_id", "user_id"], unique=False)
    op.create_table(
        "applications",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("cover_letter", sa.Text(), server_default="", nullable=False),
        sa.Column("bid_minor", sa.BigInteger(), nullable=True),
        sa.Column("estimated_hours", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'withdrawn')", name=op.f("ck_applications_status")
        ),
        sa.CheckConstraint("bid_minor IS NULL OR bid_minor > 0", name=op.f("ck_applications_bid_positive")),
        sa.CheckConstraint(
            "estimated_hours IS NULL OR estimated_hours > 0",
            name=op.f("ck_applications_estimated_hours_positive"),
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_applications_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_applications_worker_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    # GET /jobs/{id}/applications?status=, GET /jobs/{id}/best-applicants, accept's reject-the-rest
    op.create_index(
        "ix_applications_job_status_created",
        "applications",
        ["job_id", "status", "created_at", "id"],
        unique=False,
    )
    # GET /users/me/applications: a worker's applications, newest first
    op.create_index(
        "ix_applications_worker_newest",
        "applications",
        ["worker_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # POST /jobs/{id}/applications: one active (pending/accepted) application per worker and job
    op.create_index(
        "uq_applications_active_job_worker",
        "applications",
        ["job_id", "worker_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )
    op.create_table(
        "job_skills",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_skills_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name=op.f("fk_job_skills_skill_id_skills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "skill_id", name=op.f("pk_job_skills")),
    )
    # GET /jobs?skill=: jobs having any of the given skills
    op.create_index("ix_job_skills_skill_job", "job_skills", ["skill_id", "job_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=True),
        sa.Column("payee_id", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('escrow', 'payout', 'refund', 'fee')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint("status IN ('held', 'released', 'refunded', 'completed')", name=op.f("ck_payments_status")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_payments_amount_non_negative")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_payments_job_id_jobs"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["users.id"], name=op.f("fk_payments_payee_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["users.id"], name=op.f("fk_payments_payer_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    # POST /jobs/{id}/complete and /cancel: the job's escrow payment
    op.create_index("ix_payments_job", "payments", ["job_id"], unique=False)
    # GET /users/{id}/payments: payments the user received, newest first
    op.create_index(
        "ix_payments_payee_newest",
        "payments",
        ["payee_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # GET /users/{id}/payments: payments the user made, newest first
    op.create_index(
        "ix_payments_payer_newest",
        "payments",
        ["payer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # POST /jobs/{id}/payments: at most one escrow per job
    op.create_index(
        "uq_payments_escrow_job",
        "payments",
        ["job_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'escrow'"),
    )
    op.create_table(
        "reviews",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewee_id", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.CheckConstraint("reviewer_id <> reviewee_id", name=op.f("ck_reviews_not_self")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_reviews_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["reviewee_id"], ["users.id"], name=op.f("fk_reviews_reviewee_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_reviews_reviewer_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("job_id", "reviewer_id", "reviewee_id", name="uq_reviews_job_reviewer_reviewee"),
    )
    # GET /users/{id}/reviews (all, recent): reviews received, newest first
    op.create_index(
        "ix_reviews_reviewee_newest",
        "reviews",
        ["reviewee_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # GET /users/{id}/reviews?filter=unread
    op.create_index(
        "ix_reviews_reviewee_unread",
        "reviews",
        ["reviewee_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("read_at IS NULL"),
    )
    # GET /users/{id}/reviews/given: reviews written, newest first
    op.create_index(
        "ix_reviews_reviewer_newest",
        "reviews",
        ["reviewer_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "ledger_entries",
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_ledger_entries_amount_non_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_ledger_entries_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_ledger_entries_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    # ledger reconciliation per account (invariant checks)
    op.create_index(op.f("ix_ledger_entries_account_id"), "ledger_entries", ["account_id"], unique=False)
    # a payment's ledger legs
    op.create_index(op.f("ix_ledger_entries_payment_id"), "ledger_entries", ["payment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_entries_payment_id"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_account_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index("ix_reviews_reviewer_newest", table_name="reviews")
    op.drop_index("ix_reviews_reviewee_unread", table_name="reviews", postgresql_where=sa.text("read_at IS NULL"))
    op.drop_index("ix_reviews_reviewee_newest", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("uq_payments_escrow_job", table_name="payments", postgresql_where=sa.text("kind = 'escrow'"))
    op.drop_index("ix_payments_payer_newest", table_name="payments")
    op.drop_index("ix_payments_payee_newest", table_name="payments")
    op.drop_index("ix_payments_job", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_job_skills_skill_job", table_name="job_skills")
    op.drop_table("job_skills")
    op.drop_index(
        "uq_applications_active_job_worker",
        table_name="applications",
        postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )
    op.drop_index("ix_applications_worker_newest", table_name="applications")
    op.drop_index("ix_applications_job_status_created", table_name="applications")
    op.drop_table("applications")
    op.drop_index("ix_user_skills_skill_user", table_name="user_skills")
    op.drop_table("user_skills")
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "ix_jobs_open_search",
        table_name="jobs",
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index("ix_jobs_open_pay", table_name="jobs", postgresql_where=sa.text("status = 'open'"))
    op.drop_index("ix_jobs_open_newest", table_name="jobs", postgresql_where=sa.text("status = 'open'"))
    op.drop_index(
        "ix_jobs_open_location",
        table_name="jobs",
        postgresql_using="gist",
        postgresql_where=sa.text("status = 'open' AND lat IS NOT NULL"),
    )
    op.drop_index("ix_jobs_open_category_newest", table_name="jobs", postgresql_where=sa.text("status = 'open'"))
    op.drop_index("ix_jobs_client_newest", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("idempotency_keys")
    op.drop_table("accounts")
    op.drop_table("users")
    op.drop_table("skills")
    op.drop_table("categories")
