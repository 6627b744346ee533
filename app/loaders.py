"""Authorization's one home: object loaders as dependencies. Each loads what a route acts on and checks the
caller against it, so routers and services receive objects the caller may use, and each rule lives here once.

The 404/403 policy (docs/architecture.md):
- 404 when the object does not exist or the caller may not know it does: applications and their message
  threads (their worker, the job's owner, admins), payments (payer, payee, admins), notifications (their
  recipient only, admins included).
- 403 when the caller may see the object but not do this: jobs, profiles and reviews are public, so a
  non-owner acting on them gets 403; so does a participant of an application acting outside their part.
- Shifts and timesheets belong to a job, which is public: acting on them as anyone but their worker (or the
  job's owner) is 403, as issue #10 states; a missing one is 404. Disputes are private like payments (the
  job's owner, the worker concerned, admins: 404 to anyone else).
- Role guards (app.deps: ClientPrincipal, WorkerPrincipal, AdminPrincipal) run first: a wrong role is 403
  before any lookup.

Write loaders lock rows in the one order every writer uses (job row, then application, timesheet or dispute
row), so hiring, attendance and money on one job are serialised and concurrent writers never deadlock.
"""

from typing import Annotated, TypeVar

from fastapi import Depends

from app.deps import (
    AdminPrincipal,
    ClientPrincipal,
    CurrentPrincipal,
    OptionalPrincipal,
    SessionDep,
    StateDep,
    WorkerPrincipal,
)
from app.errors import Forbidden, NotFound, Unauthorized
from app.models import Application, Dispute, Job, Notification, Payment, Review, Timesheet
from app.models.enums import DisputeKind, ReviewFilter
from app.params import ReviewFilterName
from app.repositories.applications import ApplicationRepository
from app.repositories.attendance import DisputeRepository, ShiftRepository, TimesheetRepository
from app.repositories.jobs import JobRepository
from app.repositories.notifications import NotificationRepository
from app.repositories.payments import PaymentRepository
from app.repositories.reviews import ReviewRepository
from app.schemas.common import Id
from app.security import Principal

T = TypeVar("T")


def found(value: T | None, what: str, id_: int) -> T:
    """The object, or the 404 every loader and read answers for a missing one."""
    if value is None:
        raise NotFound(f"{what} {id_} not found.")
    return value


def sees_private(principal: Principal | None, user_id: int) -> bool:
    """A user's private data (contacts, payments, cancelled jobs) is for the user and admins."""
    return principal is not None and (principal.id == user_id or principal.is_admin)


# --- jobs (public objects: acting on someone else's job is 403) ------------------------------------------


async def job_id_for_owner(job_id: Id, principal: CurrentPrincipal, state: StateDep, session: SessionDep) -> int:
    """The job's id, if the caller owns the job or is an admin (reading its applicants).

    The owner is remembered per process (a job's client never changes), so a cached page of the job's
    applicants is authorized without a query.
    """
    client_id = state.job_owners.get(job_id)
    if client_id is None:
        client_id = found(await JobRepository(session).get_client_id(job_id), "Job", job_id)
        state.job_owners.remember(job_id, client_id)
    if client_id != principal.id and not principal.is_admin:
        raise Forbidden("Only the job's owner and admins can see its applications.")
    return job_id


async def job_for_owner_locked(job_id: Id, principal: ClientPrincipal, session: SessionDep) -> Job:
    """The caller's own job, its row locked for the rest of the request (edit, cancel, complete, fund)."""
    job = found(await JobRepository(session).get_locked(job_id), "Job", job_id)
    if job.client_id != principal.id:
        raise Forbidden("Only the job's owner can do this.")
    return job


async def job_for_participant(job_id: Id, principal: CurrentPrincipal, session: SessionDep) -> Job:
    """A job the caller took part in: its client, or a worker hired on it (reviews)."""
    job = found(await JobRepository(session).get(job_id), "Job", job_id)
    if job.client_id != principal.id and not await ApplicationRepository(session).is_hired(job_id, principal.id):
        raise Forbidden("Only the job's client and the workers hired on it can review.")
    return job


OwnedJobId = Annotated[int, Depends(job_id_for_owner)]
JobForOwner = Annotated[Job, Depends(job_for_owner_locked)]
JobForParticipant = Annotated[Job, Depends(job_for_participant)]


# --- applications (private: visible to their worker, the job's owner and admins) --------------------------


def _visible(application: Application, principal: Principal) -> bool:
    return principal.is_admin or principal.id in (application.worker_id, application.job.client_id)


