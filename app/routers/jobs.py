from typing import Annotated

from fastapi import APIRouter, Query

from app.cache import cached, invalidates
from app.cache import tags as t
from app.changes import Change
from app.deps import ClientPrincipal, SessionDep, SettingsDep
from app.errors import Unprocessable, problem_responses
from app.loaders import JobForOwner, found
from app.models.enums import JobSort
from app.params import Cursor, Limit
from app.repositories.jobs import JobRepository, JobSearch
from app.routers import API_PREFIX
from app.routers.invalidation import job_write
from app.schemas.common import MAX_MINOR, Id, Page, Slug
from app.schemas.jobs import JobCard, JobCreate, JobRead, JobUpdate
from app.services.jobs import JobService

router = APIRouter(prefix=f"{API_PREFIX}/jobs", tags=["jobs"])


# `lat,lng` in decimal degrees, each within its range (lat -90..90, lng -180..180), e.g. 52.52,13.40.
_LAT = r"-?(?:90(?:\.0{1,20})?|[1-8]?[0-9](?:\.[0-9]{1,20})?)"
_LNG = r"-?(?:180(?:\.0{1,20})?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]{1,20})?)"
NEAR_PATTERN = f"^{_LAT},{_LNG}$"


def parse_near(near: str | None) -> tuple[float, float] | None:
    """`near` has matched NEAR_PATTERN: two numbers within their ranges."""
    if near is None:
        return None
    lat, lng = near.split(",")
    return float(lat), float(lng)


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
    near: Annotated[
        str | None, Query(max_length=64, pattern=NEAR_PATTERN, description="lat,lng, e.g. 52.52,13.40")
    ] = None,
    radius_km: Annotated[float, Query(gt=0, le=1000)] = 50.0,
    sort: JobSort = JobSort.newest,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[JobCard]:
    """Open jobs. `sort=distance` (nearest first) needs `near`; `near` limits results to `radius_km`."""
    if sort == JobSort.distance and near is None:
        raise Unprocessable("sort=distance needs near=lat,lng.")
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
        items=[JobCard.of(job, settings.currency, distance_km=None if d is None else round(d, 3)) for job, d in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "", status_code=201, response_model=JobRead, operation_id="create_job", responses=problem_responses(401, 403, 422)
)
@invalidates(job_write)
async def create_job(
    data: JobCreate, principal: ClientPrincipal, session: SessionDep, settings: SettingsDep
) -> JobRead:
    return JobRead.of(await JobService(session, settings).create(principal, data), settings.currency)


@router.get("/{job_id}", response_model=JobRead, operation_id="get_job", responses=problem_responses(404))
@cached(scope="public", ttl=300, tags=lambda p, _: [t.job(p["job_id"])])
async def get_job(job_id: Id, session: SessionDep, settings: SettingsDep) -> JobRead:
    return JobRead.of_row(found(await JobRepository(session).get_detail_row(job_id), "Job", job_id), settings.currency)


@router.patch(
    "/{job_id}", response_model=JobRead, operation_id="update_job", responses=problem_responses(401, 403, 404, 409, 422)
)
@invalidates(job_write)
async def update_job(job: JobForOwner, data: JobUpdate, session: SessionDep, settings: SettingsDep) -> Change[JobRead]:
    change = await JobService(session, settings).update(job, data)
    return change.map(lambda j: JobRead.of(j, settings.currency))


@router.post(
    "/{job_id}/cancel",
    response_model=JobRead,
    operation_id="cancel_job",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(job_write)
async def cancel_job(job: JobForOwner, session: SessionDep, settings: SettingsDep) -> Change[JobRead]:
    """Cancel an open or in-progress job; a funded escrow is refunded to the client."""
    change = await JobService(session, settings).cancel(job)
    return change.map(lambda j: JobRead.of(j, settings.currency))


@router.post(
    "/{job_id}/complete",
    response_model=JobRead,
    operation_id="complete_job",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(job_write)
async def complete_job(job: JobForOwner, session: SessionDep, settings: SettingsDep) -> Change[JobRead]:
    """Complete an in-progress, funded job: the escrow is paid out to the hired workers, less the fee."""
    change = await JobService(session, settings).complete(job)
    return change.map(lambda j: JobRead.of(j, settings.currency))
