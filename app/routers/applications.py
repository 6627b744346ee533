from typing import Annotated

from fastapi import APIRouter, Query

from app.cache import cached, invalidates
from app.cache import tags as t
from app.changes import Change
from app.deps import CurrentPrincipal, SessionDep, SettingsDep, WorkerPrincipal
from app.errors import problem_responses
from app.limits import LimitApplications
from app.loaders import ApplicationForJobOwner, ApplicationForParticipant, ApplicationForWorker, OwnedJobId
from app.models.enums import ApplicationStatus
from app.params import Cursor, Limit
from app.repositories.applications import ApplicationRepository
from app.routers import API_PREFIX
from app.routers.invalidation import application_write
from app.schemas.applications import (
    ApplicationCreate,
    ApplicationDetail,
    JobApplicationRead,
    RankedApplicant,
    ScoreParts,
)
from app.schemas.common import Id, Page
from app.schemas.users import Reliability
from app.services.applications import ApplicationService

router = APIRouter(prefix=API_PREFIX, tags=["applications"])


@router.post(
    "/jobs/{job_id}/applications",
    status_code=201,
    response_model=ApplicationDetail,
    operation_id="create_application",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
    dependencies=[LimitApplications],
)
@invalidates(application_write)
async def create_application(
    job_id: Id, data: ApplicationCreate, principal: WorkerPrincipal, session: SessionDep
) -> ApplicationDetail:
    """Apply to an open job (workers only). One active application per worker and job."""
    return ApplicationDetail.model_validate(await ApplicationService(session).apply(principal, job_id, data))


@router.get(
    "/jobs/{job_id}/applications",
    response_model=Page[JobApplicationRead],
    operation_id="list_job_applications",
    responses=problem_responses(401, 403, 404, 422),
)
@cached(scope="private", ttl=60, tags=lambda p, _: [t.job_applicants(p["job_id"])])
async def list_job_applications(
    job_id: OwnedJobId,
    principal: CurrentPrincipal,
    session: SessionDep,
    status: ApplicationStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[JobApplicationRead]:
    items, next_cursor = await ApplicationRepository(session).list_by_job(job_id, status, cursor, limit)
    return Page(items=[JobApplicationRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.get(
    "/jobs/{job_id}/best-applicants",
    response_model=list[RankedApplicant],
    operation_id="list_best_applicants",
    responses=problem_responses(401, 403, 404, 422),
)
@cached(scope="private", ttl=60, tags=lambda p, _: [t.job_applicants(p["job_id"])])
async def list_best_applicants(
    job_id: OwnedJobId,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[RankedApplicant]:
    """Pending applications ranked by score = 35 rating + 20 skills + 20 distance + 10 experience + 15 reliability."""
    rows = await ApplicationRepository(session).list_ranked(job_id, limit)
    return [
        RankedApplicant(
            score=round(row.score, 4),
            parts=ScoreParts(
                rating=round(row.rating, 4),
                skills=round(row.skills, 4),
                distance=round(row.distance, 4),
                experience=round(row.experience, 4),
                reliability=round(row.reliability, 4),
            ),
            reliability=Reliability.of(row.Application.worker),
            distance_km=None if row.distance_km is None else int(row.distance_km),
            application=JobApplicationRead.model_validate(row.Application),
        )
        for row in rows
    ]


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationDetail,
    operation_id="get_application",
    responses=problem_responses(401, 404),
)
async def get_application(application: ApplicationForParticipant) -> ApplicationDetail:
    """Visible to its worker, the job's owner and admins; to anyone else it does not exist."""
    return ApplicationDetail.model_validate(application)


@router.post(
    "/applications/{application_id}/withdraw",
    response_model=ApplicationDetail,
    operation_id="withdraw_application",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(application_write)
async def withdraw_application(locked: ApplicationForWorker, session: SessionDep) -> ApplicationDetail:
    _, application = locked
    return ApplicationDetail.model_validate(await ApplicationService(session).withdraw(application))


@router.post(
    "/applications/{application_id}/cancel",
    response_model=ApplicationDetail,
    operation_id="cancel_application",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(application_write)
async def cancel_application(
    locked: ApplicationForWorker, session: SessionDep, settings: SettingsDep
) -> Change[ApplicationDetail]:
    """A hired worker backs out: the opening is free again, their timesheets are dropped; less than
    APP_LATE_CANCEL_HOURS before the first shift it counts as a late cancellation."""
    change = await ApplicationService(session).cancel(*locked, settings)
    return change.map(ApplicationDetail.model_validate)


@router.post(
    "/applications/{application_id}/accept",
    response_model=ApplicationDetail,
    operation_id="accept_application",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(application_write)
async def accept_application(locked: ApplicationForJobOwner, session: SessionDep) -> Change[ApplicationDetail]:
    """Hire the applicant. Filling the last opening starts the job and rejects the other pending applicants."""
    change = await ApplicationService(session).decide(*locked, accept=True)
    return change.map(ApplicationDetail.model_validate)


@router.post(
    "/applications/{application_id}/reject",
    response_model=ApplicationDetail,
    operation_id="reject_application",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(application_write)
async def reject_application(locked: ApplicationForJobOwner, session: SessionDep) -> Change[ApplicationDetail]:
    change = await ApplicationService(session).decide(*locked, accept=False)
    return change.map(ApplicationDetail.model_validate)
