"""Query plans: on a seeded dataset, no endpoint's statement scans a large table sequentially or reads far
more rows than it returns (bench/plans.py; run it on the large dataset with `python -m bench.plans`)."""

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine, create_sessionmaker
from app.seed import SCALES, seed
from app.settings import Settings
from bench.plans import check, unused_indexes
from tests.conftest import scratch_database

# The benchmark's dataset (`marketplace seed --scale large`): about a minute to load, so CI checks the plans
# PostgreSQL really chooses at that size (a smaller table invites sequential scans that are right for it).
CI_PLAN = SCALES["large"]


@pytest.fixture(scope="module")
def seeded_url(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, "marketplace_plans") as url:
        yield url


@pytest.fixture
async def seeded(seeded_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(seeded_url, settings)
    await seed(create_sessionmaker(engine), settings, CI_PLAN)
    async with engine.begin() as conn:
        # Every seeded skill is common; a rare one is what ix_job_skills_skill_job is for.
        await conn.execute(text("INSERT INTO skills (slug, name) VALUES ('welding', 'Underwater welding')"))
        await conn.execute(
            text(
                "INSERT INTO job_skills (job_id, skill_id) SELECT jobs.id, skills.id FROM jobs, skills"
                " WHERE skills.slug = 'welding' AND jobs.status = 'open' ORDER BY jobs.id LIMIT 3"
            )
        )
        await conn.execute(text("ANALYZE job_skills"))
        # The seed writes no notifications or messages: one per application for its job's client (a third
        # of them read), and a short thread on 50,000 applications.
        await conn.execute(
            text(
                "INSERT INTO notifications (user_id, kind, title, link, read_at)"
                " SELECT j.client_id, 'application_received', 'New application', '/jobs/' || j.id,"
                " CASE WHEN a.id % 3 = 0 THEN now() END"
                " FROM applications a JOIN jobs j ON j.id = a.job_id"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO messages (application_id, sender_id, body)"
                " SELECT a.id, a.worker_id, 'Hello ' || n FROM"
                " (SELECT id, worker_id FROM applications ORDER BY id LIMIT 50000) a, generate_series(1, 4) n"
            )
        )
        await conn.execute(text("ANALYZE notifications"))
        await conn.execute(text("ANALYZE messages"))
    yield engine
    await engine.dispose()


async def test_no_endpoint_scans_a_large_table_or_reads_far_more_than_it_returns(
    seeded: AsyncEngine, settings: Settings
) -> None:
    findings, report = await check(seeded, settings)
    assert report, "no statement was checked"
    assert not findings, "\n".join(f"{f.endpoint}: {'; '.join(f.problems)}\n  {f.sql}" for f in findings)
    assert await unused_indexes(seeded, report) == [], "an index of the migrations serves no endpoint"
