"""Indexes: one for a job's applications newest first; drop those no endpoint's plan uses.

Measured with `python -m bench.plans` on the large seed (docs/performance.md):
- added ix_applications_job_newest: GET /jobs/{id}/applications without ?status= sorted every applicant;
- dropped ix_payments_job (escrow lookups use uq_payments_escrow_job), ix_ledger_entries_payment_id and
  ix_ledger_entries_account_id (no endpoint reads the ledger by payment or account), ix_user_skills_skill_user
  and ix_refresh_tokens_user_id (only deletes of skills or users would use them; the API has neither).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # GET /jobs/{id}/applications (no status filter): a job's applications, newest first
    op.create_index(
        "ix_applications_job_newest",
        "applications",
        ["job_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )
    op.drop_index("ix_payments_job", table_name="payments")
    op.drop_index("ix_ledger_entries_payment_id", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_account_id", table_name="ledger_entries")
    op.drop_index("ix_user_skills_skill_user", table_name="user_skills")
    op.drop_index("ix_refresh_tokens_user_id", table_name="refresh_tokens")


def downgrade() -> None:
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_user_skills_skill_user", "user_skills", ["skill_id", "user_id"])
    op.create_index("ix_ledger_entries_account_id", "ledger_entries", ["account_id"])
    op.create_index("ix_ledger_entries_payment_id", "ledger_entries", ["payment_id"])
    op.create_index("ix_payments_job", "payments", ["job_id"])
    op.drop_index("ix_applications_job_newest", table_name="applications")
