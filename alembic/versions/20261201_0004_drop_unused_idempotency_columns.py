"""Drop idempotency_keys.status_code (written, never read: every keyed answer is a 201) and .note (unused).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("idempotency_keys", "status_code")
    op.drop_column("idempotency_keys", "note")


def downgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("idempotency_keys", sa.Column("status_code", sa.Integer(), nullable=False, server_default="201"))
    op.alter_column("idempotency_keys", "status_code", server_default=None)
