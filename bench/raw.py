"""Raw yardsticks: the benchmark's read endpoints hand-written on raw asyncpg, to measure the project against.

    .venv/bin/python -m bench.raw --port 8100 [--database-url URL] [--redis-url URL] [--namespace NS]

A small FastAPI app served the way `marketplace serve` serves the project (uvicorn, uvloop, httptools, no
access log, no server header, 1 worker), with none of the project's middleware, ORM, pydantic models or
cache. Each endpoint sends the same queries as the project's endpoint (the same joins, filters, ordering,
ranking formula and limits, written by hand and selecting only the columns the answer shows) on a pool of
raw asyncpg connections, outside any transaction, and writes the same JSON bytes with `json.dumps`
(tests/test_bench_raw.py compares the bodies byte for byte with the project's on a seeded database):

- `GET /noop`: a constant body; what the framework and the server cost;
- `GET /jobs/{id}`: `GET /api/v1/jobs/{id}` (one statement: the job with its client, category, shifts and skills);
- `GET /jobs?q=&near=&radius_km=`: the newest-first page of `GET /api/v1/jobs` with those filters (the
  search the benchmark sends), with its cursor to the next page;
- `GET /users/{id}/reviews`: `GET /api/v1/users/{id}/reviews` (the user; their latest reviews received);
- `GET /jobs/{id}/best-applicants`: `GET /api/v1/jobs/{id}/best-applicants` (the same score in one SQL
  statement). The bearer token is verified as the project verifies it (PyJWT, HS256, the same claims) and the
  caller must own the job, whose owner is remembered per process as the project does (app/loaders.py);
- `GET /cached/jobs/{id}`: the job detail's body from one Redis GET (computed and SET on a miss, which the
  benchmark's fill makes happen once per key): what one Redis round trip costs.

Nothing in app/ imports this module (tests/test_bench_raw.py checks it).
"""

import argparse
import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import jwt
from fastapi import FastAPI, Header, Query, Request, Response
from redis.asyncio import Redis

from app.repositories.geo import EARTH_RADIUS_KM, box_spans

JSON = "application/json"
PAGE = 20
BEST_LIMIT = 10
CACHE_TTL_SECONDS = 300

# --- SQL: the project's queries, by hand --------------------------------------------------------------------

_SHIFTS = (
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'starts_at', timezone('UTC', s.starts_at),"
    " 'ends_at', timezone('UTC', s.ends_at)) ORDER BY s.starts_at), jsonb_build_array())"
    " FROM shifts s WHERE s.job_id = j.id)"
)
_VIEW = (
    "j.id, j.title, j.description, j.status, j.pay_type, j.pay_rate_minor, j.hours, j.openings,"
    " j.total_cost_minor, j.city, j.lat, j.lng, j.starts_at, j.ends_at, j.created_at,"
    f" c.id AS category_id, c.slug AS category_slug, c.name AS category_name, {_SHIFTS} AS shifts,"
    " u.id AS client_id, u.full_name AS client_name"
)
_SKILLS_JSON = (
    "(SELECT coalesce(json_agg(json_build_object('id', s.id, 'slug', s.slug, 'name', s.name) ORDER BY s.slug),"
    " '[]'::json) FROM job_skills js JOIN skills s ON s.id = js.skill_id WHERE js.job_id = j.id)"
)
# One statement, as the project's detail (app/repositories/jobs.py JOB_DETAIL): the skills ride in the row.
JOB_DETAIL = (
    f"SELECT {_VIEW}, {_SKILLS_JSON} AS skills, j.hired_count, j.applications_count, j.escrow_status,"
    " j.updated_at, j.completed_at, j.cancelled_at,"
    " u.rating_sum AS client_rating_sum, u.rating_count AS client_rating_count"
    " FROM jobs j JOIN users u ON u.id = j.client_id JOIN categories c ON c.id = j.category_id WHERE j.id = $1"
)
SKILLS = (
    "SELECT js.job_id, s.id, s.slug, s.name FROM job_skills js JOIN skills s ON s.id = js.skill_id"
    " WHERE js.job_id = ANY($1::bigint[]) ORDER BY s.slug"
)


def haversine(lat1: str, lng1: str, lat2: str, lng2: str) -> str:
    """The distance expression of app/repositories/geo.py, operation for operation (so the same doubles)."""
    a = (
        f"(power(sin(radians({lat2} - {lat1}) / 2.0), 2.0)"
        f" + cos(radians({lat1})) * cos(radians({lat2})) * power(sin(radians({lng2} - {lng1}) / 2.0), 2))"
    )
    return f"(2 * {EARTH_RADIUS_KM} * asin(sqrt(CASE WHEN {a} > 1.0 THEN 1.0 ELSE {a} END)))"


