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
    yield engine
    await engine.dispose()


async def test_no_endpoint_scans_a_large_table_or_reads_far_more_than_it_returns(
    seeded: AsyncEngine, settings: Settings
) -> None:
    findings, report = await check(seeded, settings)
    assert report, "no statement was checked"
    assert not findings, "\n".join(f"{f.endpoint}: {'; '.join(f.problems)}\n  {f.sql}" for f in findings)
    assert await unused_indexes(seeded, report) == [], "an index of the migrations serves no endpoint"
