"""`shifts.reminded_at`: when the scheduler told a shift's hired workers it starts within the hour (issue #11),
so each shift is reminded once, whichever worker process runs the tick.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shifts", sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    # the scheduler's reminder: shifts starting soon whose workers were not told yet
    op.create_index("ix_shifts_unreminded", "shifts", ["starts_at"], postgresql_where=sa.text("reminded_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_shifts_unreminded", table_name="shifts")
    op.drop_column("shifts", "reminded_at")