def search_sql(q: str | None, near: tuple[float, float] | None, radius_km: float) -> tuple[str, list[Any]]:
    """Open jobs newest first, with the filters of the benchmark's search (q, near within radius_km)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["j.status = 'open'"]
    distance = "NULL::float8"
    if q:
        where.append(f"j.search_vector @@ websearch_to_tsquery('english', {arg(q)})")
    if near:
        lat, lng = arg(near[0]), arg(near[1])
        distance = haversine("j.lat", "j.lng", f"{lat}::float8", f"{lng}::float8")
        south, north, spans = box_spans(near[0], near[1], radius_km)
        s, n = arg(south), arg(north)
        where.append(
            "("
            + " OR ".join(f"point(j.lng, j.lat) <@ box(point({arg(w)}, {s}), point({arg(e)}, {n}))" for w, e in spans)
            + ")"
        )
        where.append(f"{distance} <= {arg(radius_km)}")
    sql = (
        f"SELECT {_VIEW}, {distance} AS distance_km FROM jobs j JOIN users u ON u.id = j.client_id"
        f" JOIN categories c ON c.id = j.category_id WHERE {' AND '.join(where)}"
        f" ORDER BY j.created_at DESC, j.id DESC LIMIT {PAGE + 1}"
    )
    return sql, args


REVIEWEE = "SELECT role, rating_sum, rating_count FROM users WHERE id = $1"
REVIEWS = (
    "SELECT r.id, r.rating, r.comment, r.read_at, r.created_at, j.id AS job_id, j.title AS job_title,"
    " a.id AS reviewer_id, a.full_name AS reviewer_name, b.id AS reviewee_id, b.full_name AS reviewee_name"
    " FROM reviews r JOIN jobs j ON j.id = r.job_id JOIN users a ON a.id = r.reviewer_id"
    " JOIN users b ON b.id = r.reviewee_id WHERE r.reviewee_id = $1"
    f" ORDER BY r.created_at DESC, r.id DESC LIMIT {PAGE + 1}"
)
JOB_OWNER = "SELECT client_id FROM jobs WHERE id = $1"
# app/repositories/applications.py list_ranked, with its constants written in.
_RATING = "((CAST(w.rating_sum AS float8) + 5 * 3.0) / (w.rating_count + 5) - 1.0) / 4.0"
_JOB_SKILLS = "(SELECT count(*) FROM job_skills WHERE job_skills.job_id = $1)"
_SHARED = (
    "(SELECT count(*) FROM user_skills JOIN job_skills ON job_skills.skill_id = user_skills.skill_id"
    " AND job_skills.job_id = $1 WHERE user_skills.user_id = w.id)"
)
_SKILL_SHARE = (
    f"CASE WHEN {_JOB_SKILLS} = 0 THEN 1.0 ELSE CAST({_SHARED} AS float8) / CAST({_JOB_SKILLS} AS float8) END"
)
_KM = f"round({haversine('j.lat', 'j.lng', 'w.lat', 'w.lng')})"
_DISTANCE = f"CASE WHEN {_KM} IS NULL THEN 0.5 ELSE greatest(0.0, 1.0 - {_KM} / 50.0) END"
_EXPERIENCE = "CAST(least(w.completed_jobs, 20) AS float8) / 20.0"
_RELIABILITY = "CAST(w.attended_shifts + 4 AS float8) / (w.attended_shifts + w.no_shows + w.late_cancellations + 4)"
_SCORE = f"35 * ({_RATING}) + 20 * {_SKILL_SHARE} + 20 * {_DISTANCE} + 10 * ({_EXPERIENCE}) + 15 * ({_RELIABILITY})"
BEST_APPLICANTS = (
    f"SELECT {_SCORE} AS score, {_RATING} AS rating, {_SKILL_SHARE} AS skills, {_DISTANCE} AS distance,"
    f" {_EXPERIENCE} AS experience, {_RELIABILITY} AS reliability, {_KM} AS distance_km,"
    " a.id, a.job_id, a.worker_id, a.status, a.cover_letter, a.bid_minor, a.estimated_hours, a.created_at,"
    " a.decided_at, w.full_name, w.headline, w.city, w.rating_sum, w.rating_count, w.completed_jobs,"
    " w.attended_shifts, w.no_shows, w.late_cancellations"
    " FROM applications a JOIN users w ON w.id = a.worker_id JOIN jobs j ON j.id = a.job_id"
    " WHERE a.job_id = $1 AND a.status = 'pending'"
    f" ORDER BY {_SCORE} DESC, a.created_at, a.id LIMIT $2"
)

# --- JSON: the project's shapes, by hand ---------------------------------------------------------------------


def ts(value: datetime | None) -> str | None:
    """A timestamp as pydantic writes it: ISO 8601, UTC as `Z`."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def rating_avg(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8 unescaped, as pydantic's dump_json."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def job_view(row: asyncpg.Record, currency: str, skills: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields every view of a job shows (app/schemas/jobs.py _JobView), in their order."""
    shifts = [
        {
            "id": s["id"],
            "starts_at": ts(datetime.fromisoformat(s["starts_at"])),
            "ends_at": ts(datetime.fromisoformat(s["ends_at"])),
        }
        for s in json.loads(row["shifts"])
    ]
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "category": {"id": row["category_id"], "slug": row["category_slug"], "name": row["category_name"]},
        "skills": skills,
        "pay_type": row["pay_type"],
        "pay_rate_minor": row["pay_rate_minor"],
        "hours": row["hours"],
        "openings": row["openings"],
        "total_cost_minor": row["total_cost_minor"],
        "currency": currency,
        "location": None if row["lat"] is None else {"city": row["city"], "lat": row["lat"], "lng": row["lng"]},
        "starts_at": ts(row["starts_at"]),
        "ends_at": ts(row["ends_at"]),
        "shifts": shifts,
        "created_at": ts(row["created_at"]),
    }


def job_read(row: asyncpg.Record, currency: str, skills: list[dict[str, Any]]) -> dict[str, Any]:
    """JobRead: the view, then the detail's own fields."""
    return job_view(row, currency, skills) | {
        "hired_count": row["hired_count"],
        "applications_count": row["applications_count"],
        "funded": row["escrow_status"] == "held",
        "escrow_status": row["escrow_status"],
        "client": {
            "id": row["client_id"],
            "full_name": row["client_name"],
            "rating_avg": rating_avg(row["client_rating_sum"], row["client_rating_count"]),
        },
        "updated_at": ts(row["updated_at"]),
        "completed_at": ts(row["completed_at"]),
        "cancelled_at": ts(row["cancelled_at"]),
    }


def cursor(values: tuple[Any, ...]) -> str:
    """app/pagination.py encode_cursor."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def problem(status: int, title: str) -> Response:
    return Response(
        dumps({"status": status, "title": title}), status_code=status, media_type="application/problem+json"
    )


# --- the app ------------------------------------------------------------------------------------------------


def create_app(database_url: str, redis_url: str, namespace: str, secret: str, currency: str, pool: int) -> FastAPI:
    """The yardstick app: one asyncpg pool, one Redis client."""
    state: dict[str, Any] = {"owners": {}}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["db"] = await asyncpg.create_pool(database_url.replace("+asyncpg", ""), min_size=pool, max_size=pool)
        state["redis"] = Redis.from_url(redis_url)
        try:
            yield
        finally:
            await state["redis"].aclose()
            await state["db"].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    async def job_detail(job_id: int) -> bytes | None:
        db: asyncpg.Pool = state["db"]
        row = await db.fetchrow(JOB_DETAIL, job_id)
        if row is None:
            return None
        return dumps(job_read(row, currency, json.loads(row["skills"])))

    @app.get("/noop")
    async def noop() -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    @app.get("/jobs/{job_id}")
    async def get_job(job_id: int) -> Response:
        body = await job_detail(job_id)
        return problem(404, "Not Found") if body is None else Response(body, media_type=JSON)

    @app.get("/cached/jobs/{job_id}")
    async def get_cached_job(job_id: int) -> Response:
        redis: Redis = state["redis"]
        key = f"{{{namespace}}}:raw:job:{job_id}"
        body = await redis.get(key)
        if body is None:  # the fill before a measured run; a measured HIT is this one GET
            body = await job_detail(job_id)
            if body is None:
                return problem(404, "Not Found")
            await redis.set(key, body, ex=CACHE_TTL_SECONDS)
        return Response(body, media_type=JSON)

    @app.get("/jobs")
    async def list_jobs(
        q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        near: Annotated[str | None, Query(max_length=64)] = None,
        radius_km: Annotated[float, Query(gt=0, le=1000)] = 50.0,
    ) -> Response:
        point = None
        if near is not None:
            lat, lng = near.split(",")
            point = (float(lat), float(lng))
        sql, args = search_sql(q, point, radius_km)
        db: asyncpg.Pool = state["db"]
        rows = await db.fetch(sql, *args)
        next_cursor = cursor((rows[PAGE - 1]["created_at"], rows[PAGE - 1]["id"])) if len(rows) > PAGE else None
        rows = rows[:PAGE]
        by_job: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
        if rows:
            for s in await db.fetch(SKILLS, list(by_job)):
                by_job[s["job_id"]].append({"id": s["id"], "slug": s["slug"], "name": s["name"]})
        items = [
            job_view(row, currency, by_job[row["id"]])
            | {
                "client": {"id": row["client_id"], "full_name": row["client_name"]},
                "distance_km": None if row["distance_km"] is None else round(row["distance_km"], 3),
            }
            for row in rows
        ]
        return Response(dumps({"items": items, "next_cursor": next_cursor}), media_type=JSON)

    @app.get("/users/{user_id}/reviews")
    async def list_user_reviews(user_id: int) -> Response:
        db: asyncpg.Pool = state["db"]
        user = await db.fetchrow(REVIEWEE, user_id)
        if user is None or user["role"] == "admin":
            return problem(404, "Not Found")
        rows = await db.fetch(REVIEWS, user_id)
        next_cursor = cursor((rows[PAGE - 1]["created_at"], rows[PAGE - 1]["id"])) if len(rows) > PAGE else None
        items = [
            {
                "id": r["id"],
                "job": {"id": r["job_id"], "title": r["job_title"]},
                "reviewer": {"id": r["reviewer_id"], "full_name": r["reviewer_name"]},
                "reviewee": {"id": r["reviewee_id"], "full_name": r["reviewee_name"]},
                "rating": r["rating"],
                "comment": r["comment"],
                "read_at": ts(r["read_at"]),
                "created_at": ts(r["created_at"]),
            }
            for r in rows[:PAGE]
        ]
        page = {
            "items": items,
            "next_cursor": next_cursor,
            "rating_avg": rating_avg(user["rating_sum"], user["rating_count"]),
            "rating_count": user["rating_count"],
        }
        return Response(dumps(page), media_type=JSON)

    @app.get("/jobs/{job_id}/best-applicants")
    async def list_best_applicants(
        job_id: int, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Response:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            claims = jwt.decode(
                token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "type", "role"]}
            )
            if claims["type"] != "access":
                raise ValueError("not an access token")
            caller = int(claims["sub"])
        except (jwt.PyJWTError, ValueError):
            return problem(401, "Unauthorized")
        if scheme.lower() != "bearer":
            return problem(401, "Unauthorized")
        db: asyncpg.Pool = state["db"]
        owners: dict[int, int] = state["owners"]
        owner = owners.get(job_id)
        if owner is None:
            owner = await db.fetchval(JOB_OWNER, job_id)
            if owner is None:
                return problem(404, "Not Found")
            owners[job_id] = owner
        if owner != caller and claims["role"] != "admin":
            return problem(403, "Forbidden")
        rows = await db.fetch(BEST_APPLICANTS, job_id, BEST_LIMIT)
        ranked = [
            {
                "score": round(r["score"], 4),
                "parts": {
                    name: round(r[name], 4) for name in ("rating", "skills", "distance", "experience", "reliability")
                },
                "distance_km": None if r["distance_km"] is None else int(r["distance_km"]),
                "reliability": {
                    "attended": r["attended_shifts"],
                    "no_shows": r["no_shows"],
                    "late_cancellations": r["late_cancellations"],
                    "score": round(
                        (r["attended_shifts"] + 4)
                        / (r["attended_shifts"] + r["no_shows"] + r["late_cancellations"] + 4),
                        4,
                    ),
                },
                "application": {
                    "id": r["id"],
                    "job_id": r["job_id"],
                    "worker_id": r["worker_id"],
                    "status": r["status"],
                    "cover_letter": r["cover_letter"],
                    "bid_minor": r["bid_minor"],
                    "estimated_hours": r["estimated_hours"],
                    "created_at": ts(r["created_at"]),
                    "decided_at": ts(r["decided_at"]),
                    "worker": {
                        "id": r["worker_id"],
                        "full_name": r["full_name"],
                        "headline": r["headline"],
                        "city": r["city"],
                        "rating_avg": rating_avg(r["rating_sum"], r["rating_count"]),
                        "rating_count": r["rating_count"],
                        "completed_jobs": r["completed_jobs"],
                    },
                },
            }
            for r in rows
        ]
        return Response(dumps(ranked), media_type=JSON)

    return app


def app_from_env() -> FastAPI:
    """The app configured by RAW_* variables (uvicorn's factory)."""
    env = os.environ
    return create_app(
        env["RAW_DATABASE_URL"],
        env.get("RAW_REDIS_URL", "redis://127.0.0.1:6379/0"),
        env.get("RAW_NAMESPACE", "raw"),
        env["RAW_SECRET_KEY"],
        env.get("RAW_CURRENCY", "USD"),
        int(env.get("RAW_POOL_SIZE", "16")),
    )


def main() -> None:
    """Serve the yardsticks as `marketplace serve` serves the project."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    import uvicorn

    uvicorn.run(
        "bench.raw:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        loop="uvloop",
        http="httptools",
        server_header=False,
    )


if __name__ == "__main__":
    main()
