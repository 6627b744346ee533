"""Applying, withdrawing, and the client's decisions (accept fills openings under a job-row lock).

Callers pass applications the caller may act on, with their jobs locked (app.loaders); this module keeps
the rules.
"""

from sqlalchemy import func

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, NotFound
from app.models import Application, Job
from app.models.enums import ApplicationStatus, JobStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.jobs import JobRepository
from app.schemas.applications import ApplicationCreate
from app.security import Principal


class ApplicationService:
    def __init__(self, session: UnitOfWork) -> None:
        self.applications = ApplicationRepository(session)
        self.jobs = JobRepository(session)

    async def apply(self, principal: Principal, job_id: int, data: ApplicationCreate) -> Application:
        # One statement checks the job is open and counts the application; the partial unique index
        # turns a second active application into a 409, rolling the count back with it.
        if not await self.jobs.count_application(job_id, +1, require_open=True):
            status = await self.jobs.get_status(job_id)
            if status is None:
                raise NotFound(f"Job {job_id} not found.")
            raise Conflict(f"This job is {status}; it takes no applications.", "job_not_open")
        application = Application(job_id=job_id, worker_id=principal.id, **data.model_dump())
        await self.applications.add(application)
        return await self._reload(application)

    async def withdraw(self, application: Application) -> Application:
        if application.status != ApplicationStatus.pending:
            raise Conflict(f"An {application.status} application cannot be withdrawn.")
        application.status = ApplicationStatus.withdrawn
        application.decided_at = func.now()
        await self.jobs.count_application(application.job_id, -1, require_open=False)
        return await self._reload(application)

    async def decide(self, job: Job, application: Application, *, accept: bool) -> Change[Application]:
        if accept and job.hired_count >= job.openings:
            raise Conflict("All openings of this job are filled.", "openings_full")
        if job.status != JobStatus.open:
            raise Conflict(f"This job is {job.status}; its applications cannot be decided.", "job_not_open")
        if application.status != ApplicationStatus.pending:
            raise Conflict(f"This application is {application.status} already.", "application_decided")
        applicants: list[int] = []
        filled = False
        if not accept:
            application.status = ApplicationStatus.rejected
        else:
            application.status = ApplicationStatus.accepted
            job.hired_count += 1
            filled = job.hired_count == job.openings
            if filled:  # the job starts and leaves the search pages; the other applicants are turned down
                job.status = JobStatus.in_progress
                await self.applications.flush()
                await self.applications.reject_pending(job.id)
                applicants = await self.applications.list_applicant_ids(job.id)
        application.decided_at = func.now()
        return Change(await self._reload(application), applicants=applicants, search=filled)

    async def _reload(self, application: Application) -> Application:
        await self.applications.flush()
        application_id = application.id
        self.applications.forget(application)
        detail = await self.applications.get_detail(application_id)
        assert detail is not None  # written by this transaction
        return detail
