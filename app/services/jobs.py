"""Job lifecycle: post, edit while open (its location until someone applies), cancel (refunding escrow),
complete (releasing escrow).

Callers pass jobs the caller owns, already locked (app.loaders.JobForOwner); this module keeps the rules.
"""

from datetime import UTC, datetime

from sqlalchemy import func

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job
from app.models.enums import EscrowStatus, JobStatus, NotificationKind, PayType
from app.repositories.applications import ApplicationRepository
from app.repositories.attendance import Attendance, DisputeRepository, ShiftRepository, TimesheetRepository
from app.repositories.catalog import CategoryRepository, SkillRepository
from app.repositories.jobs import JobRepository
from app.repositories.users import UserRepository
from app.schemas.jobs import JobCreate, JobUpdate
from app.security import Principal
from app.services.catalog import category_named, skills_named
from app.services.changes import user_links
from app.services.notifications import notify
from app.services.payments import PaymentService, share_of
from app.services.shifts import fit_hours, is_late, scheduled_minutes, set_shifts
from app.settings import Settings

ACTIVE = (JobStatus.open, JobStatus.in_progress)


def total_cost(pay_type: str, pay_rate_minor: int, hours: int | None, openings: int) -> int:
    """pay_rate x (hours if hourly) x openings."""
    hours_factor = hours if pay_type == PayType.hourly and hours is not None else 1
    return pay_rate_minor * hours_factor * openings


def earned(job: Job, hired: list[tuple[int, int | None]], attendance: dict[int, Attendance]) -> dict[int, int]:
    """What each hired worker earned, before the fee: a resolved work dispute's award; else without shifts
    their share; with shifts, hourly: floor(approved minutes x rate / 60), fixed: share x attended / shifts."""
    share, shifts = share_of(job), len(job.schedule)
    pay = {}
    for worker, award in hired:
        if award is not None:
            pay[worker] = award
        elif not shifts:
            pay[worker] = share
        elif job.pay_type == PayType.hourly:
            pay[worker] = attendance[worker].approved_minutes * job.pay_rate_minor // 60
        else:
            pay[worker] = share * (shifts - attendance[worker].no_shows) // shifts
    return pay


