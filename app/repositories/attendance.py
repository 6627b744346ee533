"""Shifts, timesheets and disputes: the SQL of shift work, the scheduler's sweeps included."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CTE, Integer, cast, delete, exists, extract, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from app.models import Dispute, Job, Shift, Timesheet, User
from app.models.enums import DisputeStatus, JobStatus, TimesheetStatus
from app.repositories.base import Repository, SortKey

# A timesheet in one of these needs nothing more before the job can be paid.
SETTLED = (TimesheetStatus.approved, TimesheetStatus.resolved, TimesheetStatus.no_show)
ACTIVE_JOB = (JobStatus.open, JobStatus.in_progress)


@dataclass(frozen=True)
class Attendance:
    """One hired worker's timesheets on a job, summed for pay."""

    approved_minutes: int
    shifts: int
    no_shows: int


@dataclass(frozen=True)
class Swept:
    """A timesheet a sweep changed, with what its notification names."""

    timesheet_id: int
    job_id: int
    shift_id: int
    worker_id: int
    job_title: str


@dataclass(frozen=True)
class Reminder:
    """A shift claimed for its "starting soon" reminder, and the workers to remind."""

    shift_id: int
    job_id: int
    job_title: str
    worker_ids: list[int]


class ShiftRepository(Repository[Shift]):
    model = Shift

    async def get_first_start(self, job_id: int) -> datetime | None:
        first: datetime | None = await self.session.scalar(
            select(func.min(Shift.starts_at)).where(Shift.job_id == job_id)
        )
        return first

    async def claim_reminders(self, now: datetime, ahead: timedelta) -> list[Reminder]:
        """Shifts of active jobs starting within `ahead` and not reminded yet, with a worker still to check in:
        marked reminded (once only: a second run, or one overlapping it, finds them marked or locked) and
        returned with those workers, in one statement."""
        due = (
            select(Shift.id)
            .join(Job, Job.id == Shift.job_id)
            .where(
                Shift.reminded_at.is_(None),
                Shift.starts_at > now,
                Shift.starts_at <= now + ahead,
                Job.status.in_(ACTIVE_JOB),
                exists().where(Timesheet.shift_id == Shift.id, Timesheet.status == TimesheetStatus.scheduled),
            )
            .order_by(Shift.id)
            .with_for_update(of=Shift, skip_locked=True)
        )
        claimed = (
            update(Shift)
            .where(Shift.id.in_(due.scalar_subquery()), Shift.reminded_at.is_(None))
            .values(reminded_at=now)
            .returning(Shift.id, Shift.job_id)
            .cte("claimed")
        )
        stmt = (
            select(claimed.c.id, claimed.c.job_id, Job.title, func.array_agg(Timesheet.worker_id))
            .join(Job, Job.id == claimed.c.job_id)
            .join(Timesheet, Timesheet.shift_id == claimed.c.id)
            .where(Timesheet.status == TimesheetStatus.scheduled)
            .group_by(claimed.c.id, claimed.c.job_id, Job.title)
            .order_by(claimed.c.id)
        )
        return [Reminder(s, j, t, sorted(w)) for s, j, t, w in await self.session.execute(stmt)]


