import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload

from app.models import Application, Dispute, Job, User, job_skills, user_skills
from app.models.enums import ApplicationStatus, DisputeKind, DisputeStatus
from app.repositories.base import Repository, SortKey
from app.repositories.geo import distance_km

NEWEST = [SortKey(Application.created_at, datetime), SortKey(Application.id, int)]

# Best-applicants score weights and the rating prior (issue #2): 5 virtual ratings of 3.0.
PRIOR_COUNT, PRIOR_MEAN, DISTANCE_SCALE_KM, EXPERIENCE_CAP = 5, 3.0, 50.0, 20
# Reliability (issue #10): (attended + 4) / (attended + no_shows + late_cancellations + 4).
RELIABILITY_PRIOR = 4


class ApplicationRepository(Repository[Application]):
    model = Application

    async def get_detail(self, application_id: int) -> Application | None:
        return await self.get(application_id, joinedload(Application.worker), joinedload(Application.job))

    async def list_by_job(
        self, job_id: int, status: ApplicationStatus | None, cursor: str | None, limit: int
    ) -> tuple[list[Application], str | None]:
        stmt = select(Application).options(joinedload(Application.worker)).where(Application.job_id == job_id)
        if status:
            stmt = stmt.where(Application.status == status)
        rows, next_cursor = await self.paginate(stmt, NEWEST, cursor, limit)
        return [r[0] for r in rows], next_cursor

    async def list_by_worker(
        self, worker_id: int, status: ApplicationStatus | None, cursor: str | None, limit: int
    ) -> tuple[list[Application], str | None]:
        stmt = select(Application).options(joinedload(Application.job)).where(Application.worker_id == worker_id)
        if status:
            stmt = stmt.where(Application.status == status)
        rows, next_cursor = await self.paginate(stmt, NEWEST, cursor, limit)
        return [r[0] for r in rows], next_cursor

    async def reject_pending(self, job_id: int) -> list[int]:
        """Reject the job's pending applications; their workers."""
        rejected = await self.session.scalars(
            update(Application)
            .where(Application.job_id == job_id, Application.status == ApplicationStatus.pending)
            .values(status=ApplicationStatus.rejected, decided_at=func.now())
            .returning(Application.worker_id)
        )
        return list(rejected)

    async def list_applicant_ids(self, job_id: int) -> list[int]:
        """Every worker who applied to the job (their own application lists embed the job)."""
        return list(
            await self.session.scalars(select(Application.worker_id).where(Application.job_id == job_id).distinct())
        )

    async def list_hired_worker_ids(self, job_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(Application.worker_id)
            .where(Application.job_id == job_id, Application.status == ApplicationStatus.accepted)
            .order_by(Application.id)
        )
        return list(rows)

    async def list_hired_with_awards(self, job_id: int) -> list[tuple[int, int | None]]:
        """(worker id, what a resolved work dispute awarded them or None) for each hired worker, by id."""
        award = (
            select(Dispute.worker_amount_minor)
            .where(
                Dispute.job_id == Application.job_id,
                Dispute.worker_id == Application.worker_id,
                Dispute.kind == DisputeKind.work,
                Dispute.status == DisputeStatus.resolved,
            )
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(Application.worker_id, award)
            .where(Application.job_id == job_id, Application.status == ApplicationStatus.accepted)
            .order_by(Application.worker_id)
        )
        return [(worker, amount) for worker, amount in rows]

    async def is_hired(self, job_id: int, worker_id: int) -> bool:
        found = await self.session.scalar(
            select(Application.id).where(
                Application.job_id == job_id,
                Application.worker_id == worker_id,
                Application.status == ApplicationStatus.accepted,
            )
        )
        return found is not None

    async def list_ranked(self, job_id: int, limit: int) -> list[Row[Any]]:
        """Pending applications by score, computed in one statement however many applicants there are.

        Rows: (Application with worker loaded, score, rating, skills, distance, experience, reliability,
        distance_km in whole km).

        Each applicant's parts are computed once, in a MATERIALIZED CTE over the job's pending applications
        and their workers (only the columns the score needs); the top `limit` are then joined back to their
        application and worker rows. Written inline, PostgreSQL evaluated every part of the score again in
        the ORDER BY and in each output column (the haversine distance ten times per applicant), which on
        the busiest job of the large dataset (1,176 pending applicants) was most of the statement's time.
        """
        return list((await self.session.execute(ranked_applicants(), {"job_id": job_id, "limit": limit})).all())


