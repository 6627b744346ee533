"""Disputes: the client opens one about a hired worker's pay; admins list and resolve them."""

from fastapi import APIRouter

from app.cache import invalidates
from app.deps import AdminPrincipal, SessionDep, SettingsDep
from app.errors import problem_responses
from app.loaders import DisputeForAdmin, DisputeForParty, JobForOwner
from app.models.enums import DisputeStatus
from app.params import Cursor, Limit
from app.repositories.attendance import DisputeRepository
from app.routers import API_PREFIX
from app.routers.invalidation import nothing
from app.schemas.attendance import DisputeRead, DisputeResolve, WorkDisputeCreate
from app.schemas.common import Page
from app.services.disputes import DisputeService

router = APIRouter(prefix=API_PREFIX, tags=["disputes"])


@router.post(
    "/jobs/{job_id}/disputes",
    status_code=201,
    response_model=DisputeRead,
    operation_id="create_work_dispute",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(nothing)
async def create_work_dispute(
    job: JobForOwner, data: WorkDisputeCreate, session: SessionDep, settings: SettingsDep
) -> DisputeRead:
    """The owner contests a hired worker's pay, before the job completes (an open dispute blocks completion)."""
    return DisputeRead.of(await DisputeService(session, settings).contest_work(job, data))


@router.get(
    "/disputes",
    response_model=Page[DisputeRead],
    operation_id="list_disputes",
    responses=problem_responses(401, 403, 422),
)
async def list_disputes(
    principal: AdminPrincipal,
    session: SessionDep,
    status: DisputeStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[DisputeRead]:
    """Admins only: disputes (`status=open`: the ones waiting for a decision), newest first."""
    statuses = [status] if status else list(DisputeStatus)
    items, next_cursor = await DisputeRepository(session).list_by_status(statuses, cursor, limit)
    return Page(items=[DisputeRead.of(d) for d in items], next_cursor=next_cursor)


@router.get(
    "/disputes/{dispute_id}",
    response_model=DisputeRead,
    operation_id="get_dispute",
    responses=problem_responses(401, 404),
)
async def get_dispute(dispute: DisputeForParty) -> DisputeRead:
    """For the job's owner, the worker concerned and admins; to anyone else it does not exist."""
    return DisputeRead.of(dispute)


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeRead,
    operation_id="resolve_dispute",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(nothing)
async def resolve_dispute(
    locked: DisputeForAdmin, data: DisputeResolve, principal: AdminPrincipal, session: SessionDep, settings: SettingsDep
) -> DisputeRead:
    """Admins only. A timesheet dispute with `minutes` (its approved minutes); a work dispute with
    `worker_amount_minor` (paid to the worker less the fee at completion, the rest of their share refunded)."""
    return DisputeRead.of(await DisputeService(session, settings).resolve(principal, *locked, data))