async def application_for_participant(
    application_id: Id, principal: CurrentPrincipal, session: SessionDep
) -> Application:
    application = await ApplicationRepository(session).get_detail(application_id)
    if application is None or not _visible(application, principal):
        raise NotFound(f"Application {application_id} not found.")
    return application


async def _locked(session: SessionDep, application: Application) -> tuple[Job, Application]:
    """Lock the job first (the order of every writer), then re-read the application under the lock: the copy
    loaded before may predate a concurrent decision."""
    job = found(await JobRepository(session).get_locked(application.job_id), "Job", application.job_id)
    locked = await ApplicationRepository(session).get(application.id, for_update=True)
    return job, found(locked, "Application", application.id)


async def application_for_job_owner(
    application_id: Id, principal: ClientPrincipal, session: SessionDep
) -> tuple[Job, Application]:
    """An application to the caller's job, with the job; both rows locked (accept, reject)."""
    application = await ApplicationRepository(session).get_detail(application_id)
    if application is None or not _visible(application, principal):
        raise NotFound(f"Application {application_id} not found.")
    if application.job.client_id != principal.id:
        raise Forbidden("Only the job's owner decides on applications.")
    return await _locked(session, application)


async def application_for_worker(
    application_id: Id, principal: WorkerPrincipal, session: SessionDep
) -> tuple[Job, Application]:
    """The caller's own application, with its job; both rows locked (withdraw)."""
    application = await ApplicationRepository(session).get(application_id)
    if application is None or application.worker_id != principal.id:
        raise NotFound(f"Application {application_id} not found.")
    return await _locked(session, application)


ApplicationForParticipant = Annotated[Application, Depends(application_for_participant)]
ApplicationForJobOwner = Annotated[tuple[Job, Application], Depends(application_for_job_owner)]
ApplicationForWorker = Annotated[tuple[Job, Application], Depends(application_for_worker)]


async def application_for_party(application: ApplicationForParticipant, principal: CurrentPrincipal) -> Application:
    """An application whose thread the caller writes in: its worker or the job's owner (admins only read)."""
    if principal.id not in (application.worker_id, application.job.client_id):
        raise Forbidden("Only the worker and the job's owner write in this conversation.")
    return application


ApplicationForParty = Annotated[Application, Depends(application_for_party)]


# --- shifts (public), timesheets and disputes (private: the worker, the job's owner, admins) ---------------


async def shift_for_hired_worker(
    shift_id: Id, principal: WorkerPrincipal, session: SessionDep
) -> tuple[Job, Timesheet]:
    """The caller's own timesheet of the shift, with the job; job then timesheet locked (check-in, check-out)."""
    shift = found(await ShiftRepository(session).get(shift_id), "Shift", shift_id)
    job = found(await JobRepository(session).get_locked(shift.job_id), "Job", shift.job_id)
    timesheet = await TimesheetRepository(session).get_for_shift(shift_id, principal.id)
    if timesheet is None:
        raise Forbidden("Only the workers hired on this job check in to its shifts.")
    return job, timesheet


async def _timesheet_locked(
    timesheet_id: int, principal: Principal, session: SessionDep, *, acts_as_worker: bool
) -> tuple[Job, Timesheet]:
    timesheets = TimesheetRepository(session)
    timesheet = found(await timesheets.get_detail(timesheet_id), "Timesheet", timesheet_id)
    if (timesheet.worker_id if acts_as_worker else timesheet.job.client_id) != principal.id:
        raise Forbidden(
            "Only the timesheet's worker does this." if acts_as_worker else "Only the job's owner does this."
        )
    job = found(await JobRepository(session).get_locked(timesheet.job_id), "Job", timesheet.job_id)
    return job, found(await timesheets.get_detail(timesheet_id, for_update=True), "Timesheet", timesheet_id)


async def timesheet_for_worker(
    timesheet_id: Id, principal: WorkerPrincipal, session: SessionDep
) -> tuple[Job, Timesheet]:
    """The caller's own timesheet, with its job; job then timesheet locked (submit)."""
    return await _timesheet_locked(timesheet_id, principal, session, acts_as_worker=True)


async def timesheet_for_job_owner(
    timesheet_id: Id, principal: ClientPrincipal, session: SessionDep
) -> tuple[Job, Timesheet]:
    """A timesheet of the caller's job, with the job; job then timesheet locked (approve, dispute, no-show)."""
    return await _timesheet_locked(timesheet_id, principal, session, acts_as_worker=False)


