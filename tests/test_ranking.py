"""GET /jobs/{job_id}/best-applicants: who may see it, the score on a hand-built case, and its query budget.

score = 35 x rating + 20 x skills + 20 x distance + 10 x experience + 15 x reliability, where
rating = ((n x avg + 5 x 3.0) / (n + 5) - 1) / 4, skills = share of the job's skills the worker has (1 if the job
lists none), distance = max(0, 1 - km / 50) with both locations else 0.5, experience = min(completed_jobs, 20) / 20,
reliability = (attended + 4) / (attended + no_shows + late_cancellations + 4).
"""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Application, Job, Skill, User, user_skills
from app.settings import Settings
from tests.conftest import StatementCounter
from tests.factories import API, Actor, apply, assert_problem, hire, make_admin, post_job, register

BERLIN = {"city": "Berlin", "lat": 52.52, "lng": 13.405}
EARTH_RADIUS_KM = 6371.0088


def north_of(place: dict[str, Any], km: float, city: str) -> dict[str, Any]:
    """A point `km` due north: along a meridian the great-circle distance is just R x the latitude difference."""
    return {"city": city, "lat": place["lat"] + math.degrees(km / EARTH_RADIUS_KM), "lng": place["lng"]}


async def ranking(client: AsyncClient, actor: Actor, job_id: int, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/jobs/{job_id}/best-applicants", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def set_profile(client: AsyncClient, worker: Actor, **fields: Any) -> None:
    response = await client.patch(f"{API}/users/me", json=fields, headers=worker.headers)
    assert response.status_code == 200, response.text


async def set_record(db: AsyncSession, worker: Actor, *, rating_sum: int, rating_count: int, completed: int) -> None:
    """Ratings and completed jobs come from finished work; arrange them directly."""
    await db.execute(
        update(User)
        .where(User.id == worker.id)
        .values(rating_sum=rating_sum, rating_count=rating_count, completed_jobs=completed)
    )
    await db.commit()


async def set_reliability(db: AsyncSession, worker: Actor, *, attended: int, no_shows: int, late: int) -> None:
    """Attendance comes from shifts worked; arrange the counters directly."""
    await db.execute(
        update(User)
        .where(User.id == worker.id)
        .values(attended_shifts=attended, no_shows=no_shows, late_cancellations=late)
    )
    await db.commit()


async def test_best_applicants_are_for_the_owner_and_admins_only(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, other_client, worker = (
        await register(client, "client"),
        await register(client, "client"),
        await register(client),
    )
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    url = f"{API}/jobs/{job['id']}/best-applicants"
    for actor in (owner, await make_admin(client, db, settings)):
        assert [r["application"]["id"] for r in await ranking(client, actor, job["id"])] == [application["id"]]
    assert assert_problem(await client.get(url, headers=other_client.headers), 403)["title"] == "Forbidden"
    assert_problem(await client.get(url, headers=worker.headers), 403)  # even an applicant
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get(f"{API}/jobs/999999999/best-applicants", headers=owner.headers), 404)


async def test_hand_built_ranking_has_the_exact_order_scores_and_parts(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=["plumbing", "electrical"], location=BERLIN)

    # far: 5 ratings of 5.0, none of the job's skills, 60 km away, no completed jobs
    far = await register(client, full_name="Far Away")
    await set_profile(client, far, skills=["painting"], location=north_of(BERLIN, 60, "Far"))
    await set_record(db, far, rating_sum=25, rating_count=5, completed=0)
    await set_reliability(db, far, attended=16, no_shows=0, late=0)
    # nowhere: no ratings, 1 of 2 skills, no location, 10 completed jobs
    nowhere = await register(client, full_name="No Location")
    await set_profile(client, nowhere, skills=["plumbing", "carpentry"])
    await set_record(db, nowhere, rating_sum=0, rating_count=0, completed=10)
    # local: 3 ratings of 1.0, both skills (plus one more), same place, 20 completed jobs
    local = await register(client, full_name="Right Here")
    await set_profile(client, local, skills=["electrical", "plumbing", "painting"], location=BERLIN)
    await set_record(db, local, rating_sum=3, rating_count=3, completed=20)
    await set_reliability(db, local, attended=0, no_shows=4, late=4)
    # star: 10 ratings averaging 4.8, both skills, 10 km away, 25 completed jobs (capped at 20)
    star = await register(client, full_name="Star Worker")
    await set_profile(client, star, skills=["plumbing", "electrical"], location=north_of(BERLIN, 10, "Near"))
    await set_record(db, star, rating_sum=48, rating_count=10, completed=25)
    await set_reliability(db, star, attended=6, no_shows=2, late=0)

    # applied in the reverse of the expected order, so the order cannot come from the application ids
    apps = {w.id: await apply(client, w, job["id"]) for w in (far, nowhere, local, star)}

    expected = [
        # star: rating ((48 + 15) / 15 - 1) / 4 = 0.8; skills 2/2; distance 1 - 10/50 = 0.8; experience 20/20;
        #       reliability (6 + 4) / (6 + 2 + 0 + 4) = 10/12
        #       score 35 x 0.8 + 20 x 1 + 20 x 0.8 + 10 x 1 + 15 x 10/12 = 28 + 20 + 16 + 10 + 12.5 = 86.5
        (star, 86.5, {"rating": 0.8, "skills": 1.0, "distance": 0.8, "experience": 1.0, "reliability": 10 / 12}, 10.0),
        # local: rating ((3 + 15) / 8 - 1) / 4 = 0.3125; skills 2/2; distance 1; experience 20/20;
        #        reliability 4 / (0 + 4 + 4 + 4) = 1/3
        #        score 10.9375 + 20 + 20 + 10 + 5 = 65.9375
        (
            local,
            65.9375,
            {"rating": 0.3125, "skills": 1.0, "distance": 1.0, "experience": 1.0, "reliability": 1 / 3},
            0.0,
        ),
        # nowhere: rating (15 / 5 - 1) / 4 = 0.5; skills 1/2; no location 0.5; experience 10/20; a new worker's
        #          reliability is 1; score 17.5 + 10 + 10 + 5 + 15 = 57.5
        (nowhere, 57.5, {"rating": 0.5, "skills": 0.5, "distance": 0.5, "experience": 0.5, "reliability": 1.0}, None),
        # far: rating ((25 + 15) / 10 - 1) / 4 = 0.75; skills 0/2; distance max(0, 1 - 60/50) = 0; experience 0;
        #      reliability (16 + 4) / 20 = 1; score 26.25 + 0 + 0 + 0 + 15 = 41.25
        (far, 41.25, {"rating": 0.75, "skills": 0.0, "distance": 0.0, "experience": 0.0, "reliability": 1.0}, 60.0),
    ]
    reliability = {star.id: (6, 2, 0, 10 / 12), local.id: (0, 4, 4, 1 / 3), nowhere.id: (0, 0, 0, 1.0)}
    ranked = await ranking(client, owner, job["id"])
    assert [r["application"]["worker"]["id"] for r in ranked] == [w.id for w, *_ in expected]
    for row, (worker, score, parts, km) in zip(ranked, expected, strict=True):
        assert row["score"] == pytest.approx(score, abs=1e-3), worker.id
        assert row["parts"] == {name: pytest.approx(value, abs=1e-3) for name, value in parts.items()}, worker.id
        if km is None:
            assert row["distance_km"] is None
        else:
            assert row["distance_km"] == pytest.approx(km, abs=1e-2)
        application = row["application"]
        assert application["id"] == apps[worker.id]["id"] and application["status"] == "pending"
        if worker.id in reliability:
            attended, no_shows, late, score_part = reliability[worker.id]
            assert row["reliability"] == {
                "attended": attended,
                "no_shows": no_shows,
                "late_cancellations": late,
                "score": pytest.approx(score_part, abs=1e-4),
            }
    star_row = ranked[0]["application"]["worker"]
    assert (star_row["full_name"], star_row["rating_avg"], star_row["completed_jobs"]) == ("Star Worker", 4.8, 25)


async def test_reliability_alone_orders_otherwise_equal_workers(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    steady, flaky, new = await register(client), await register(client), await register(client)
    await set_reliability(db, steady, attended=12, no_shows=0, late=0)
    await set_reliability(db, flaky, attended=12, no_shows=3, late=1)
    for worker in (flaky, new, steady):
        await apply(client, worker, job["id"])
    ranked = await ranking(client, owner, job["id"])
    # steady and new both score 1 (the prior); flaky (12 + 4) / (12 + 3 + 1 + 4) = 0.8, 15 x 0.2 = 3 points less
    assert [r["application"]["worker"]["id"] for r in ranked] == [new.id, steady.id, flaky.id]
    assert [r["parts"]["reliability"] for r in ranked] == [1.0, 1.0, 0.8]
    assert ranked[1]["score"] - ranked[2]["score"] == pytest.approx(3.0, abs=1e-6)


async def test_ties_go_to_the_earlier_application(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    workers = [await register(client) for _ in range(3)]  # identical: same score
    apps = [await apply(client, w, job["id"]) for w in workers]
    # oldest is the last one applied (highest id), then the first, then the second
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for application, created_at in zip(apps, (base + timedelta(hours=1), base + timedelta(hours=2), base), strict=True):
        await db.execute(update(Application).where(Application.id == application["id"]).values(created_at=created_at))
    await db.commit()
    ranked = await ranking(client, owner, job["id"])
    assert len({r["score"] for r in ranked}) == 1
    assert [r["application"]["id"] for r in ranked] == [apps[2]["id"], apps[0]["id"], apps[1]["id"]]


async def test_only_pending_applications_are_ranked(client: AsyncClient) -> None:
    owner = await register(client, "client")
    hired, rejected, withdrawn, pending = [await register(client) for _ in range(4)]
    job = await post_job(client, owner, openings=2)
    apps = {w.id: await apply(client, w, job["id"]) for w in (hired, rejected, withdrawn, pending)}
    await hire(client, owner, apps[hired.id]["id"])
    reject = await client.post(f"{API}/applications/{apps[rejected.id]['id']}/reject", headers=owner.headers)
    assert reject.status_code == 200, reject.text
    withdraw = await client.post(f"{API}/applications/{apps[withdrawn.id]['id']}/withdraw", headers=withdrawn.headers)
    assert withdraw.status_code == 200, withdraw.text
    ranked = await ranking(client, owner, job["id"])
    assert [(r["application"]["id"], r["application"]["status"]) for r in ranked] == [
        (apps[pending.id]["id"], "pending")
    ]


async def test_a_job_without_skills_gives_every_applicant_the_full_skills_part(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=[])
    skilled, unskilled = await register(client), await register(client)
    await set_profile(client, skilled, skills=["plumbing", "python"])
    await apply(client, skilled, job["id"])
    await apply(client, unskilled, job["id"])
    ranked = await ranking(client, owner, job["id"])
    assert [r["parts"]["skills"] for r in ranked] == [1.0, 1.0]
    # no ratings 0.5, skills 1, no location 0.5, no experience, new (reliability 1): 17.5 + 20 + 10 + 0 + 15 = 62.5
    assert [r["score"] for r in ranked] == [pytest.approx(62.5, abs=1e-3)] * 2


async def test_limit_caps_the_ranking_and_is_validated(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    workers = [await register(client) for _ in range(12)]
    for i, worker in enumerate(workers):
        await set_record(db, worker, rating_sum=0, rating_count=0, completed=i)  # distinct scores: more is better
        await apply(client, worker, job["id"])
    assert len(await ranking(client, owner, job["id"])) == 10  # default limit
    top = await ranking(client, owner, job["id"], limit=1)
    assert [r["application"]["worker"]["id"] for r in top] == [workers[-1].id]
    assert len(await ranking(client, owner, job["id"], limit=100)) == 12
    url = f"{API}/jobs/{job['id']}/best-applicants"
    for bad in (0, -1, 101):
        assert assert_problem(await client.get(url, params={"limit": bad}, headers=owner.headers), 422)["errors"]


async def test_the_score_stays_within_0_and_100(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    origin = {"city": "Null Island", "lat": 0.0, "lng": 0.0}
    job = await post_job(client, owner, skills=["plumbing"], location=origin)
    best, worst, unknown = await register(client), await register(client), await register(client)
    await set_profile(client, best, skills=["plumbing"], location=origin)
    await set_record(db, best, rating_sum=5 * 100_000, rating_count=100_000, completed=10_000)
    # the antipode: the haversine term reaches 1, where rounding could otherwise make asin() fail
    await set_profile(client, worst, location={"city": "Antipode", "lat": 0.0, "lng": 180.0})
    await set_record(db, worst, rating_sum=100_000, rating_count=100_000, completed=0)
    await set_reliability(db, worst, attended=0, no_shows=100_000, late=0)
    for worker in (best, worst, unknown):
        await apply(client, worker, job["id"])
    ranked = await ranking(client, owner, job["id"])
    scores = {r["application"]["worker"]["id"]: r for r in ranked}
    assert all(0.0 <= r["score"] <= 100.0 for r in ranked)
    assert all(0.0 <= part <= 1.0 for r in ranked for part in r["parts"].values())
    assert 99.9 < scores[best.id]["score"] <= 100.0
    assert 0.0 <= scores[worst.id]["score"] < 0.1
    assert scores[worst.id]["parts"]["distance"] == 0.0
    assert scores[worst.id]["distance_km"] == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-3)


async def snapshot(db: AsyncSession, job_id: int) -> tuple[list[Any], list[Any], list[Any]]:
    job = list((await db.execute(select(Job.__table__).where(Job.id == job_id))).all())
    apps = list((await db.execute(select(Application.__table__).where(Application.job_id == job_id))).all())
    worker_ids = select(Application.worker_id).where(Application.job_id == job_id)
    workers = list((await db.execute(select(User.__table__).where(User.id.in_(worker_ids)).order_by(User.id))).all())
    return job, sorted(apps), workers


async def test_the_ranking_changes_nothing(client: AsyncClient, db: AsyncSession, settings: Settings) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=["plumbing"], location=BERLIN)
    for _ in range(3):
        worker = await register(client)
        await set_profile(client, worker, skills=["plumbing"], location=north_of(BERLIN, 5, "Near"))
        await apply(client, worker, job["id"])
    before = await snapshot(db, job["id"])
    assert len(before[1]) == 3 and len(before[2]) == 3
    await ranking(client, owner, job["id"])
    await ranking(client, await make_admin(client, db, settings), job["id"], limit=1)
    assert await snapshot(db, job["id"]) == before


async def add_applicants(db: AsyncSession, job_id: int, count: int, skill_ids: list[int], start: int) -> None:
    """Workers with skills, locations and records, and their pending applications, inserted directly."""
    for i in range(start, start + count):
        worker = User(
            email=f"bulk{job_id}-{i}@test.example",
            password_hash="not-a-real-hash",
            full_name=f"Bulk Worker {i}",
            role="worker",
            city="Near" if i % 2 else None,
            lat=52.5 + i / 1000 if i % 2 else None,
            lng=13.4 if i % 2 else None,
            rating_sum=4 * (i % 7),
            rating_count=i % 7,
            completed_jobs=i % 25,
        )
        db.add(worker)
        await db.flush()
        if i % 3:
            await db.execute(insert(user_skills), [{"user_id": worker.id, "skill_id": s} for s in skill_ids[: i % 3]])
        db.add(Application(job_id=job_id, worker_id=worker.id, cover_letter=f"Applicant {i}"))
    await db.commit()


async def test_the_ranking_takes_the_same_number_of_queries_for_1_and_30_applicants(
    client: AsyncClient, db: AsyncSession, statements: StatementCounter
) -> None:
    owner = await register(client, "client")
    skill_ids = list(await db.scalars(select(Skill.id).where(Skill.slug.in_(["plumbing", "electrical"]))))
    counts: list[int] = []
    for applicants in (1, 30):
        job = await post_job(client, owner, skills=["plumbing", "electrical"], location=BERLIN)
        await add_applicants(db, job["id"], applicants, skill_ids, start=len(counts) * 100)
        statements.statements.clear()
        statements.enabled = True
        ranked = await ranking(client, owner, job["id"], limit=100)
        statements.enabled = False
        assert len(ranked) == applicants
        assert all(0.0 <= r["score"] <= 100.0 for r in ranked)
        counts.append(statements.count())
    assert counts[0] == counts[1], statements.statements
    assert counts[0] == 2  # the job (for the owner check) and the ranking itself
