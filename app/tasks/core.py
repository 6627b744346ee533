"""The task queue: procrastinate on the API's PostgreSQL. Tasks, scheduler ticks, deferring in a transaction.

- Define a task on an app (`queue` is the application's): `@queue.task(name=..., retry=..., pass_context=True)`;
  a task that needs the database takes the `JobContext` and opens sessions from `worker_state(context)`.
- A task that time decides runs once per scheduler tick (`APP_SCHEDULER_INTERVAL_SECONDS`): put
  `@queue.every_tick` above `@queue.task(...)`; it receives `timestamp` (the tick, epoch seconds). Ticks
  are deduplicated in the database, so any number of workers defer each tick once.
- Defer from a service with `await defer(session, task, **kwargs)`: the job is written in the request's
  transaction, so it exists exactly when the transaction commits.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import procrastinate
from procrastinate import JobContext
from procrastinate.tasks import Task
from procrastinate.types import JSONDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typing_extensions import ParamSpec

from app.db import UnitOfWork
from app.settings import Settings
from app.tasks.connector import Connector

logger = logging.getLogger(__name__)

P = ParamSpec("P")
TaskT = TypeVar("TaskT", bound=Task[Any, Any, Any])

TICK = "tick"  # the periodic id of every scheduler tick


@dataclass(frozen=True)
class WorkerState:
    """What a worker process gives its tasks (built from the settings when the worker starts)."""

    settings: Settings
    sessionmaker: async_sessionmaker[UnitOfWork]

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """A task's transaction, as a request's: committed at the end (rolled back on an error), then its
        after-commit hooks run (live notifications publish only what was committed)."""
        async with self.sessionmaker() as session:
            async with session.begin():
                yield session
            await session.run_after_commit()


def worker_state(context: JobContext) -> WorkerState:
    state = context.additional_context["state"]
    assert isinstance(state, WorkerState)
    return state


class TaskApp(procrastinate.App):
    """A procrastinate App: nothing connects until a worker opens it with a pool built from the settings.

    `import_paths` names the modules that define its tasks (a worker imports them before it starts).
    """

    def __init__(self, *, import_paths: list[str] | None = None) -> None:
        super().__init__(connector=Connector(), import_paths=import_paths)
        self.tick_tasks: list[Task[Any, Any, Any]] = []
        self.every_tick(self.task(name="tasks.retry_stalled_jobs", pass_context=True)(self._retry_stalled_jobs))

    def every_tick(self, task: TaskT) -> TaskT:
        """Run `task` once per scheduler tick (it must take `timestamp: int`); see `schedule_ticks`."""
        self.tick_tasks.append(task)
        return task

    def schedule_ticks(self, interval_seconds: int) -> None:
        """Register the tick tasks as periodic every `interval_seconds` (once per app; a worker calls this).

        The lock keeps two runs of one tick task from overlapping; the queueing lock keeps at most one
        waiting, so ticks missed while every worker was busy or down do not pile up.
        """
        cron = cron_every(interval_seconds)
        for task in self.tick_tasks:
            if (task.name, TICK) not in self.periodic_registry.periodic_tasks:
                self.periodic_registry.register_task(
                    task=task,
                    cron=cron,
                    periodic_id=TICK,
                    configure_kwargs={"lock": task.name, "queueing_lock": task.name},
                )

    async def _retry_stalled_jobs(self, context: JobContext, timestamp: int) -> None:
        """Requeue the running jobs of workers that stopped sending heartbeats (killed, lost): at-least-once."""
        seconds = worker_state(context).settings.worker_stalled_seconds
        for job in await self.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
            logger.warning("retrying job %s (%s) of a stalled worker", job.id, job.task_name)
            await self.job_manager.retry_job(job)


def cron_every(seconds: int) -> str:
    """A cron line (croniter's sixth field is seconds) for a period that divides a minute or an hour."""
    if seconds < 60:
        return f"* * * * * */{seconds}"
    return f"*/{seconds // 60} * * * * 0"


async def defer(session: AsyncSession, task: Task[Any, Any, P], *_: P.args, **kwargs: P.kwargs) -> int:
    """Defer `task` inside `session`'s transaction; returns the job id.

    The job row is written on the session's connection (in a savepoint), so a rolled-back unit of work
    leaves no job and a committed one exactly one. For options (`schedule_in`, `queueing_lock`, ...) use
    procrastinate's own form: `task.configure(connection=session, ...).defer_async(**kwargs)`.
    """
    # Task arguments are keywords only (procrastinate's `Task.defer_async` types them the same way).
    return await task.configure(connection=session).defer_async(**cast(JSONDict, kwargs))


def outside_task_queue(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic `include_name`: procrastinate's tables come from its own SQL (migration 0005), not the models."""
    return not (name or "").startswith("procrastinate_")


# The application's tasks. Add each module that defines tasks on it to `import_paths`.
queue = TaskApp(import_paths=["app.tasks.shifts", "app.tasks.emails", "app.tasks.accounts"])
