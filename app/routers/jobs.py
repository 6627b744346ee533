from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from app.cache import cached, invalidates
from app.cache import tags as t
from app.cache.facts import ImmutableFacts
from app.deps import ClientPrincipal, CurrentPrincipal, SessionDep, SettingsDep
from app.errors import Forbidden, Unprocessable, problem_responses
from app.repositories.jobs import JobRepository, JobSearch
from app.routers import API_PREFIX
from app.routers.params import Cursor, Limit
from app.schemas.common import MAX_MINOR, Id, Page, Slug
from app.schemas.jobs import JobCard, JobCreate, JobRead, JobUpdate
from app.services.jobs import JobService

router = APIRouter(prefix=f"{API_PREFIX}/jobs", tags=["jobs"])


def parse_near(near: str | None) -> tuple[float, float] | None:
    if near is None:
        return None
    try:
        lat_s, lng_s = near.split(",")
        lat, lng = float(lat_s), float(lng_s)
    except ValueError as exc:
        raise Unprocessable("near must be 'lat,lng', e.g. near=52.52,13.40") from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Unprocessable("near is out of range (lat -90..90, lng -180..180)")
    return lat, lng


async def job_for_owner_or_admin(job_id: Id, principal: CurrentPrincipal, request: Request, session: SessionDep) -> int:
    """The job's id, if the caller owns the job or is an admin (the job itself is public: others get 403).

    The owner is remembered per process (a job's client never changes), so a cached page of the job's
    applicants is authorized without a query.
    """
    owners: ImmutableFacts = request.app.state.job_owners
    client_id = owners.get(job_id)
    if client_id is None:
        client_id = await JobRepository(session).client_of(job_id)
        owners.remember(job_id, client_id)
    if client_id != principal.id and not principal.is_admin:
        raise Forbidden("Only the job's owner and admins can see its applications.")
    return job_id


OwnedJobId = Annotated[int, Depends(job_for_owner_or_admin)]


@router.get("", response_model=Page[JobCard], operation_id="list_jobs", responses=problem_responses(422))
@cached(scope="public", ttl=60, tags=lambda p, _: [t.JOBS_LIST])
async def list_jobs(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$", description="Full-text search")
    ] = None,
    category: Slug | None = None,
    skill: Annotated[list[Slug] | None, Query(max_length=20, description="Any of these skills")] = None,
    pay_min: Annotated[int | None, Query(ge=0, le=MAX_MINOR)] = None,
    pay_max: Annotated[int | None, Query(ge=0, le=MAX_MINOR)] = None,
    near: Annotated[str | None, Query(max_length=64, description="lat,lng")] = None,
    radius_km: Annotated[float, Query(gt=0, le=1000)] = 50.0,
    sort: Literal["newest", "pay", "distance"] = "newest",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[JobCard]:
    """Open jobs. `sort=distance` (nearest first) needs `near`; `near` limits results to `radius_km`."""
    search = JobSearch(
        q=q,
        category=category,
        skills=tuple(skill or ()),
        pay_min=pay_min,
        pay_max=pay_max,
        near=parse_near(near),
        radius_km=radius_km,
        sort=sort,
    )
    rows, next_cursor = await JobRepository(session).search(search, cursor, limit)
    return Page(
        items=[
            JobCard.of(job, settings.currency, distance_km=None if d is None else round(d, 3)) for job, d, *_ in rows
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "", status_code=201, response_model=JobRead, operation_id="create_job", responses=problem_responses(401, 403, 422)
)
@invalidates
async def create_job(
    data: JobCreate, principal: ClientPrincipal, session: SessionDep, settings: SettingsDep
) -> JobRead:
    return JobRead.of(await JobService(session, settings).create(principal, data), settings.currency)


@router.get("/{job_id}", response_model=JobRead, operation_id="get_job", responses=problem_responses(404))
@cached(scope="public", ttl=300, tags=lambda p, _: [t.job(p["job_id"])])
async def get_job(job_id: Id, session: SessionDep, settings: SettingsDep) -> JobRead:
    return JobRead.of(await JobRepository(session).detail(job_id), settings.currency)


@router.patch(
    "/{job_id}", response_model=JobRead, operation_id="update_job", responses=problem_responses(401, 403, 404, 409, 422)
)
@invalidates
async def update_job(
    job_id: Id, data: JobUpdate, principal: ClientPrincipal, session: SessionDep, settings: SettingsDep
) -> JobRead:
    return JobRead.of(await JobService(session, settings).update(principal, job_id, data), settings.currency)


@router.post(
    "/{job_id}/cancel",
    response_model=JobRead,
    operation_id="cancel_job",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates
async def cancel_job(job_id: Id, principal: ClientPrincipal, session: SessionDep, settings: SettingsDep) -> JobRead:
    """Cancel an open or in-progress job; a funded escrow is refunded to the client."""
    return JobRead.of(await JobService(session, settings).cancel(principal, job_id), settings.currency)


@router.post(
    "/{job_id}/complete",
    response_model=JobRead,
    operation_id="complete_job",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates
async def complete_job(job_id: Id, principal: ClientPrincipal, session: SessionDep, settings: SettingsDep) -> JobRead:
    """Complete an in-progress, funded job: the escrow is paid out to the hired workers, less the fee."""
    return JobRead.of(await JobService(session, settings).complete(principal, job_id), settings.currency)
