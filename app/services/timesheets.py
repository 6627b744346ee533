"""Timesheets after the shift: the worker submits hours, the client approves them or marks a no-show; the
scheduler does what time decides (a no-show after the grace period, approval once the review window ran out).

Callers pass the job and the timesheet locked, in that order (app.loaders); this module keeps the rules.
"""

from datetime import UTC, datetime, timedelta

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job, Timesheet
from app.models.enums import TimesheetStatus
from app.repositories.attendance import TimesheetRepository
from app.repositories.users import UserRepository
from app.schemas.attendance import TimesheetSubmit
from app.services.changes import user_links
from app.services.shifts import require_active
from app.settings import Settings


def review_deadline(timesheet: Timesheet, settings: Settings) -> datetime:
    """When the client's review window of a submitted timesheet ends (then the scheduler approves it)."""
    assert timesheet.submitted_at is not None
    return timesheet.submitted_at + timedelta(minutes=settings.timesheet_review_minutes)


class TimesheetService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.timesheets = TimesheetRepository(session)
        self.users = UserRepository(session)
        self.settings = settings

    async def submit(self, job: Job, timesheet: Timesheet, data: TimesheetSubmit) -> Timesheet:
        require_active(job)
        if timesheet.status != TimesheetStatus.checked_out:
            raise Conflict(f"This timesheet is {timesheet.status}; hours are submitted once, after check-out.")
        if data.minutes > timesheet.scheduled_minutes:
            raise Unprocessable(f"minutes must be at most the shift's scheduled {timesheet.scheduled_minutes}.")
        timesheet.status = TimesheetStatus.submitted
        timesheet.submitted_at = datetime.now(UTC)
        timesheet.claimed_minutes = data.minutes
        timesheet.note = data.note
        await self.timesheets.flush()
        return timesheet

    async def approve(self, job: Job, timesheet: Timesheet) -> Timesheet:
        require_active(job)
        if timesheet.status != TimesheetStatus.submitted:
            raise Conflict(f"This timesheet is {timesheet.status}; only a submitted timesheet is approved.")
        timesheet.status = TimesheetStatus.approved
        timesheet.approved_minutes = timesheet.claimed_minutes
        await self.timesheets.flush()
        return timesheet

    async def mark_no_show(self, job: Job, timesheet: Timesheet) -> Change[Timesheet]:
        require_active(job)
        if timesheet.status != TimesheetStatus.scheduled:
            raise Conflict(f"This timesheet is {timesheet.status}; only a shift nobody checked in to is a no-show.")
        due = timesheet.shift.starts_at + timedelta(minutes=self.settings.no_show_grace_minutes)
        if datetime.now(UTC) < due:
            raise Conflict(f"A no-show can be marked from {due.isoformat()} (the start plus the grace period).")
        timesheet.status = TimesheetStatus.no_show
        await self.users.count_attendance(timesheet.worker_id, no_shows=1)
        await self.timesheets.flush()
        return Change(timesheet, users=[await user_links(self.users, timesheet.worker_id)])

    # What time decides (the scheduler's tick tasks, app/tasks/shifts.py): idempotent sweeps.

    async def mark_overdue_no_shows(self, now: datetime) -> int:
        return await self.timesheets.mark_no_shows(now, timedelta(minutes=self.settings.no_show_grace_minutes))

    async def approve_unreviewed(self, now: datetime) -> int:
        return await self.timesheets.approve_overdue(now, timedelta(minutes=self.settings.timesheet_review_minutes))