class TimesheetRepository(Repository[Timesheet]):
    model = Timesheet

    async def get_detail(self, timesheet_id: int, *, for_update: bool = False) -> Timesheet | None:
        """The timesheet with its job, shift and worker (the loaders check the caller against the job)."""
        options = (joinedload(Timesheet.job), joinedload(Timesheet.shift), joinedload(Timesheet.worker))
        return await self.get(timesheet_id, *options, for_update=for_update)

    async def get_for_shift(self, shift_id: int, worker_id: int) -> Timesheet | None:
        """The worker's timesheet of the shift, locked (check-in, check-out)."""
        stmt = (
            select(Timesheet)
            .options(joinedload(Timesheet.shift), joinedload(Timesheet.worker))
            .where(Timesheet.shift_id == shift_id, Timesheet.worker_id == worker_id)
            .with_for_update(of=Timesheet)
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def add_for_worker(self, job_id: int, worker_id: int) -> None:
        """One scheduled timesheet per shift of the job for a newly hired worker (a worker hired again keeps the
        no-shows of their first hiring)."""
        minutes = cast(extract("epoch", Shift.ends_at - Shift.starts_at) / 60, Integer)
        rows = select(Shift.job_id, Shift.id, literal(worker_id), minutes).where(Shift.job_id == job_id)
        await self.session.execute(
            insert(Timesheet)
            .from_select(["job_id", "shift_id", "worker_id", "scheduled_minutes"], rows)
            .on_conflict_do_nothing(constraint="uq_timesheets_shift_worker")
        )

    async def list_by_job(self, job_id: int, worker_id: int | None) -> list[tuple[Timesheet, int | None]]:
        """A job's timesheets (one worker's with `worker_id`) by shift and worker, each with its dispute's id."""
        stmt = (
            select(Timesheet, Dispute.id)
            .outerjoin(Dispute, Dispute.timesheet_id == Timesheet.id)
            .options(joinedload(Timesheet.worker))
            .where(Timesheet.job_id == job_id)
            .order_by(Timesheet.shift_id, Timesheet.worker_id)
        )
        if worker_id is not None:
            stmt = stmt.where(Timesheet.worker_id == worker_id)
        return [(row[0], row[1]) for row in await self.session.execute(stmt)]

    async def list_statuses_locked(self, job_id: int, worker_id: int) -> list[str]:
        """Lock a worker's timesheets of a job (in id order, like every multi-row lock) and return their states."""
        stmt = (
            select(Timesheet.status)
            .where(Timesheet.job_id == job_id, Timesheet.worker_id == worker_id)
            .order_by(Timesheet.id)
            .with_for_update()
        )
        return list(await self.session.scalars(stmt))

    async def delete_scheduled(self, job_id: int, worker_id: int | None = None) -> None:
        """Drop timesheets nobody started: a worker's (their cancellation) or a job's (its cancellation)."""
        stmt = delete(Timesheet).where(Timesheet.job_id == job_id, Timesheet.status == TimesheetStatus.scheduled)
        if worker_id is not None:
            stmt = stmt.where(Timesheet.worker_id == worker_id)
        await self.session.execute(stmt)

    async def has_check_in(self, job_id: int) -> bool:
        found = await self.session.scalar(
            select(exists().where(Timesheet.job_id == job_id, Timesheet.checked_in_at.is_not(None)))
        )
        return bool(found)

    async def list_unsettled(self, job_id: int, limit: int = 5) -> list[Timesheet]:
        """Timesheets that keep the job from completing (not approved, resolved or a no-show)."""
        stmt = (
            select(Timesheet)
            .where(Timesheet.job_id == job_id, Timesheet.status.not_in(SETTLED))
            .order_by(Timesheet.shift_id, Timesheet.worker_id)
            .limit(limit)
        )
        return list(await self.session.scalars(stmt))

    async def list_attendance(self, job_id: int) -> dict[int, Attendance]:
        """Per worker: approved (or resolved) minutes, timesheets, no-shows."""
        stmt = (
            select(
                Timesheet.worker_id,
                func.coalesce(func.sum(Timesheet.approved_minutes), 0),
                func.count(),
                func.count().filter(Timesheet.status == TimesheetStatus.no_show),
            )
            .where(Timesheet.job_id == job_id)
            .group_by(Timesheet.worker_id)
        )
        return {w: Attendance(m or 0, n, x) for w, m, n, x in await self.session.execute(stmt)}

    # The scheduler's sweeps: each is one statement over the rows whose time ran out, so running it twice
    # changes nothing the second time, and rows a request holds (SKIP LOCKED) wait for the next tick.

    async def mark_no_shows(self, now: datetime, grace: timedelta) -> list[Swept]:
        """Scheduled timesheets of active jobs whose shift started more than `grace` ago: no-shows, counted
        on each worker in the same statement. Returns them."""
        due = (
            select(Timesheet.id)
            .join(Shift, Shift.id == Timesheet.shift_id)
            .join(Job, Job.id == Timesheet.job_id)
            .where(
                Timesheet.status == TimesheetStatus.scheduled,
                Shift.starts_at + grace <= now,
                Job.status.in_(ACTIVE_JOB),
            )
            .order_by(Timesheet.id)
            .with_for_update(of=Timesheet, skip_locked=True)
        )
        marked = (
            update(Timesheet)
            .where(Timesheet.id.in_(due.scalar_subquery()), Timesheet.status == TimesheetStatus.scheduled)
            .values(status=TimesheetStatus.no_show)
            .returning(Timesheet.id, Timesheet.job_id, Timesheet.shift_id, Timesheet.worker_id)
            .cte("marked")
        )
        per_worker = select(marked.c.worker_id, func.count().label("n")).group_by(marked.c.worker_id).subquery()
        counted = (
            update(User)
            .where(User.id == per_worker.c.worker_id)
            .values(no_shows=User.no_shows + per_worker.c.n)
            .cte("counted")
        )
        return await self._swept(marked, counted)

    async def approve_overdue(self, now: datetime, window: timedelta) -> list[Swept]:
        """Submitted timesheets the client did not review within `window`: approved as claimed. Returns them."""
        due = (
            select(Timesheet.id)
            .where(Timesheet.status == TimesheetStatus.submitted, Timesheet.submitted_at + window <= now)
            .order_by(Timesheet.id)
            .with_for_update(skip_locked=True)
        )
        approved = (
            update(Timesheet)
            .where(Timesheet.id.in_(due.scalar_subquery()), Timesheet.status == TimesheetStatus.submitted)
            .values(status=TimesheetStatus.approved, approved_minutes=Timesheet.claimed_minutes)
            .returning(Timesheet.id, Timesheet.job_id, Timesheet.shift_id, Timesheet.worker_id)
            .cte("approved")
        )
        return await self._swept(approved)

    async def _swept(self, changed: CTE, *also: CTE) -> list[Swept]:
        """The rows an UPDATE ... RETURNING (`changed`) touched, with their job's title; `also` are further
        data-modifying statements of the same one (PostgreSQL runs them, referenced or not)."""
        stmt = (
            select(changed.c.id, changed.c.job_id, changed.c.shift_id, changed.c.worker_id, Job.title)
            .join(Job, Job.id == changed.c.job_id)
            .order_by(changed.c.id)
            .add_cte(*also)
        )
        return [Swept(*row) for row in await self.session.execute(stmt)]


class DisputeRepository(Repository[Dispute]):
    model = Dispute

    async def get_detail(self, dispute_id: int, *, for_update: bool = False) -> Dispute | None:
        return await self.get(dispute_id, joinedload(Dispute.worker), joinedload(Dispute.job), for_update=for_update)

    async def get_id_for_timesheet(self, timesheet_id: int) -> int | None:
        found: int | None = await self.session.scalar(select(Dispute.id).where(Dispute.timesheet_id == timesheet_id))
        return found

    async def get_open_id(self, job_id: int) -> int | None:
        """An open dispute of the job (it blocks completion and cancellation), or None."""
        found: int | None = await self.session.scalar(
            select(Dispute.id)
            .where(Dispute.job_id == job_id, Dispute.status == DisputeStatus.open)
            .order_by(Dispute.id)
            .limit(1)
        )
        return found

    async def list_by_status(
        self, statuses: Sequence[str], cursor: str | None, limit: int
    ) -> tuple[list[Dispute], str | None]:
        stmt = select(Dispute).options(joinedload(Dispute.worker)).where(Dispute.status.in_(statuses))
        rows, next_cursor = await self.paginate(
            stmt, [SortKey(Dispute.created_at, datetime), SortKey(Dispute.id, int)], cursor, limit
        )
        return [r[0] for r in rows], next_cursor
