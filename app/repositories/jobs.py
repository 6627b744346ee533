from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.models import Category, Job, Skill, User, job_skills
from app.models.enums import JobSort, JobStatus
from app.models.job import schedule_of
from app.repositories.base import Repository, SortKey
from app.repositories.geo import distance_km, within_box

JOB_READ_OPTIONS = (joinedload(Job.client), joinedload(Job.category), selectinload(Job.skills))
# One job, as a write's answer reloads it: its few skills joined into the same statement (at most 20 rows,
# one per skill). The selectinload of a list (one IN query for a page of jobs) cost a second statement and its
# machinery, about 1 ms of CPU of the detail's 2.4 (measured: docs/performance.md, "Profile of the read path").
JOB_DETAIL_OPTIONS = (joinedload(Job.client), joinedload(Job.category), joinedload(Job.skills))


def _detail_statement() -> Select[Any]:
    """`GET /jobs/{id}` as one Core select over the tables (no ORM entities): the job's columns, its client's
    and category's, its skills and shifts as JSON arrays; the job id is the parameter `job_id`."""
    jobs, users, categories, skills = (m.__table__.c for m in (Job, User, Category, Skill))
    skill = func.json_build_object(
        *(x for c in (skills.id, skills.slug, skills.name) for x in (literal_column(f"'{c.key}'"), c))
    )
    skills_json = type_coerce(
        select(func.coalesce(func.json_agg(aggregate_order_by(skill, skills.slug)), literal_column("'[]'::json")))
        .select_from(job_skills.join(Skill.__table__, skills.id == job_skills.c.skill_id))
        .where(job_skills.c.job_id == jobs.id)
        .scalar_subquery(),
        JSON,
    )
    own = [c for c in jobs if c.key not in ("search_vector", "open_disputes")]
    return (
        select(
            *own,
            categories.slug.label("category_slug"),
            categories.name.label("category_name"),
            users.full_name.label("client_full_name"),
            users.rating_sum.label("client_rating_sum"),
            users.rating_count.label("client_rating_count"),
            skills_json.label("skills"),
            schedule_of(jobs.id).label("shifts"),
        )
        .select_from(
            Job.__table__.join(User.__table__, users.id == jobs.client_id).join(
                Category.__table__, categories.id == jobs.category_id
            )
        )
        .where(jobs.id == bindparam("job_id", type_=BigInteger))
    )


# Built once (SQLAlchemy memoises a statement's cache key on the object: each execution only looks up the
# compiled form). Core rows instead of ORM objects: statement, JobRead and JSON cost 0.6-0.8 ms of CPU per call
# against 1.2-1.5 ms through the ORM (docs/performance.md, "Profile of the read path").
JOB_DETAIL = _detail_statement()


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

    async def get_detail_row(self, job_id: int) -> Mapping[str, Any] | None:
        """What `get_detail` loads, as one row of plain values (`JOB_DETAIL`'s columns), for a read that
        only shows it: skills and shifts as lists of dicts."""
        row: Mapping[str, Any] | None = (
            (await self.session.execute(JOB_DETAIL, {"job_id": job_id})).mappings().one_or_none()
        )
        return row

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