class JobService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.jobs = JobRepository(session)
        self.categories = CategoryRepository(session)
        self.skills = SkillRepository(session)
        self.applications = ApplicationRepository(session)
        self.users = UserRepository(session)
        self.shifts = ShiftRepository(session)
        self.timesheets = TimesheetRepository(session)
        self.disputes = DisputeRepository(session)
        self.payments = PaymentService(session, settings)
        self.settings = settings
        self.session = session  # for notify(): notifications are written in the event's own transaction

    async def create(self, principal: Principal, data: JobCreate) -> Job:
        job = Job(
            client_id=principal.id,
            category=await category_named(self.categories, data.category),
            skills=await skills_named(self.skills, data.skills),
            title=data.title,
            description=data.description,
            pay_type=data.pay_type,
            pay_rate_minor=data.pay_rate_minor,
            hours=data.hours,
            openings=data.openings,
            city=data.location.city if data.location else None,
            lat=data.location.lat if data.location else None,
            lng=data.location.lng if data.location else None,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
        if data.shifts:
            set_shifts(job, data.shifts)
            fit_hours(job, scheduled_minutes(data.shifts), data.hours)
        job.total_cost_minor = total_cost(job.pay_type, job.pay_rate_minor, job.hours, job.openings)
        await self.jobs.add(job)
        return await self._reload(job)

    async def update(self, job: Job, data: JobUpdate) -> Change[Job]:
        if job.status != JobStatus.open or job.hired_count > 0:
            raise Conflict("A job can be edited only while it is open and nobody is hired.")
        given = data.model_fields_set
        reschedules_pay = "shifts" in given and PayType.hourly in (job.pay_type, data.pay_type)
        if job.escrow_status != EscrowStatus.none and (
            {"pay_type", "pay_rate_minor", "hours", "openings"} & given or reschedules_pay
        ):
            raise Conflict("The pay of a funded job cannot change.")
        changes = data.model_dump(exclude_unset=True, exclude={"category", "skills", "location", "shifts"})
        for name, value in changes.items():
            setattr(job, name, value)
        if "pay_type" in changes and job.pay_type == PayType.fixed:
            job.hours = None
        if "category" in data.model_fields_set and data.category:
            job.category_id = (await category_named(self.categories, data.category)).id
        if "location" in data.model_fields_set:
            loc = data.location
            place = (loc.city, loc.lat, loc.lng) if loc else (None, None, None)
            # Moving the job and reading best-applicants again would locate an applicant's home.
            if place != (job.city, job.lat, job.lng) and await self.applications.list_applicant_ids(job.id):
                raise Conflict("A job's location cannot change once someone has applied.")
            job.city, job.lat, job.lng = place
        if data.skills is not None:
            await self.jobs.load(job, "skills")
            job.skills = await skills_named(self.skills, data.skills)
        if "shifts" in given or (job.schedule and {"pay_type", "hours"} & given):
            await self.jobs.load(job, "shifts")
            if "shifts" in given:
                job.shifts = []
                if data.shifts:
                    set_shifts(job, data.shifts)
            if job.shifts:
                fit_hours(job, sum(shift.minutes for shift in job.shifts), data.hours)
        if (job.pay_type == PayType.hourly) != (job.hours is not None):
            raise Unprocessable("An hourly job needs hours; a fixed job has none.")
        if job.ends_at and job.starts_at and job.ends_at <= job.starts_at:
            raise Unprocessable("ends_at must be after starts_at.")
        job.total_cost_minor = total_cost(job.pay_type, job.pay_rate_minor, job.hours, job.openings)
        await self.jobs.flush()
        return await self._changed(job)

    async def cancel(self, job: Job) -> Change[Job]:
        """Cancel before any work: a funded escrow is refunded, less what a late cancellation owes the workers
        (APP_LATE_CANCEL_FEE_BPS of each hired worker's share, paid less the fee)."""
        if job.status not in ACTIVE:
            raise Conflict(f"A {job.status} job cannot be cancelled.")
        await self._no_open_dispute(job, "cancelled")
        if job.schedule and await self.timesheets.has_check_in(job.id):
            raise Conflict("Work on this job has started (a shift was checked in to): complete it instead.")
        if job.escrow_status == EscrowStatus.held:
            owed: dict[int, int] = {}
            if is_late(await self.shifts.get_first_start(job.id), datetime.now(UTC), self.settings):
                late_fee = share_of(job) * self.settings.late_cancel_fee_bps // 10_000
                owed = dict.fromkeys(await self.applications.list_hired_worker_ids(job.id), late_fee)
            await self.payments.settle(job, owed)
        if job.schedule:
            await self.timesheets.delete_scheduled(job.id)
        hired = await self.applications.list_hired_worker_ids(job.id)
        pending = await self.applications.reject_pending(job.id)
        job.status = JobStatus.cancelled
        job.cancelled_at = func.now()
        await self.jobs.flush()
        await notify(
            self.session,
            NotificationKind.job_cancelled,
            hired + pending,
            actor=job.client_id,
            title=f"{job.title} was cancelled",
            link=f"/jobs/{job.id}",
            data={"job_id": job.id},
        )
        return await self._changed(job)

    async def complete(self, job: Job) -> Change[Job]:
        """Pay the hired workers for their work (less the fee) and refund the rest of the escrow. A job with
        unfilled openings may complete (they are refunded); one with shifts once every timesheet is settled."""
        if job.status not in ACTIVE or job.escrow_status != EscrowStatus.held or job.hired_count == 0:
            raise Conflict("Only a funded job with a hired worker, open or in progress, can be completed.")
        await self._no_open_dispute(job, "completed")
        if job.schedule and (unsettled := await self.timesheets.list_unsettled(job.id)):
            waiting = ", ".join(f"{t.id} (shift {t.shift_id}, worker {t.worker_id}: {t.status})" for t in unsettled)
            raise Conflict(
                f"Every timesheet must be approved, resolved or a no-show before completion; waiting: {waiting}."
            )
        hired = await self.applications.list_hired_with_awards(job.id)
        workers = [worker for worker, _ in hired]
        attendance = await self.timesheets.list_attendance(job.id) if job.schedule else {}
        await self.payments.settle(job, earned(job, hired, attendance))
        if job.status == JobStatus.open:  # completing closes it to new applications (a full job took none)
            await self.applications.reject_pending(job.id)
        await self.users.count_completed_job([job.client_id, *workers])
        job.status = JobStatus.completed
        job.completed_at = func.now()
        await self.jobs.flush()
        await notify(
            self.session,
            NotificationKind.job_completed,
            workers,
            actor=job.client_id,
            title=f"{job.title} is completed",
            link=f"/jobs/{job.id}",
            data={"job_id": job.id},
        )
        change = await self._changed(job)
        # their completed_jobs changed, which their profiles and the pages embedding them show
        people = [await user_links(self.users, user_id) for user_id in (job.client_id, *workers)]
        return Change(change.value, applicants=change.applicants, users=people, search=True)

    async def _no_open_dispute(self, job: Job, done: str) -> None:
        if job.open_disputes and (dispute_id := await self.disputes.get_open_id(job.id)) is not None:
            raise Conflict(f"Dispute {dispute_id} is open: the job can be {done} once an admin resolved it.")

    async def _changed(self, job: Job) -> Change[Job]:
        """The job's title, status or pay changed: its search cards and every applicant's own list show it."""
        applicants = await self.applications.list_applicant_ids(job.id)
        return Change(await self._reload(job), applicants=applicants, search=True)

    async def _reload(self, job: Job) -> Job:
        """Re-read the job with its relations and server-set columns for the response."""
        job_id = job.id
        self.jobs.forget(job)
        reloaded = await self.jobs.get_detail(job_id)
        assert reloaded is not None  # locked (or just inserted) by this transaction
        return reloaded
