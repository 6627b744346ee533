"""Job lifecycle: post, edit while open, cancel (refunding escrow), complete (releasing escrow).

Callers pass jobs the caller owns, already locked (app.loaders.JobForOwner); this module keeps the rules.
"""

from sqlalchemy import func

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job
from app.models.enums import EscrowStatus, JobStatus, NotificationKind, PayType
from app.repositories.applications import ApplicationRepository
from app.repositories.catalog import CategoryRepository, SkillRepository
from app.repositories.jobs import JobRepository
from app.repositories.users import UserRepository
from app.schemas.jobs import JobCreate, JobUpdate
from app.security import Principal
from app.services.catalog import category_named, skills_named
from app.services.changes import user_links
from app.services.notifications import notify
from app.services.payments import PaymentService
from app.settings import Settings


def total_cost(pay_type: str, pay_rate_minor: int, hours: int | None, openings: int) -> int:
    """pay_rate x (hours if hourly) x openings."""
    hours_factor = hours if pay_type == PayType.hourly and hours is not None else 1
    return pay_rate_minor * hours_factor * openings


class JobService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.jobs = JobRepository(session)
        self.categories = CategoryRepository(session)
        self.skills = SkillRepository(session)
        self.applications = ApplicationRepository(session)
        self.users = UserRepository(session)
        self.payments = PaymentService(session, settings)
        self.session = session

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
            total_cost_minor=total_cost(data.pay_type, data.pay_rate_minor, data.hours, data.openings),
            city=data.location.city if data.location else None,
            lat=data.location.lat if data.location else None,
            lng=data.location.lng if data.location else None,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
        await self.jobs.add(job)
        return await self._reload(job)

    async def update(self, job: Job, data: JobUpdate) -> Change[Job]:
        if job.status != JobStatus.open or job.hired_count > 0:
            raise Conflict("A job can be edited only while it is open and nobody is hired.")
        if job.escrow_status != EscrowStatus.none and (
            {"pay_type", "pay_rate_minor", "hours", "openings"} & data.model_fields_set
        ):
            raise Conflict("The pay of a funded job cannot change.")
        changes = data.model_dump(exclude_unset=True, exclude={"category", "skills", "location"})
        for name, value in changes.items():
            setattr(job, name, value)
        if "pay_type" in changes and job.pay_type == PayType.fixed:
            job.hours = None
        if "category" in data.model_fields_set and data.category:
            job.category_id = (await category_named(self.categories, data.category)).id
        if "location" in data.model_fields_set:
            loc = data.location
            job.city, job.lat, job.lng = (loc.city, loc.lat, loc.lng) if loc else (None, None, None)
        if data.skills is not None:
            await self.jobs.load(job, "skills")
            job.skills = await skills_named(self.skills, data.skills)
        if (job.pay_type == PayType.hourly) != (job.hours is not None):
            raise Unprocessable("An hourly job needs hours; a fixed job has none.")
        if job.ends_at and job.starts_at and job.ends_at <= job.starts_at:
            raise Unprocessable("ends_at must be after starts_at.")
        job.total_cost_minor = total_cost(job.pay_type, job.pay_rate_minor, job.hours, job.openings)
        await self.jobs.flush()
        return await self._changed(job)

    async def cancel(self, job: Job) -> Change[Job]:
        if job.status not in (JobStatus.open, JobStatus.in_progress):
            raise Conflict(f"A {job.status} job cannot be cancelled.")
        if job.escrow_status == EscrowStatus.held:
            await self.payments.refund(job)
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
        if job.status != JobStatus.in_progress or job.escrow_status != EscrowStatus.held:
            raise Conflict("Only an in-progress, funded job can be completed.")
        workers = await self.applications.list_hired_worker_ids(job.id)
        await self.payments.release(job, workers)
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