async def timesheets_viewer(job_id: Id, principal: CurrentPrincipal, session: SessionDep) -> tuple[int, int | None]:
    """(job id, whose timesheets): all for the job's owner and admins, their own for a worker hired on it."""
    client_id = found(await JobRepository(session).get_client_id(job_id), "Job", job_id)
    if principal.is_admin or principal.id == client_id:
        return job_id, None
    if await ApplicationRepository(session).is_hired(job_id, principal.id):
        return job_id, principal.id
    raise Forbidden("Only the job's owner, the workers hired on it and admins see its timesheets.")


async def dispute_for_party(dispute_id: Id, principal: CurrentPrincipal, session: SessionDep) -> Dispute:
    dispute = await DisputeRepository(session).get_detail(dispute_id)
    if dispute is None or not (principal.is_admin or principal.id in (dispute.worker_id, dispute.job.client_id)):
        raise NotFound(f"Dispute {dispute_id} not found.")
    return dispute


async def dispute_for_admin(
    dispute_id: Id, principal: AdminPrincipal, session: SessionDep
) -> tuple[Job, Dispute, Timesheet | None]:
    """A dispute to resolve, with its job and (a timesheet dispute) its timesheet; locked in that order."""
    disputes = DisputeRepository(session)
    dispute = found(await disputes.get_detail(dispute_id), "Dispute", dispute_id)
    job = found(await JobRepository(session).get_locked(dispute.job_id), "Job", dispute.job_id)
    dispute = found(await disputes.get_detail(dispute_id, for_update=True), "Dispute", dispute_id)
    timesheet = None
    if dispute.kind == DisputeKind.timesheet:
        assert dispute.timesheet_id is not None
        timesheet = await TimesheetRepository(session).get_detail(dispute.timesheet_id, for_update=True)
    return job, dispute, timesheet


ShiftForHiredWorker = Annotated[tuple[Job, Timesheet], Depends(shift_for_hired_worker)]
TimesheetForWorker = Annotated[tuple[Job, Timesheet], Depends(timesheet_for_worker)]
TimesheetForJobOwner = Annotated[tuple[Job, Timesheet], Depends(timesheet_for_job_owner)]
TimesheetsViewer = Annotated[tuple[int, int | None], Depends(timesheets_viewer)]
DisputeForParty = Annotated[Dispute, Depends(dispute_for_party)]
DisputeForAdmin = Annotated[tuple[Job, Dispute, Timesheet | None], Depends(dispute_for_admin)]


# --- payments (private: payer, payee, admins) -------------------------------------------------------------


async def payment_for_party(payment_id: Id, principal: CurrentPrincipal, session: SessionDep) -> Payment:
    payment = await PaymentRepository(session).get(payment_id)
    if payment is None or not (principal.is_admin or principal.id in (payment.payer_id, payment.payee_id)):
        raise NotFound(f"Payment {payment_id} not found.")
    return payment


PaymentForParty = Annotated[Payment, Depends(payment_for_party)]


# --- notifications (private: their recipient only) ------------------------------------------------------


async def notification_for_owner(notification_id: Id, principal: CurrentPrincipal, session: SessionDep) -> Notification:
    notification = await NotificationRepository(session).get(notification_id)
    if notification is None or notification.user_id != principal.id:
        raise NotFound(f"Notification {notification_id} not found.")
    return notification


NotificationForOwner = Annotated[Notification, Depends(notification_for_owner)]


# --- reviews and users (public objects) -------------------------------------------------------------------


async def review_for_reviewee(review_id: Id, principal: CurrentPrincipal, session: SessionDep) -> Review:
    review = found(await ReviewRepository(session).get_detail(review_id), "Review", review_id)
    if review.reviewee_id != principal.id:
        raise Forbidden("Only the reviewee can mark a review read.")
    return review


async def user_id_for_self_or_admin(user_id: Id, principal: CurrentPrincipal) -> int:
    """A user's private pages (payments): the user and admins only."""
    if not sees_private(principal, user_id):
        raise Forbidden("Only the user and admins can see a user's payments.")
    return user_id


async def review_filter_allowed(
    user_id: Id, principal: OptionalPrincipal, filter: ReviewFilterName = ReviewFilter.all
) -> ReviewFilterName:
    """`unread` reviews are the user's own business; other filters are public."""
    if filter == ReviewFilter.unread and principal is None:
        raise Unauthorized("Log in to list your unread reviews.")
    if filter == ReviewFilter.unread and principal is not None and principal.id != user_id:
        raise Forbidden("Only the user can list their unread reviews.")
    return filter


ReviewForReviewee = Annotated[Review, Depends(review_for_reviewee)]
SelfOrAdminUserId = Annotated[int, Depends(user_id_for_self_or_admin)]
AllowedReviewFilter = Annotated[ReviewFilterName, Depends(review_filter_allowed)]
