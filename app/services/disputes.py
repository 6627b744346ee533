"""Disputes: a client contests a submitted timesheet (within the review window) or a hired worker's pay for
the job; an admin resolves it with the minutes or the amount that count. An open dispute blocks completion.

Callers pass the job and the rows locked, job first (app.loaders); this module keeps the rules.
"""

from datetime import UTC, datetime

from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Dispute, Job, Timesheet
from app.models.enums import DisputeKind, DisputeStatus, NotificationKind, TimesheetStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.attendance import DisputeRepository
from app.schemas.attendance import DisputeResolve, TimesheetDispute, WorkDisputeCreate
from app.security import Principal
from app.services.notifications import notify
from app.services.payments import share_of
from app.services.shifts import require_active
from app.services.timesheets import about, review_deadline
from app.settings import Settings


class DisputeService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.session = session  # for notify(): notifications are written in the event's own transaction
        self.disputes = DisputeRepository(session)
        self.applications = ApplicationRepository(session)
        self.settings = settings

    async def contest_timesheet(self, job: Job, timesheet: Timesheet, data: TimesheetDispute) -> Dispute:
        require_active(job)
        if timesheet.status != TimesheetStatus.submitted:
            raise Conflict(f"This timesheet is {timesheet.status}; only a submitted timesheet can be disputed.")
        deadline = review_deadline(timesheet, self.settings)
        if datetime.now(UTC) > deadline:
            raise Conflict(f"The review window of this timesheet ended at {deadline.isoformat()}.")
        if data.proposed_minutes > timesheet.scheduled_minutes:
            raise Unprocessable(f"proposed_minutes must be at most the shift's {timesheet.scheduled_minutes}.")
        timesheet.status = TimesheetStatus.disputed
        dispute = Dispute(
            kind=DisputeKind.timesheet,
            job_id=job.id,
            worker_id=timesheet.worker_id,
            timesheet_id=timesheet.id,
            reason=data.reason,
            proposed_minutes=data.proposed_minutes,
        )
        job.open_disputes += 1
        await self.disputes.add(dispute)
        detail = await self._reload(dispute)
        await notify(
            self.session,
            NotificationKind.timesheet_disputed,
            [timesheet.worker_id],
            actor=job.client_id,
            title=f"Your timesheet for {job.title} is disputed: an admin will decide",
            body=data.reason,
            link=f"/jobs/{job.id}",
            data=about(timesheet) | {"dispute_id": detail.id},
        )
        return detail

    async def contest_work(self, job: Job, data: WorkDisputeCreate) -> Dispute:
        require_active(job)
        if not await self.applications.is_hired(job.id, data.worker_id):
            raise Unprocessable(f"User {data.worker_id} is not a worker hired on this job.")
        dispute = Dispute(kind=DisputeKind.work, job_id=job.id, worker_id=data.worker_id, reason=data.reason)
        job.open_disputes += 1
        await self.disputes.add(dispute)
        detail = await self._reload(dispute)
        await notify(
            self.session,
            NotificationKind.work_disputed,
            [data.worker_id],
            actor=job.client_id,
            title=f"Your pay for {job.title} is disputed: an admin will decide",
            body=data.reason,
            link=f"/jobs/{job.id}",
            data={"job_id": job.id, "dispute_id": detail.id},
        )
        return detail

    async def resolve(
        self, admin: Principal, job: Job, dispute: Dispute, timesheet: Timesheet | None, data: DisputeResolve
    ) -> Dispute:
        if dispute.status != DisputeStatus.open:
            raise Conflict(f"Dispute {dispute.id} is resolved already.")
        require_active(job)
        if timesheet is not None:
            if data.minutes is None:
                raise Unprocessable("A timesheet dispute is resolved with minutes.")
            if data.minutes > timesheet.scheduled_minutes:
                raise Unprocessable(f"minutes must be at most the shift's {timesheet.scheduled_minutes}.")
            timesheet.status = TimesheetStatus.resolved
            timesheet.approved_minutes = dispute.resolved_minutes = data.minutes
        else:
            if data.worker_amount_minor is None:
                raise Unprocessable("A work dispute is resolved with worker_amount_minor.")
            if data.worker_amount_minor > share_of(job):
                raise Unprocessable(f"worker_amount_minor must be at most the worker's share ({share_of(job)}).")
            dispute.worker_amount_minor = data.worker_amount_minor
        dispute.status = DisputeStatus.resolved
        job.open_disputes -= 1
        dispute.resolved_by_id = admin.id
        dispute.resolved_at = datetime.now(UTC)
        await self.disputes.flush()
        ids = {"dispute_id": dispute.id} | (about(timesheet) if timesheet else {"job_id": job.id})
        await notify(
            self.session,
            NotificationKind.dispute_resolved,
            [dispute.worker_id, job.client_id],
            actor=admin.id,
            title=f"The dispute about {job.title} was resolved",
            link=f"/jobs/{job.id}",
            data=ids,
        )
        return await self._reload(dispute)

    async def _reload(self, dispute: Dispute) -> Dispute:
        await self.disputes.flush()
        dispute_id = dispute.id
        self.disputes.forget(dispute)
        reloaded = await self.disputes.get_detail(dispute_id)
        assert reloaded is not None  # written by this transaction
        return reloaded
