"""Reference data: categories, skills and the platform's own ledger accounts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = {
    "cleaning": "Cleaning",
    "moving": "Moving & delivery",
    "handyman": "Handyman & repairs",
    "gardening": "Gardening",
    "software": "Software development",
    "design": "Design",
    "writing": "Writing & translation",
    "tutoring": "Tutoring",
    "events": "Events & hospitality",
    "care": "Care & pets",
}

SKILLS = {
    "plumbing": "Plumbing",
    "electrical": "Electrical",
    "carpentry": "Carpentry",
    "painting": "Painting",
    "deep-cleaning": "Deep cleaning",
    "lifting": "Heavy lifting",
    "driving": "Driving",
    "lawn-care": "Lawn care",
    "python": "Python",
    "javascript": "JavaScript",
    "sql": "SQL",
    "react": "React",
    "figma": "Figma",
    "illustration": "Illustration",
    "copywriting": "Copywriting",
    "translation": "Translation",
    "math": "Mathematics",
    "english": "English",
    "bartending": "Bartending",
    "catering": "Catering",
    "pet-sitting": "Pet sitting",
    "elder-care": "Elder care",
    "photography": "Photography",
    "assembly": "Furniture assembly",
}

# The ledger's own accounts: money entering from outside, and the platform's fee income.
SYSTEM_ACCOUNTS = {"external:funding": "external", "platform:fees": "platform"}


def _slug_table(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("slug", sa.String), sa.column("name", sa.String))


def upgrade() -> None:
    op.bulk_insert(_slug_table("categories"), [{"slug": s, "name": n} for s, n in CATEGORIES.items()])
    op.bulk_insert(_slug_table("skills"), [{"slug": s, "name": n} for s, n in SKILLS.items()])
    accounts = sa.table("accounts", sa.column("code", sa.String), sa.column("kind", sa.String))
    op.bulk_insert(accounts, [{"code": c, "kind": k} for c, k in SYSTEM_ACCOUNTS.items()])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM accounts WHERE code IN ('external:funding', 'platform:fees')"))
    op.execute(sa.text("DELETE FROM skills"))
    op.execute(sa.text("DELETE FROM categories"))
