from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, bindparam, cast, exists, func, null, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.models import Category, Job, Skill, job_skills
from app.models.enums import JobSort, JobStatus
from app.repositories.base import Repository, SortKey
from app.repositories.geo import distance_km, within_box

JOB_READ_OPTIONS = (joinedload(Job.client), joinedload(Job.category), selectinload(Job.skills))
# One job: its few skills joined into the same statement (at most 20 rows, one per skill). The selectinload
# of a list (one IN query for a page of jobs) cost a second statement and its machinery, about 1 ms of CPU
# of the detail's 2.4 (measured: docs/performance.md, "Profile of the read path").
JOB_DETAIL_OPTIONS = (joinedload(Job.client), joinedload(Job.category), joinedload(Job.skills))
# A job's distance from `near`, built once: the haversine is a tree of a dozen SQL functions, and building it
# per search cost about a tenth of the request's CPU (py-spy). Parameters: near_lat, near_lng.
NEAR_LAT, NEAR_LNG = bindparam("near_lat", type_=Float), bindparam("near_lng", type_=Float)
NEAR_DISTANCE = distance_km(Job.lat, Job.lng, NEAR_LAT, NEAR_LNG)


@dataclass(frozen=True)
class JobSearch:
    q: str | None = None
    category: str | None = None
    skills: Sequence[str] = field(default_factory=tuple)
    pay_min: int | None = None
    pay_max: int | None = None
    near: tuple[float, float] | None = None
    radius_km: float = 50.0
    sort: JobSort = JobSort.newest


class JobRepository(Repository[Job]):
    model = Job

    async def get_detail(self, job_id: int) -> Job | None:
        """The job with everything JobRead shows (client, category, skills), in one statement."""
        stmt = select(Job).where(Job.id == job_id).options(*JOB_DETAIL_OPTIONS)
        return (await self.session.scalars(stmt)).unique().one_or_none()

    async def get_locked(self, job_id: int, *options: ORMOption) -> Job | None:
        """The job row, locked until the transaction ends: money and hiring on one job are serialised."""
        return await self.get(job_id, *options, for_update=True)

    async def search(
        self, f: JobSearch, cursor: str | None, limit: int
    ) -> tuple[list[tuple[Job, float | None]], str | None]:
        """Open jobs matching the filters, each with its distance_km (None without `near`); `sort=distance`
        needs `near`."""
        dist = NEAR_DISTANCE if f.near else None
        params = {"near_lat": f.near[0], "near_lng": f.near[1]} if f.near else None
        stmt = select(Job, (dist if dist is not None else cast(null(), Job.lat.type)).label("distance_km"))
        stmt = stmt.options(*JOB_READ_OPTIONS).where(Job.status == JobStatus.open)
        if f.q:
            stmt = stmt.where(Job.search_vector.op("@@")(func.websearch_to_tsquery("english", f.q)))
        if f.category:
            stmt = stmt.where(
                Job.category_id == select(Category.id).where(Category.slug == f.category).scalar_subquery()
            )
        if f.skills:
            # Literal ids, not a subquery: the planner then uses each skill's own frequency to choose
            # between walking the newest-first index and reading the skill's jobs (ix_job_skills_skill_job).
            skill_ids = list(await self.session.scalars(select(Skill.id).where(Skill.slug.in_(list(f.skills)))))
            stmt = stmt.where(exists().where(job_skills.c.job_id == Job.id).where(job_skills.c.skill_id.in_(skill_ids)))
        if f.pay_min is not None:
            stmt = stmt.where(Job.pay_rate_minor >= f.pay_min)
        if f.pay_max is not None:
            stmt = stmt.where(Job.pay_rate_minor <= f.pay_max)
        if f.near and dist is not None:
            stmt = stmt.where(within_box(Job.lat, Job.lng, f.near[0], f.near[1], f.radius_km), dist <= f.radius_km)
        if f.sort == JobSort.distance:
            assert dist is not None, "sort=distance needs near"
            keys = [SortKey(dist, float, descending=False), SortKey(Job.id, int, descending=False)]
        elif f.sort == JobSort.pay:
            keys = [SortKey(Job.pay_rate_minor, int), SortKey(Job.id, int)]
        else:
            keys = [SortKey(Job.created_at, datetime), SortKey(Job.id, int)]
        rows, next_cursor = await self.paginate(stmt, keys, cursor, limit, params)
        return [(row[0], row[1]) for row in rows], next_cursor

    async def list_by_client(
        self, client_id: int, statuses: Sequence[str], cursor: str | None, limit: int
    ) -> tuple[list[Job], str | None]:
        stmt = select(Job).options(*JOB_READ_OPTIONS).where(Job.client_id == client_id, Job.status.in_(statuses))
        rows, next_cursor = await self.paginate(
            stmt, [SortKey(Job.created_at, datetime), SortKey(Job.id, int)], cursor, limit
        )
        return [r[0] for r in rows], next_cursor

    async def count_application(self, job_id: int, delta: int, *, require_open: bool) -> bool:
        """Adjust applications_count atomically; with require_open, only while the job is open."""
        stmt = update(Job).where(Job.id == job_id).values(applications_count=Job.applications_count + delta)
        if require_open:
            stmt = stmt.where(Job.status == JobStatus.open)
        return await self.session.scalar(stmt.returning(Job.id)) is not None

    async def get_client_id(self, job_id: int) -> int | None:
        client_id: int | None = await self.session.scalar(select(Job.client_id).where(Job.id == job_id))
        return client_id

    async def get_status(self, job_id: int) -> str | None:
        status: str | None = await self.session.scalar(select(Job.status).where(Job.id == job_id))
        return status
