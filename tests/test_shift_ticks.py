"""The shift sweeps through a real `marketplace worker` on a database of its own: the scheduler's tick marks
the no-show (with the grace turned down to 0 and a one-second tick, so no long wait)."""

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

        async def marked() -> list[object] | None:
            found = await rows(tasks_engine, "SELECT status FROM timesheets WHERE status = 'no_show'")
            return found or None

        await eventually(marked)
    assert await rows(tasks_engine, "SELECT no_shows FROM users WHERE email = 'tick-worker@test.example'") == [(1,)]
