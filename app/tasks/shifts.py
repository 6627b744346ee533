"""What time decides about shifts, once per scheduler tick: the reminder of a shift starting within the hour,
no-shows after the grace period, approval of timesheets whose review window ran out. Each is an idempotent
sweep (app/repositories/attendance.py) that notifies what it changed in its own transaction."""

import logging
from datetime import UTC, datetime

from procrastinate import JobContext

from app.services.shifts import ShiftService
from app.services.timesheets import TimesheetService
from app.tasks.core import queue, worker_state

logger = logging.getLogger(__name__)


@queue.every_tick
@queue.task(name="shifts.remind_starting_shifts", pass_context=True)
async def remind_starting_shifts(context: JobContext, timestamp: int) -> None:
    state = worker_state(context)
    async with state.unit_of_work() as session:
        reminded = await ShiftService(session, state.settings).remind_starting_shifts(datetime.now(UTC))
    if reminded:
        logger.info("reminded the workers of %d shifts starting within the hour", reminded)


@queue.every_tick
@queue.task(name="shifts.mark_no_shows", pass_context=True)
async def mark_no_shows(context: JobContext, timestamp: int) -> None:
    state = worker_state(context)
    async with state.unit_of_work() as session:
        marked = await TimesheetService(session, state.settings).mark_overdue_no_shows(datetime.now(UTC))
    if marked:
        logger.info("marked %d no-shows", marked)


@queue.every_tick
@queue.task(name="shifts.approve_unreviewed_timesheets", pass_context=True)
async def approve_unreviewed_timesheets(context: JobContext, timestamp: int) -> None:
    state = worker_state(context)
    async with state.unit_of_work() as session:
        approved = await TimesheetService(session, state.settings).approve_unreviewed(datetime.now(UTC))
    if approved:
        logger.info("approved %d timesheets whose review window ran out", approved)
