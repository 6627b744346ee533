"""The task queue against real PostgreSQL and real worker processes (tests/task_app.py holds the tasks).

Workers are separate processes (`python -m tests.task_worker`, or the real `marketplace` command) on a
database of this module's own, since they only see committed rows.
"""

import asyncio
import datetime
import itertools
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import croniter
import httpx
import pytest
from procrastinate.exceptions import AlreadyEnqueued
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.cli import ROOT
from app.db import create_engine
from app.settings import Settings
from app.tasks import cron_every, defer
from tests.conftest import _server_url, scratch_database
from tests.task_app import TASK_RUNS, fail_once, hang_first, record

T = TypeVar("T")


@pytest.fixture(scope="module")
def tasks_url() -> Iterator[str]:
    with scratch_database(_server_url(), "marketplace_tasks") as url:
        yield url


@pytest.fixture
async def tasks_engine(tasks_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(tasks_url, settings.model_copy(update={"db_pool_size": 2}))
    async with engine.begin() as conn:
        await conn.execute(text(TASK_RUNS))
        await conn.execute(
            text(
                "TRUNCATE task_runs, procrastinate_jobs, procrastinate_periodic_defers, procrastinate_workers"
                " RESTART IDENTITY CASCADE"
            )
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(tasks_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(tasks_engine, expire_on_commit=False)


async def rows(tasks_engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with tasks_engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def _none(found: Awaitable[list[Any]]) -> bool:
    return not await found


async def eventually(check: Callable[[], Awaitable[T | None]], seconds: float = 20) -> T:
    """The first truthy result of `check`, polled (other processes change the database) for `seconds`."""
    async with asyncio.timeout(seconds):
        while not (result := await check()):  # noqa: ASYNC110 (other processes change the database)
            await asyncio.sleep(0.1)
    return result


async def jobs_left(tasks_engine: AsyncEngine, task_name: str) -> list[Any]:
    """The jobs of `task_name` still in the queue: a succeeded job is deleted, a failed one stays."""
    return await rows(tasks_engine, "SELECT status FROM procrastinate_jobs WHERE task_name = :t", t=task_name)


async def workers_registered(tasks_engine: AsyncEngine, count: int) -> None:
    async def check() -> bool:
        return len(await rows(tasks_engine, "SELECT id FROM procrastinate_workers")) == count

    await eventually(check)


class Processes:
    """Worker processes started by a test; whatever still runs at the end is stopped with SIGTERM."""

    def __init__(self, url: str, logs: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "APP_DATABASE_URL": url,
            "APP_ENVIRONMENT": "test",
            "APP_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
            "APP_DB_POOL_SIZE": "2",
            **env,
        }
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"process-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.started.append(process)
        return process

    def worker(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start("tests.task_worker", "--concurrency", str(concurrency))

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("process-*.log")))


@contextmanager
def processes(url: str, logs: Path, **env: str) -> Iterator[Processes]:
    group = Processes(url, logs, **env)
    try:
        yield group
    finally:
        group.stop()


# --- deferring inside the request's transaction -------------------------------------------------------------


async def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        await defer(session, record, key="rolled-back")
        await session.rollback()
    assert await rows(tasks_engine, "SELECT id FROM procrastinate_jobs") == []


async def test_a_job_deferred_in_a_committed_transaction_exists_once(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        job_id = await defer(session, record, key="committed")
    assert await rows(tasks_engine, "SELECT id, task_name, args->>'key', status FROM procrastinate_jobs") == [
        (job_id, "tests.record", "committed", "todo")
    ]


async def test_a_refused_job_leaves_the_transaction_usable(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        deferrer = record.configure(connection=session, queueing_lock="only-one")
        await deferrer.defer_async(key="first")
        with pytest.raises(AlreadyEnqueued):
            await record.configure(connection=session, queueing_lock="only-one").defer_async(key="second")
        await session.execute(text("INSERT INTO task_runs (key, attempt, pid) VALUES ('after', 0, 0)"))
    assert await rows(tasks_engine, "SELECT args->>'key' FROM procrastinate_jobs") == [("first",)]
    assert await rows(tasks_engine, "SELECT key FROM task_runs") == [("after",)]


# --- workers ---------------------------------------------------------------------------------------------------


async def test_a_job_deferred_while_no_worker_runs_is_run_by_a_worker_started_later(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tasks_url: str, tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        await defer(session, record, key="durable")
    with processes(tasks_url, tmp_path) as group:
        group.worker()

        async def ran() -> list[Any]:
            return await rows(tasks_engine, "SELECT key FROM task_runs WHERE key NOT LIKE 'tick:%'")

        assert await eventually(ran) == [("durable",)], group.output()
        await eventually(lambda: _none(jobs_left(tasks_engine, "tests.record")))


async def test_a_failing_job_is_retried_after_its_backoff_and_succeeds(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tasks_url: str, tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        await defer(session, fail_once, key="flaky")
    with processes(tasks_url, tmp_path) as group:
        group.worker()

        async def ran_twice() -> list[Any] | None:
            runs = await rows(tasks_engine, "SELECT attempt, run_at FROM task_runs WHERE key = 'flaky' ORDER BY id")
            return runs if len(runs) == 2 else None

        runs = await eventually(ran_twice)
        await eventually(lambda: _none(jobs_left(tasks_engine, "tests.fail_once")))  # it succeeded
    assert [attempt for attempt, _ in runs] == [0, 1]
    assert runs[1][1] - runs[0][1] >= datetime.timedelta(seconds=1)  # RetryStrategy(wait=1)


async def test_two_workers_run_each_of_many_jobs_exactly_once(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tasks_url: str, tmp_path: Path
) -> None:
    with processes(tasks_url, tmp_path) as group:
        group.worker(concurrency=4)
        group.worker(concurrency=4)
        await workers_registered(tasks_engine, 2)
        async with sessions() as session, session.begin():
            for n in range(100):
                await defer(session, record, key=f"job-{n}")

        await eventually(lambda: _none(jobs_left(tasks_engine, "tests.record")), seconds=30)
    runs = await rows(tasks_engine, "SELECT key, pid FROM task_runs WHERE key LIKE 'job-%'")
    assert sorted(key for key, _ in runs) == sorted(f"job-{n}" for n in range(100))
    assert len({pid for _, pid in runs}) == 2  # both workers took jobs


async def test_two_workers_run_each_scheduler_tick_once(
    tasks_engine: AsyncEngine, tasks_url: str, tmp_path: Path
) -> None:
    with processes(tasks_url, tmp_path, APP_SCHEDULER_INTERVAL_SECONDS="1") as group:
        group.worker(concurrency=2)
        group.worker(concurrency=2)
        await workers_registered(tasks_engine, 2)
        await asyncio.sleep(3.5)
    ticks = [key for (key,) in await rows(tasks_engine, "SELECT key FROM task_runs WHERE key LIKE 'tick:%'")]
    assert len(ticks) >= 3, group.output()
    assert len(set(ticks)) == len(ticks)
    seconds = sorted(int(key.removeprefix("tick:")) for key in ticks)
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))  # one run per second, none missed


async def test_the_job_of_a_killed_worker_is_run_again_by_another(
    tasks_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tasks_url: str, tmp_path: Path
) -> None:
    settings = {"APP_SCHEDULER_INTERVAL_SECONDS": "1", "APP_WORKER_STALLED_SECONDS": "1.5"}
    with processes(tasks_url, tmp_path, **settings) as group:
        doomed = group.worker()
        async with sessions() as session, session.begin():
            await defer(session, hang_first, key="survivor")

        async def started() -> list[Any]:
            return await rows(tasks_engine, "SELECT attempt FROM task_runs WHERE key = 'survivor'")

        await eventually(started)
        doomed.kill()  # no graceful stop: the job stays `doing` with a worker that never beats again
        doomed.wait()
        group.worker()

        await eventually(lambda: _none(jobs_left(tasks_engine, "tests.hang_first")))
    assert await rows(tasks_engine, "SELECT attempt FROM task_runs WHERE key = 'survivor' ORDER BY id") == [(0,), (1,)]


# --- the commands ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_marketplace_worker_runs_until_a_signal_and_then_stops_cleanly(
    tasks_engine: AsyncEngine, tasks_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    with processes(tasks_url, tmp_path) as group:
        worker = group.start("app.cli", "worker", "--concurrency", "2")
        await workers_registered(tasks_engine, 1)
        worker.send_signal(stop)
        assert worker.wait(timeout=15) == 0, group.output()
    assert await rows(tasks_engine, "SELECT id FROM procrastinate_workers") == []  # it unregistered itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _serving(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200
    except httpx.TransportError:
        return False


async def test_marketplace_serve_runs_a_worker_beside_the_api_and_stops_both_on_sigterm(
    tasks_engine: AsyncEngine, tasks_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    with processes(tasks_url, tmp_path) as group:
        serve = group.start("app.cli", "serve", "--no-demo", "--port", str(port))
        await eventually(lambda: _serving(port))
        await workers_registered(tasks_engine, 1)
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children")
        (child,) = children.read_text().split()  # noqa: ASYNC240 (a tiny /proc file) - the worker
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 128 + signal.SIGTERM, group.output()  # as the shell reports a signal
    assert await rows(tasks_engine, "SELECT id FROM procrastinate_workers") == []  # it stopped gracefully
    with pytest.raises(ProcessLookupError):
        os.kill(int(child), 0)


async def test_marketplace_serve_no_worker_runs_only_the_api(
    tasks_engine: AsyncEngine, tasks_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    with processes(tasks_url, tmp_path) as group:
        group.start("app.cli", "serve", "--no-demo", "--no-worker", "--port", str(port))
        await eventually(lambda: _serving(port))
        await asyncio.sleep(1.5)  # a worker child would have registered by now (see the test above)
        assert await rows(tasks_engine, "SELECT id FROM procrastinate_workers") == []


# --- the schedule ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1, 30, 120, 3600])
def test_the_scheduler_cron_ticks_every_interval(seconds: int) -> None:
    start = datetime.datetime(2026, 1, 1, 0, 0, 7)
    ticks = croniter.croniter(cron_every(seconds), start)
    times = [ticks.get_next(datetime.datetime) for _ in range(4)]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [seconds] * 3


@pytest.mark.parametrize("seconds", [0, 7, 45, 90, 3601])
def test_an_interval_cron_cannot_express_is_refused(seconds: int) -> None:
    with pytest.raises(ValidationError):
        Settings(scheduler_interval_seconds=seconds)


# --- the schema ------------------------------------------------------------------------------------------------

CATALOG = {
    "functions": "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
    " WHERE p.pronamespace = 'public'::regnamespace AND starts_with(p.proname, 'procrastinate_')",
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default"
    " FROM information_schema.columns WHERE table_schema = 'public' AND starts_with(table_name, 'procrastinate_')",
    "indexes": "SELECT indexdef FROM pg_indexes"
    " WHERE schemaname = 'public' AND starts_with(tablename, 'procrastinate_')",
    "constraints": "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE starts_with(conrelid::regclass::text, 'procrastinate_')",
    "triggers": "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE starts_with(tgname, 'procrastinate_')",
    "types": "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)"  # labels in order
    " FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE starts_with(t.typname, 'procrastinate_')"
    " GROUP BY t.typname",
    "row types": "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod)"
    " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
    " WHERE c.relkind = 'c' AND a.attnum > 0 AND starts_with(c.relname, 'procrastinate_')",
}


async def _catalog(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url, Settings(database_url=url))
    try:
        async with engine.connect() as conn:
            return {name: sorted(map(tuple, (await conn.execute(text(sql))).all())) for name, sql in CATALOG.items()}
    finally:
        await engine.dispose()


async def test_the_migrations_build_the_installed_procrastinates_schema(tasks_url: str) -> None:
    """Fails when procrastinate is upgraded without a migration applying its new SQL files (see 0005)."""
    from procrastinate.schema import SchemaManager

    from tests.conftest import _asyncpg_dsn

    name = f"procrastinate_schema_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(**{**_asyncpg_dsn(tasks_url), "database": "postgres"})
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        reference = await asyncpg.connect(**{**_asyncpg_dsn(tasks_url), "database": name})
        try:
            await reference.execute(SchemaManager.get_schema())  # what `procrastinate schema --apply` creates
        finally:
            await reference.close()
        reference_url = make_url(tasks_url).set(database=name).render_as_string(hide_password=False)
        expected, migrated = await _catalog(reference_url), await _catalog(tasks_url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert all(expected.values())
    assert migrated == expected