JOB, LIMIT = bindparam("job_id", type_=BigInteger), bindparam("limit", type_=Integer)


@functools.cache
def ranked_applicants() -> Select[Any]:
    """The ranking statement of `list_ranked`, built once: a new tree of this size per request (the
    haversine, the CASEs, a CTE) cost more CPU than running it. Parameters: `job_id`, `limit`."""
    worker = aliased(User)
    job_skill_count = select(func.count()).select_from(job_skills).where(job_skills.c.job_id == JOB).scalar_subquery()
    shared_skills = (
        select(func.count())
        .select_from(user_skills)
        .join(job_skills, and_(job_skills.c.skill_id == user_skills.c.skill_id, job_skills.c.job_id == JOB))
        .where(user_skills.c.user_id == worker.id)
        .scalar_subquery()
    )
    rating = (
        (cast(worker.rating_sum, Float) + PRIOR_COUNT * PRIOR_MEAN) / (worker.rating_count + PRIOR_COUNT) - 1.0
    ) / 4.0
    skills = case((job_skill_count == 0, literal(1.0)), else_=cast(shared_skills, Float) / cast(job_skill_count, Float))
    # Whole km, the distance the client is shown: the score is computed from it too, so neither tells
    # more of the worker's private location (docs/security.md, Privacy).
    km = func.round(distance_km(Job.lat, Job.lng, worker.lat, worker.lng))
    experience = cast(func.least(worker.completed_jobs, EXPERIENCE_CAP), Float) / float(EXPERIENCE_CAP)
    attended = cast(worker.attended_shifts + RELIABILITY_PRIOR, Float)
    reliability = attended / (worker.attended_shifts + worker.no_shows + worker.late_cancellations + RELIABILITY_PRIOR)
    parts = (
        select(
            Application.id,
            Application.created_at,
            rating.label("rating"),
            skills.label("skills"),
            km.label("distance_km"),
            experience.label("experience"),
            reliability.label("reliability"),
        )
        .join(worker, worker.id == Application.worker_id)
        .join(Job, Job.id == Application.job_id)
        .where(Application.job_id == JOB, Application.status == ApplicationStatus.pending)
        .cte("parts")
        .prefix_with("MATERIALIZED")  # computed once per applicant, not once per use
    )
    # CASE, not COALESCE(GREATEST(...)): GREATEST ignores NULLs, so a missing location would score 0.
    distance = case(
        (parts.c.distance_km.is_(None), 0.5),
        else_=func.greatest(0.0, 1.0 - parts.c.distance_km / DISTANCE_SCALE_KM),
    )
    score = (
        35 * parts.c.rating + 20 * parts.c.skills + 20 * distance + 10 * parts.c.experience + 15 * parts.c.reliability
    )
    top = (
        select(
            parts.c.id,
            score.label("score"),
            parts.c.rating,
            parts.c.skills,
            distance.label("distance"),
            parts.c.experience,
            parts.c.reliability,
            parts.c.distance_km,
        )
        .order_by(score.desc(), parts.c.created_at, parts.c.id)
        .limit(LIMIT)
        .subquery("top")
    )
    stmt = (
        select(
            Application,
            top.c.score,
            top.c.rating,
            top.c.skills,
            top.c.distance,
            top.c.experience,
            top.c.reliability,
            top.c.distance_km,
        )
        .join(top, top.c.id == Application.id)
        .join(worker, worker.id == Application.worker_id)
        .options(contains_eager(Application.worker.of_type(worker)))
        .order_by(top.c.score.desc(), Application.created_at, Application.id)
    )
    return stmt
