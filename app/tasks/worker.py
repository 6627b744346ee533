"""Run a procrastinate worker for a `TaskApp`, with its pool, engine and schedule built from the settings."""

import asyncio
import os
import signal
import socket
from collections.abc import Coroutine
from typing import Any

from procrastinate.app import WorkerOptions
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url
from typing_extensions import Unpack

from app.db import create_engine, create_sessionmaker, database_url
from app.live import build_live
from app.settings import Settings
from app.tasks.core import TaskApp, WorkerState


def libpq_url(url: str) -> str:
    """The SQLAlchemy (asyncpg) URL of the settings as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def work(app: TaskApp, settings: Settings, **options: Unpack[WorkerOptions]) -> None:
    """Run a worker in this process until SIGINT or SIGTERM (`marketplace worker`)."""
    asyncio.run(_until_signalled(run_worker(app, settings, **options)))


async def _until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Await `work`; the first SIGINT/SIGTERM cancels it, which procrastinate turns into a graceful stop.

    Installed before anything else (procrastinate's own handlers would come only once the worker runs), so
    a signal during start-up is graceful too. A second signal cancels the running jobs.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise


async def run_worker(app: TaskApp, settings: Settings, **options: Unpack[WorkerOptions]) -> None:
    """Work until cancelled (cancelling stops fetching and lets the running jobs finish).

    Each worker also defers the scheduler ticks; the database keeps a tick from being deferred twice.
    """
    url = database_url(settings)
    app.perform_import_paths()  # type: ignore[no-untyped-call]  # the tasks' modules register tick tasks
    app.schedule_ticks(settings.scheduler_interval_seconds)
    engine = create_engine(url, settings)
    live = build_live(settings, listen=False)  # tasks' notifications reach the API processes' streams
    # One connection per running job, plus the fetch loop, the heartbeat and the periodic deferrer.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=options.get("concurrency", 1) + 3,
        open=False,
        check=AsyncConnectionPool.check_connection,
    )
    stalled = settings.worker_stalled_seconds
    sessionmaker = create_sessionmaker(engine, info={"live": live})
    worker_options: WorkerOptions = {
        "name": f"{socket.gethostname()}:{os.getpid()}",
        "additional_context": {"state": WorkerState(settings=settings, sessionmaker=sessionmaker)},
        "update_heartbeat_interval": stalled / 3,
        "stalled_worker_timeout": stalled,
        "delete_jobs": "successful",  # the queue keeps what needs a look (failed jobs), not history
        "install_signal_handlers": False,  # `work` handles the signals from the start
        **options,
    }
    try:
        await pool.open(wait=True)
        async with app.open_async(pool):
            await app.run_worker_async(**worker_options)
    finally:
        await pool.close()
        await live.close()
        await engine.dispose()
