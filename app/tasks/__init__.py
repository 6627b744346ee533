"""Background work on procrastinate (PostgreSQL): see app/tasks/core.py and docs/background-work.md."""

from app.tasks.core import TaskApp, WorkerState, cron_every, defer, outside_task_queue, queue, worker_state
from app.tasks.worker import run_worker, work

__all__ = [
    "TaskApp",
    "WorkerState",
    "cron_every",
    "defer",
    "outside_task_queue",
    "queue",
    "run_worker",
    "work",
    "worker_state",
]
