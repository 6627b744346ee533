"""Job lifecycle: post, edit while open, cancel (refunding escrow), complete (releasing escrow)."""

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.errors import Conflict, Forbidden, Unprocessable
from app.models import Job
from app.models.enums import EscrowStatus, JobStatus, PayType
from app.repositories.applications import ApplicationRepository
from app.repositories.catalog import CategoryRepository, SkillRepository
from app.repositories.jobs import JobRepository
from app.repositories.users import UserRepository
from app.schemas.jobs import JobCreate, JobUpdate
from app.security import Principal
from app.services import fanout
from app.services.payments import PaymentService
from app.settings import Settings


def total_cost(pay_type: str, pay_rate_minor: int, hours: int | None, openings: int) -> int:
    """pay_rate x (hours if hourly) x openings."""
    hours_factor = hours if pay_type == PayType.hourly and hours is not None else 1
    return pay_rate_minor * hours_factor * openings


class JobService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.jobs = JobRepository(session)
        self.categories = CategoryRepository(session)
        self.skills = SkillRepository(session)
        self.applications = ApplicationRepository(session)
        self.users = UserRepository(session)
        self.payments = PaymentService(session, settings)

    async def create(self, principal: Principal, data: JobCreate) -> Job:
        job = Job(
            client_id=principal.id,
            category=await self.categories.by_slug(data.category),
            skills=await self.skills.by_slugs(data.skills),
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

    async def update(self, principal: Principal, job_id: int, data: JobUpdate) -> Job:
        job = await self._owned_locked(principal, job_id, selectinload(Job.skills))
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
            job.category_id = (await self.categories.by_slug(data.category)).id
        if "location" in data.model_fields_set:
            loc = data.location
            job.city, job.lat, job.lng = (loc.city, loc.lat, loc.lng) if loc else (None, None, None)
        if data.skills is not None:
            job.skills = await self.skills.by_slugs(data.skills)
        if (job.pay_type == PayType.hourly) != (job.hours is not None):
            raise Unprocessable("An hourly job needs hours; a fixed job has none.")
        if job.ends_at and job.starts_at and job.ends_at <= job.starts_at:
            raise Unprocessable("ends_at must be after starts_at.")
        job.total_cost_minor = total_cost(job.pay_type, job.pay_rate_minor, job.hours, job.openings)
        await self.jobs.session.flush()
        await fanout.job_changed(self.jobs.session, job.id)
        return await self._reload(job)

    async def cancel(self, principal: Principal, job_id: int) -> Job:
        job = await self._owned_locked(principal, job_id)
        if job.status not in (JobStatus.open, JobStatus.in_progress):
            raise Conflict(f"A {job.status} job cannot be cancelled.")
        if job.escrow_status == EscrowStatus.held:
            await self.payments.refund(job)
        await self.applications.reject_pending(job.id)
        job.status = JobStatus.cancelled
        job.cancelled_at = func.now()
        await self.jobs.session.flush()
        await fanout.job_changed(self.jobs.session, job.id)
        return await self._reload(job)

    async def complete(self, principal: Principal, job_id: int) -> Job:
        job = await self._owned_locked(principal, job_id)
        if job.status != JobStatus.in_progress or job.escrow_status != EscrowStatus.held:
            raise Conflict("Only an in-progress, funded job can be completed.")
        workers = await self.applications.hired_worker_ids(job.id)
        await self.payments.release(job, workers)
        await self.users.count_completed_job([job.client_id, *workers])
        job.status = JobStatus.completed
        job.completed_at = func.now()
        await self.jobs.session.flush()
        await fanout.job_changed(self.jobs.session, job.id)
        for user_id in (job.client_id, *workers):  # their completed_jobs changed
            await fanout.user_changed(self.jobs.session, user_id)
        return await self._reload(job)

    async def _owned_locked(self, principal: Principal, job_id: int, *options: ORMOption) -> Job:
        job = await self.jobs.lock(job_id, *options)
        if job.client_id != principal.id:
            raise Forbidden("Only the job's owner can do this.")
        return job

    async def _reload(self, job: Job) -> Job:
        """Re-read the job with its relations and server-set columns for the response."""
        job_id = job.id
        self.jobs.session.expire(job)
        return await self.jobs.detail(job_id)
