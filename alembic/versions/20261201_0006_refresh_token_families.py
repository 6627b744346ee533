"""Refresh-token families: reusing a rotated token revokes every token of its login.

Existing tokens become one-token families (their own jti's first 32 characters).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("family_id", sa.String(32), nullable=True))
    op.execute("UPDATE refresh_tokens SET family_id = left(jti, 32)")
    op.alter_column("refresh_tokens", "family_id", nullable=False)
    # POST /auth/refresh on a reused token, POST /auth/logout: revoke a family's tokens
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_column("refresh_tokens", "family_id")
