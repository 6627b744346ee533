"""The shift sweeps through a real `marketplace worker` on a database of its own: the scheduler's tick marks
the no-show (with the grace turned down to 0 and a one-second tick, so no long wait) and reminds the worker
of a shift starting within the hour, each with its notification."""

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.test_tasks import eventually, processes, rows, tasks_engine, tasks_url  # noqa: F401 - fixtures

ARRANGE = [
    "INSERT INTO users (email, password_hash, full_name, role) VALUES"
    " ('tick-client@test.example', 'x', 'C', 'client'), ('tick-worker@test.example', 'x', 'W', 'worker')",
    "INSERT INTO jobs (client_id, category_id, title, pay_type, pay_rate_minor, total_cost_minor, status,"
    " hired_count) SELECT u.id, (SELECT min(id) FROM categories), 'Ticking', 'fixed', 1000, 1000, 'in_progress', 1"
    " FROM users u WHERE u.email = 'tick-client@test.example'",
    "INSERT INTO shifts (job_id, starts_at, ends_at) SELECT id, now() - interval '1 hour', now() + interval '1 hour'"
    " FROM jobs WHERE title = 'Ticking'",
    "INSERT INTO shifts (job_id, starts_at, ends_at) SELECT id, now() + interval '30 minutes', now()"
    " + interval '150 minutes' FROM jobs WHERE title = 'Ticking'",
    "INSERT INTO timesheets (job_id, shift_id, worker_id, scheduled_minutes) SELECT s.job_id, s.id, u.id, 120"
    " FROM shifts s, users u WHERE u.email = 'tick-worker@test.example'",
]


async def test_a_real_worker_marks_the_no_show_on_its_tick(
    tasks_engine: AsyncEngine,  # noqa: F811
    tasks_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with tasks_engine.begin() as conn:
        for sql in ARRANGE:
            await conn.exec_driver_sql(sql)
    env = {"APP_SCHEDULER_INTERVAL_SECONDS": "1", "APP_NO_SHOW_GRACE_MINUTES": "0"}
    with processes(tasks_url, tmp_path, **env) as group:
        group.start("app.cli", "worker")

        async def notified() -> list[object] | None:
            found = await rows(tasks_engine, "SELECT kind FROM notifications ORDER BY kind")
            return found if len(found) == 2 else None

        assert await eventually(notified) == [("no_show",), ("shift_starting",)]
    assert await rows(tasks_engine, "SELECT status FROM timesheets ORDER BY shift_id") == [("no_show",), ("scheduled",)]
    assert await rows(tasks_engine, "SELECT no_shows FROM users WHERE email = 'tick-worker@test.example'") == [(1,)]
    assert await rows(tasks_engine, "SELECT count(*) FROM shifts WHERE reminded_at IS NOT NULL") == [(1,)]
