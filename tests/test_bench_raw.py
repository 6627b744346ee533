"""The raw yardsticks are honest: on a seeded database each answers byte for byte what the project's endpoint
answers (bench/raw.py), so a ratio against them measures the project's overhead and nothing else. And no code
of the app imports the benchmark."""

import ast
import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient

from app.db import create_engine, create_sessionmaker
from app.main import create_app
from app.security import create_access_token
from app.seed import SeedPlan, seed
from app.settings import Settings
from bench import raw
from tests.conftest import delete_namespace, scratch_database

API = "/api/v1"
PLAN = SeedPlan(users=400, jobs=600, applications=6_000, payments=150, reviews=1_500, random_seed=7)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seeded(database_url: str, settings: Settings) -> Iterator[str]:
    """A database of its own, seeded once for the module (the yardsticks read committed rows)."""

    async def load(url: str) -> None:
        engine = create_engine(url, settings)
        try:
            await seed(create_sessionmaker(engine), settings, PLAN)
        finally:
            await engine.dispose()
        # The generator writes no shifts: a few jobs get a schedule (one at a whole minute, two with microseconds).
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        try:
            await conn.execute(
                "INSERT INTO shifts (job_id, starts_at, ends_at) SELECT id, s, s + interval '4 hours' FROM"
                " (SELECT id FROM jobs ORDER BY id LIMIT 3) j,"
                " LATERAL (VALUES (date_trunc('minute', now()) + interval '1 day'), (now() + interval '2 days'),"
                " (now() + interval '3 days 10 minutes')) v(s)"
            )
        finally:
            await conn.close()

    with scratch_database(database_url, "marketplace_raw") as url:
        asyncio.run(load(url))
        yield url


async def _rows(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


@pytest.fixture
async def clients(seeded: str, settings: Settings) -> AsyncIterator[tuple[AsyncClient, AsyncClient, Settings]]:
    """The project (cache off: every answer computed) and the yardsticks, on the same seeded database."""
    project_settings = settings.model_copy(update={"database_url": seeded, "cache_enabled": False})
    project = create_app(project_settings)
    redis_url = os.environ.get("APP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    namespace = f"test-raw-{uuid.uuid4().hex[:8]}"
    yardstick = raw.create_app(seeded, redis_url, namespace, settings.secret_key, settings.currency, 4)
    async with (
        project.router.lifespan_context(project),
        yardstick.router.lifespan_context(yardstick),
        AsyncClient(transport=ASGITransport(app=project), base_url="http://test") as http,
        AsyncClient(transport=ASGITransport(app=yardstick), base_url="http://raw") as bare,
    ):
        yield http, bare, project_settings
    await delete_namespace(redis_url, namespace)


async def _same(http: AsyncClient, bare: AsyncClient, path: str, raw_path: str, **kw: Any) -> bytes:
    ours, theirs = await http.get(path, **kw), await bare.get(raw_path, **kw)
    assert ours.status_code == 200, (path, ours.text[:300])
    assert theirs.status_code == 200, (raw_path, theirs.text[:300])
    assert theirs.content == ours.content, path
    return ours.content


async def test_every_yardstick_answers_the_projects_bytes(
    clients: tuple[AsyncClient, AsyncClient, Settings], seeded: str
) -> None:
    http, bare, settings = clients
    # jobs of every kind: with and without shifts, skills, location, each status
    jobs = await _rows(
        seeded,
        "(SELECT id FROM jobs WHERE EXISTS (SELECT 1 FROM shifts WHERE job_id = jobs.id) ORDER BY id LIMIT 5)"
        " UNION (SELECT id FROM jobs WHERE lat IS NULL ORDER BY id LIMIT 5)"
        " UNION (SELECT DISTINCT ON (status, escrow_status) id FROM jobs ORDER BY status, escrow_status, id)"
        " UNION (SELECT id FROM jobs ORDER BY applications_count DESC LIMIT 10)",
    )
    assert len(jobs) >= 15
    for (job,) in jobs:
        body = await _same(http, bare, f"{API}/jobs/{job}", f"/jobs/{job}")
        assert (await bare.get(f"/cached/jobs/{job}")).content == body  # the miss: computed and stored
        assert (await bare.get(f"/cached/jobs/{job}")).content == body  # the hit: one Redis GET

    # the benchmark's search: frequent words x busy cities, q and near (50 km), pages with a next cursor
    terms = await _rows(
        seeded,
        "SELECT w FROM jobs, regexp_split_to_table(lower(title), '[^a-z]+') AS w WHERE status = 'open'"
        " AND length(w) >= 4 GROUP BY w ORDER BY count(*) DESC, w LIMIT 4",
    )
    cities = await _rows(
        seeded,
        "SELECT avg(lat), avg(lng) FROM jobs WHERE status = 'open' AND lat IS NOT NULL GROUP BY city"
        " ORDER BY count(*) DESC, city LIMIT 3",
    )
    paged = 0
    for (term,) in terms:
        for lat, lng in cities:
            query = f"q={term}&near={lat:.4f},{lng:.4f}&radius_km=50"
            body = await _same(http, bare, f"{API}/jobs?{query}", f"/jobs?{query}")
            paged += b'"next_cursor":null' not in body
    for query in ("", "q=cleaning", f"near={cities[0][0]:.4f},{cities[0][1]:.4f}&radius_km=300"):
        body = await _same(http, bare, f"{API}/jobs?{query}", f"/jobs?{query}")
        paged += b'"next_cursor":null' not in body
    assert paged >= 2, "no search page had a next page: the cursor was not compared"

    # reviews received: the most reviewed users (a next page) and some with few
    users = await _rows(
        seeded,
        "(SELECT reviewee_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5)"
        " UNION (SELECT reviewee_id FROM reviews GROUP BY 1 ORDER BY count(*), 1 LIMIT 3)",
    )
    for (user,) in users:
        await _same(http, bare, f"{API}/users/{user}/reviews", f"/users/{user}/reviews")

    # best applicants of the busiest jobs, as their owners
    busy = await _rows(
        seeded,
        "SELECT j.id, j.client_id FROM jobs j WHERE EXISTS (SELECT 1 FROM applications a"
        " WHERE a.job_id = j.id AND a.status = 'pending') ORDER BY applications_count DESC, id LIMIT 8",
    )
    assert busy
    for job, owner in busy:
        auth = {"Authorization": f"Bearer {create_access_token(owner, 'client', settings)}"}
        body = await _same(
            http, bare, f"{API}/jobs/{job}/best-applicants", f"/jobs/{job}/best-applicants", headers=auth
        )
        assert body.startswith(b'[{"score":')


async def test_the_best_applicants_yardstick_checks_the_token_and_the_owner(
    clients: tuple[AsyncClient, AsyncClient, Settings], seeded: str
) -> None:
    _, bare, settings = clients
    ((job, owner, other),) = await _rows(
        seeded, "SELECT id, client_id, (SELECT min(id) FROM users WHERE id <> client_id) FROM jobs ORDER BY id LIMIT 1"
    )
    path = f"/jobs/{job}/best-applicants"
    assert (await bare.get(path)).status_code == 401
    forged = create_access_token(owner, "client", settings.model_copy(update={"secret_key": "x" * 40}))
    assert (await bare.get(path, headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    stranger = create_access_token(other, "client", settings)
    assert (await bare.get(path, headers={"Authorization": f"Bearer {stranger}"})).status_code == 403
    mine = create_access_token(owner, "client", settings)
    assert (await bare.get(path, headers={"Authorization": f"Bearer {mine}"})).status_code == 200


def test_no_app_module_imports_the_benchmark() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "bench"]
    assert offenders == []
