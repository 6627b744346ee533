"""The task queue's schema (procrastinate), read from the installed package at migration time.

procrastinate ships its schema as an ordered series of SQL migration files (the ones its own Django
integration applies, one by one). This revision applies every file up to and including `LAST_FILE`, the last
one of procrastinate 3.10, so the result never depends on which version happens to be installed (its
`schema.sql` would). When procrastinate is upgraded, a new revision applies the files after this `LAST_FILE`
the same way (its release notes say which `pre`/`post` files bracket a rolling deploy of the workers).

Each file commits on its own: a file may add an enum value that a later file uses, which PostgreSQL allows
only once the value is committed. A failure halfway leaves a partial procrastinate schema; the downgrade
removes whatever part exists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from importlib import resources

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAST_FILE = "03.04.00_50_post_add_retry_failed_job_procedure.sql"


def _run_script(sql: str) -> None:
    # asyncpg's simple-query protocol runs a multi-statement script (SQLAlchemy would prepare one statement).
    asyncpg_connection = op.get_bind().connection.driver_connection
    assert asyncpg_connection is not None
    await_only(asyncpg_connection.execute(sql))


def upgrade() -> None:
    folder = resources.files("procrastinate.sql") / "migrations"
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql") and f.name <= LAST_FILE)
    if LAST_FILE not in files:
        raise RuntimeError(f"the installed procrastinate has no {LAST_FILE}; it is older than this migration")
    with op.get_context().autocommit_block():
        for name in files:
            _run_script((folder / name).read_text(encoding="utf-8"))


def downgrade() -> None:
    # Everything procrastinate created carries its prefix: functions (and their triggers), tables, types.
    op.execute(
        """
        DO $$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                     WHERE p.pronamespace = current_schema()::regnamespace
                       AND starts_with(p.proname, 'procrastinate_')
            LOOP
                EXECUTE 'DROP FUNCTION ' || r.signature || ' CASCADE';
            END LOOP;
            FOR r IN SELECT c.relname FROM pg_class c
                     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
                       AND starts_with(c.relname, 'procrastinate_')
            LOOP
                EXECUTE format('DROP TABLE %I CASCADE', r.relname);
            END LOOP;
            FOR r IN SELECT t.typname FROM pg_type t
                     WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN ('e', 'c')
                       AND starts_with(t.typname, 'procrastinate_')
            LOOP
                EXECUTE format('DROP TYPE %I CASCADE', r.typname);
            END LOOP;
        END $$;
        """
    )
