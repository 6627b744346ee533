"""The test suite's own TaskApp and tasks (the application registers no test tasks).

Every run writes a row to `task_runs` (created by the tests), so a test sees what ran, where and when.
`python -m tests.task_worker` runs a worker for this app, as `marketplace worker` does for the application's.
"""

import asyncio
import os

from procrastinate import JobContext, RetryStrategy
from sqlalchemy import text

from app.tasks import TaskApp, worker_state

test_queue = TaskApp()

TASK_RUNS = """
CREATE TABLE IF NOT EXISTS task_runs (
    id bigserial PRIMARY KEY,
    key text NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    run_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


async def _record(context: JobContext, key: str) -> None:
    async with worker_state(context).sessionmaker() as session, session.begin():
        await session.execute(
            text("INSERT INTO task_runs (key, attempt, pid) VALUES (:key, :attempt, :pid)"),
            {"key": key, "attempt": context.job.attempts, "pid": os.getpid()},
        )


@test_queue.task(name="tests.record", pass_context=True)
async def record(context: JobContext, key: str) -> None:
    await _record(context, key)
    await asyncio.sleep(0.01)  # long enough for the other worker to take jobs too


@test_queue.task(name="tests.fail_once", pass_context=True, retry=RetryStrategy(max_attempts=2, wait=1))
async def fail_once(context: JobContext, key: str) -> None:
    await _record(context, key)
    if context.job.attempts == 0:
        raise RuntimeError("the first attempt fails")


@test_queue.task(name="tests.hang_first", pass_context=True)
async def hang_first(context: JobContext, key: str) -> None:
    await _record(context, key)
    if context.job.attempts == 0:
        await asyncio.sleep(600)  # the test kills this worker meanwhile


@test_queue.every_tick
@test_queue.task(name="tests.tick", pass_context=True)
async def tick(context: JobContext, timestamp: int) -> None:
    await _record(context, f"tick:{timestamp}")
