"""Shifts: a job's schedule (its hours and period follow from it) and attendance (geofenced check-in, check-out).

Callers pass the job locked and the worker's own timesheet of the shift, locked (app.loaders.ShiftForHiredWorker).
The scheduler reminds the workers of a shift that starts within the hour (`remind_starting_shifts`).
"""

import math
from datetime import UTC, datetime, timedelta

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job, Shift, Timesheet
from app.models.enums import JobStatus, NotificationKind, PayType, TimesheetStatus
from app.repositories.attendance import ShiftRepository
from app.repositories.users import UserRepository
from app.schemas.attendance import Position
from app.schemas.jobs import ShiftCreate
from app.services.changes import user_links
from app.services.notifications import notify
from app.settings import Settings

EARTH_RADIUS_M = 6_371_008.8
CHECK_IN_OPENS = timedelta(minutes=30)  # before the shift's start
REMIND_AHEAD = timedelta(hours=1)  # a shift's workers are told it starts soon this long before


def metres_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def scheduled_minutes(shifts: list[ShiftCreate]) -> int:
    return sum(int((s.ends_at - s.starts_at).total_seconds()) // 60 for s in shifts)


def set_shifts(job: Job, shifts: list[ShiftCreate]) -> None:
    """Give the job these shifts (its shifts loaded, or a new job): its period is the first start to the last end."""
    job.shifts = [Shift(starts_at=s.starts_at, ends_at=s.ends_at) for s in shifts]
    job.starts_at, job.ends_at = shifts[0].starts_at, shifts[-1].ends_at


def fit_hours(job: Job, minutes: int, hours: int | None) -> None:
    """An hourly job with shifts is paid for their sum: `hours` comes from them (one that disagrees is a 422)."""
    if job.pay_type != PayType.hourly:
        return
    if minutes % 60:
        raise Unprocessable(f"An hourly job's shifts must add up to whole hours (they add up to {minutes} minutes).")
    if hours is not None and hours != minutes // 60:
        raise Unprocessable(f"hours must equal the shifts' total ({minutes // 60}), or be left out.")
    job.hours = minutes // 60


def is_late(first_start: datetime | None, now: datetime, settings: Settings) -> bool:
    """Less than APP_LATE_CANCEL_HOURS before the first shift (or after it started); never without shifts."""
    return first_start is not None and now > first_start - timedelta(hours=settings.late_cancel_hours)


class ShiftService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.session = session  # for notify(): notifications are written in the event's own transaction
        self.users = UserRepository(session)
        self.shifts = ShiftRepository(session)
        self.settings = settings

    async def check_in(self, job: Job, timesheet: Timesheet, at: Position) -> Change[Timesheet]:
        now = datetime.now(UTC)
        require_active(job)
        if timesheet.status != TimesheetStatus.scheduled:
            raise Conflict(f"This timesheet is {timesheet.status}; a shift is checked in to once.")
        shift = timesheet.shift
        if not shift.starts_at - CHECK_IN_OPENS <= now <= shift.ends_at:
            raise Conflict(
                f"Check-in is open from 30 minutes before the shift's start ({shift.starts_at.isoformat()})"
                f" until its end ({shift.ends_at.isoformat()})."
            )
        if job.lat is not None and job.lng is not None:
            distance = metres_between(job.lat, job.lng, at.lat, at.lng)
            if distance > self.settings.checkin_radius_m:
                raise Unprocessable(
                    f"You are {round(distance)} m from the job's location; check in within"
                    f" {self.settings.checkin_radius_m} m."
                )
        timesheet.status = TimesheetStatus.checked_in
        timesheet.checked_in_at = now
        timesheet.check_in_lat, timesheet.check_in_lng = at.lat, at.lng
        await self.users.count_attendance(timesheet.worker_id, attended=1)
        await self.users.flush()
        await self._tell_owner(NotificationKind.checked_in, job, timesheet, "checked in to")
        # attended counts in the worker's reliability: their profile and the rankings that embed it
        return Change(timesheet, users=[await user_links(self.users, timesheet.worker_id)])

    async def check_out(self, job: Job, timesheet: Timesheet, at: Position) -> Timesheet:
        require_active(job)
        if timesheet.status != TimesheetStatus.checked_in:
            raise Conflict(f"This timesheet is {timesheet.status}; check out after checking in.")
        assert timesheet.checked_in_at is not None
        now = max(datetime.now(UTC), timesheet.checked_in_at)
        timesheet.status = TimesheetStatus.checked_out
        timesheet.checked_out_at = now
        timesheet.check_out_lat, timesheet.check_out_lng = at.lat, at.lng
        timesheet.recorded_minutes = int((now - timesheet.checked_in_at).total_seconds()) // 60
        await self.users.flush()
        await self._tell_owner(NotificationKind.checked_out, job, timesheet, "checked out of")
        return timesheet

    async def remind_starting_shifts(self, now: datetime) -> int:
        """The scheduler's tick (app/tasks/shifts.py): tell the workers still to check in to a shift that starts
        within the hour. Each shift once only (its `reminded_at`, set in this transaction)."""
        reminders = await self.shifts.claim_reminders(now, REMIND_AHEAD)
        for r in reminders:
            await notify(
                self.session,
                NotificationKind.shift_starting,
                r.worker_ids,
                actor=None,
                title=f"Your shift for {r.job_title} starts within the hour",
                link=f"/jobs/{r.job_id}",
                data={"job_id": r.job_id, "shift_id": r.shift_id},
            )
        return len(reminders)

    async def _tell_owner(self, kind: NotificationKind, job: Job, timesheet: Timesheet, did: str) -> None:
        await notify(
            self.session,
            kind,
            [job.client_id],
            actor=timesheet.worker_id,
            title=f"{timesheet.worker.full_name} {did} a shift of {job.title}",
            link=f"/jobs/{job.id}",
            data={"job_id": job.id, "shift_id": timesheet.shift_id, "timesheet_id": timesheet.id},
        )


def require_active(job: Job) -> None:
    """Attendance happens while the job is open or in progress."""
    if job.status not in (JobStatus.open, JobStatus.in_progress):
        raise Conflict(f"This job is {job.status}; its shifts and timesheets are closed.")
