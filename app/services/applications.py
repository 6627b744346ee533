"""Applying, withdrawing, and the client's decisions (accept fills openings under a job-row lock)."""

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, NotFound
from app.models import Application
from app.models.enums import ApplicationStatus, JobStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.jobs import JobRepository
from app.schemas.applications import ApplicationCreate
from app.security import Principal
from app.services import fanout


class ApplicationService:
    def __init__(self, session: AsyncSession) -> None:
        self.applications = ApplicationRepository(session)
        self.jobs = JobRepository(session)

    async def apply(self, principal: Principal, job_id: int, data: ApplicationCreate) -> Application:
        # One statement checks the job is open and counts the application; the partial unique index
        # turns a second active application into a 409, rolling the count back with it.
        if not await self.jobs.count_application(job_id, +1, require_open=True):
            status = await self.jobs.status_of(job_id)  # 404 if there is no such job
            raise Conflict(f"This job is {status}; it takes no applications.", "job_not_open")
        application = Application(job_id=job_id, worker_id=principal.id, **data.model_dump())
        await self.applications.add(application)
        return await self._reload(application)

    async def withdraw(self, principal: Principal, application_id: int) -> Application:
        application = await self.applications.get(application_id)
        if application is None or application.worker_id != principal.id:
            raise NotFound(f"Application {application_id} not found.")
        # Job row first, as in decide(): locking in the other order deadlocks against a concurrent accept.
        await self.jobs.lock(application.job_id)
        application = await self._locked(application_id)
        if application.status != ApplicationStatus.pending:
            raise Conflict(f"An {application.status} application cannot be withdrawn.")
        application.status = ApplicationStatus.withdrawn
        application.decided_at = func.now()
        await self.jobs.count_application(application.job_id, -1, require_open=False)
        return await self._reload(application)

    async def decide(self, principal: Principal, application_id: int, accept: bool) -> Application:
        application = await self.applications.get(application_id)
        if application is None:
            raise NotFound(f"Application {application_id} not found.")
        # Lock the job first (the same order as every other writer), then re-read the application.
        job = await self.jobs.lock(application.job_id)
        if job.client_id != principal.id:
            if application.worker_id == principal.id or principal.is_admin:
                raise Forbidden("Only the job's owner decides on applications.")
            raise NotFound(f"Application {application_id} not found.")
        application = await self._locked(application_id)
        if accept and job.hired_count >= job.openings:
            raise Conflict("All openings of this job are filled.", "openings_full")
        if job.status != JobStatus.open:
            raise Conflict(f"This job is {job.status}; its applications cannot be decided.", "job_not_open")
        if application.status != ApplicationStatus.pending:
            raise Conflict(f"This application is {application.status} already.", "application_decided")
        if not accept:
            application.status = ApplicationStatus.rejected
        else:
            application.status = ApplicationStatus.accepted
            job.hired_count += 1
            if job.hired_count == job.openings:
                job.status = JobStatus.in_progress
                await self.applications.session.flush()
                await self.applications.reject_pending(job.id)
                await fanout.job_changed(self.applications.session, job.id)
        application.decided_at = func.now()
        return await self._reload(application)

    async def _locked(self, application_id: int) -> Application:
        # Re-read under the lock: the copy loaded before the job lock may predate a concurrent decision.
        application = await self.applications.get(application_id, for_update=True)
        if application is None:
            raise NotFound(f"Application {application_id} not found.")
        return application

    async def _reload(self, application: Application) -> Application:
        await self.applications.session.flush()
        application_id = application.id
        self.applications.session.expire(application)
        detail = await self.applications.detail(application_id)
        assert detail is not None
        return detail
