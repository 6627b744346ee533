"""Applying, withdrawing, and the client's decisions (accept fills openings under a job-row lock).

Callers pass applications the caller may act on, with their jobs locked (app.loaders); this module keeps
the rules.
"""

from datetime import UTC, datetime

from sqlalchemy import func

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, NotFound
from app.models import Application, Job
from app.models.enums import ApplicationStatus, JobStatus, NotificationKind, TimesheetStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.attendance import ShiftRepository, TimesheetRepository
from app.repositories.jobs import JobRepository
from app.repositories.users import UserRepository
from app.schemas.applications import ApplicationCreate
from app.security import Principal
from app.services.changes import user_links
from app.services.notifications import notify
from app.services.shifts import is_late
from app.settings import Settings


class ApplicationService:
    def __init__(self, session: UnitOfWork) -> None:
        self.session = session  # for notify(): notifications are written in the event's own transaction
        self.applications = ApplicationRepository(session)
        self.jobs = JobRepository(session)
        self.shifts = ShiftRepository(session)
        self.timesheets = TimesheetRepository(session)
        self.users = UserRepository(session)

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
        detail = await self._reload(application)
        await notify(
            self.session,
            NotificationKind.application_received,
            [detail.job.client_id],
            actor=principal.id,
            title=f"{detail.worker.full_name} applied to {detail.job.title}",
            link=f"/jobs/{job_id}",
            data={"job_id": job_id, "application_id": detail.id},
        )
        return detail

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
        turned_down: list[int] = []  # the other pending applicants of a job that filled up
        filled = False
        if not accept:
            application.status = ApplicationStatus.rejected
        else:
            application.status = ApplicationStatus.accepted
            job.hired_count += 1
            if job.schedule:
                await self.timesheets.add_for_worker(job.id, application.worker_id)
            filled = job.hired_count == job.openings
            if filled:  # the job starts and leaves the search pages; the other applicants are turned down
                job.status = JobStatus.in_progress
                await self.applications.flush()
                turned_down = await self.applications.reject_pending(job.id)
                applicants = await self.applications.list_applicant_ids(job.id)
        application.decided_at = func.now()
        detail = await self._reload(application)
        about = {"job_id": job.id, "application_id": detail.id}
        if accept:
            await notify(
                self.session,
                NotificationKind.application_accepted,
                [detail.worker_id],
                actor=job.client_id,
                title=f"You are hired for {job.title}",
                link=f"/jobs/{job.id}",
                data=about,
            )
        rejected = turned_down if accept else [detail.worker_id]
        await notify(
            self.session,
            NotificationKind.application_rejected,
            rejected,
            actor=job.client_id,
            title=f"Your application for {job.title} was not accepted",
            link=f"/jobs/{job.id}",
            data={"job_id": job.id},
        )
        return Change(detail, applicants=applicants, search=filled)

    async def cancel(self, job: Job, application: Application, settings: Settings) -> Change[Application]:
        """A hired worker backs out before working: the opening is free again and their timesheets are dropped.
        Less than APP_LATE_CANCEL_HOURS before the first shift it counts against their reliability."""
        if application.status != ApplicationStatus.accepted:
            raise Conflict(f"An {application.status} application cannot be cancelled; withdraw a pending one.")
        if job.status not in (JobStatus.open, JobStatus.in_progress):
            raise Conflict(f"This job is {job.status}; its hired workers cannot cancel.")
        started = await self.timesheets.list_statuses_locked(job.id, application.worker_id)
        if set(started) - {TimesheetStatus.scheduled, TimesheetStatus.no_show}:
            raise Conflict("You checked in to a shift of this job: finish it, or the client settles it.")
        late = is_late(await self.shifts.get_first_start(job.id), datetime.now(UTC), settings)
        application.status = ApplicationStatus.cancelled
        application.decided_at = func.now()
        job.hired_count -= 1
        reopened = job.status == JobStatus.in_progress
        job.status = JobStatus.open
        await self.timesheets.delete_scheduled(job.id, application.worker_id)
        people = []
        if late:
            await self.users.count_attendance(application.worker_id, late_cancellations=1)
            people = [await user_links(self.users, application.worker_id)]  # their reliability shows there
        applicants = await self.applications.list_applicant_ids(job.id) if reopened else []
        return Change(await self._reload(application), applicants=applicants, users=people, search=reopened)

    async def _reload(self, application: Application) -> Application:
        await self.applications.flush()
        application_id = application.id
        self.applications.forget(application)
        detail = await self.applications.get_detail(application_id)
        assert detail is not None  # written by this transaction
        return detail
