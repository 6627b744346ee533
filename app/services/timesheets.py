"""Timesheets after the shift: the worker submits hours, the client approves them or marks a no-show; the
scheduler does what time decides (a no-show after the grace period, approval once the review window ran out).

Callers pass the job and the timesheet locked, in that order (app.loaders); this module keeps the rules.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job, Timesheet
from app.models.enums import NotificationKind, TimesheetStatus
from app.repositories.attendance import Swept, TimesheetRepository
from app.repositories.users import UserRepository
from app.schemas.attendance import TimesheetSubmit
from app.services.changes import user_links
from app.services.notifications import notify
from app.services.shifts import require_active
from app.settings import Settings


def review_deadline(timesheet: Timesheet, settings: Settings) -> datetime:
    """When the client's review window of a submitted timesheet ends (then the scheduler approves it)."""
    assert timesheet.submitted_at is not None
    return timesheet.submitted_at + timedelta(minutes=settings.timesheet_review_minutes)


class TimesheetService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.session = session  # for notify(): notifications are written in the event's own transaction
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
        await notify(
            self.session,
            NotificationKind.timesheet_submitted,
            [job.client_id],
            actor=timesheet.worker_id,
            title=f"{timesheet.worker.full_name} submitted {data.minutes} min for {job.title}",
            link=f"/jobs/{job.id}",
            data=about(timesheet),
        )
        return timesheet

    async def approve(self, job: Job, timesheet: Timesheet) -> Timesheet:
        require_active(job)
        if timesheet.status != TimesheetStatus.submitted:
            raise Conflict(f"This timesheet is {timesheet.status}; only a submitted timesheet is approved.")
        timesheet.status = TimesheetStatus.approved
        timesheet.approved_minutes = timesheet.claimed_minutes
        await self.timesheets.flush()
        await self._approved(job.id, job.title, about(timesheet), timesheet.worker_id, actor=job.client_id)
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
        await self._no_show(job.id, job.title, about(timesheet), timesheet.worker_id, actor=job.client_id)
        return Change(timesheet, users=[await user_links(self.users, timesheet.worker_id)])

    async def _approved(
        self, job_id: int, title: str, data: dict[str, Any], worker_id: int, *, actor: int | None
    ) -> None:
        """The client approved (`actor`), or the scheduler did once the review window ran out (no actor)."""
        await notify(
            self.session,
            NotificationKind.timesheet_approved,
            [worker_id],
            actor=actor,
            title=f"Your timesheet for {title} was approved",
            body="" if actor else "The client did not review it in time, so it was approved as you submitted it.",
            link=f"/jobs/{job_id}",
            data=data,
        )

    async def _no_show(
        self, job_id: int, title: str, data: dict[str, Any], worker_id: int, *, actor: int | None
    ) -> None:
        """The client marked it (`actor`), or the scheduler did once the grace period passed (no actor)."""
        await notify(
            self.session,
            NotificationKind.no_show,
            [worker_id],
            actor=actor,
            title=f"You were marked a no-show for a shift of {title}",
            link=f"/jobs/{job_id}",
            data=data,
        )

    # What time decides (the scheduler's tick tasks, app/tasks/shifts.py): idempotent sweeps, each event
    # notified in the sweep's transaction.

    async def mark_overdue_no_shows(self, now: datetime) -> int:
        marked = await self.timesheets.mark_no_shows(now, timedelta(minutes=self.settings.no_show_grace_minutes))
        for t in marked:
            await self._no_show(t.job_id, t.job_title, swept(t), t.worker_id, actor=None)
        return len(marked)

    async def approve_unreviewed(self, now: datetime) -> int:
        window = timedelta(minutes=self.settings.timesheet_review_minutes)
        approved = await self.timesheets.approve_overdue(now, window)
        for t in approved:
            await self._approved(t.job_id, t.job_title, swept(t), t.worker_id, actor=None)
        return len(approved)


def about(timesheet: Timesheet) -> dict[str, Any]:
    """A timesheet notification's data: the ids it is about."""
    return {"job_id": timesheet.job_id, "shift_id": timesheet.shift_id, "timesheet_id": timesheet.id}


def swept(t: Swept) -> dict[str, Any]:
    return {"job_id": t.job_id, "shift_id": t.shift_id, "timesheet_id": t.timesheet_id}
