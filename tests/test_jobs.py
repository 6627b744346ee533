"""Jobs: posting, the public detail, editing, the lifecycle (cancel, complete) and the search."""

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, User
from app.repositories.geo import EARTH_RADIUS_KM
from app.repositories.jobs import JobRepository
from app.schemas.jobs import JobRead
from tests.conftest import StatementCounter
from tests.factories import API, Actor, JobFactory, apply, assert_problem, completed_job, fund, hire, post_job, register
from tests.shiftwork import schedule

# 10 km due north of BERLIN (1 degree of latitude is ~111.195 km on the haversine sphere).
BERLIN = (52.52, 13.40)
TEN_KM_NORTH = (BERLIN[0] + 10 / 111.195, BERLIN[1])
NEAR_BERLIN = f"{BERLIN[0]},{BERLIN[1]}"


def job_payload(**overrides: Any) -> dict[str, Any]:
    return {**JobFactory.build().model_dump(mode="json", exclude_none=True), **overrides}


async def search(client: AsyncClient, **params: Any) -> Response:
    return await client.get(f"{API}/jobs", params=params)


async def search_ids(client: AsyncClient, **params: Any) -> list[int]:
    response = await search(client, **params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def walk_pages(client: AsyncClient, **params: Any) -> list[int]:
    """Follow next_cursor until the last page; the ids in the order served."""
    ids: list[int] = []
    cursor: str | None = None
    for _ in range(50):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await search(client, **query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params["limit"]
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination did not end")


async def set_created_at(db: AsyncSession, job_id: int, when: datetime) -> None:
    await db.execute(update(Job).where(Job.id == job_id).values(created_at=when))
    await db.commit()


async def cancel(client: AsyncClient, owner: Actor, job_id: int) -> Response:
    return await client.post(f"{API}/jobs/{job_id}/cancel", headers=owner.headers)


async def in_progress_job(client: AsyncClient, owner: Actor, worker: Actor, **overrides: Any) -> dict[str, Any]:
    """A one-opening job whose only opening is filled (status in_progress), not funded."""
    job = await post_job(client, owner, openings=1, **overrides)
    await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    return job


# POST /jobs


async def test_create_fixed_job_computes_total_as_rate_times_openings(client: AsyncClient) -> None:
    owner = await register(client, "client")
    payload = job_payload(pay_type="fixed", pay_rate_minor=12_345, openings=3, skills=["plumbing", "carpentry"])
    response = await client.post(f"{API}/jobs", json=payload, headers=owner.headers)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["total_cost_minor"] == 12_345 * 3
    assert job["status"] == "open" and job["hours"] is None and job["openings"] == 3
    assert job["client"]["id"] == owner.id and job["category"]["slug"] == "handyman"
    assert sorted(s["slug"] for s in job["skills"]) == ["carpentry", "plumbing"]
    assert job["funded"] is False and job["hired_count"] == 0 and job["applications_count"] == 0


async def test_create_hourly_job_computes_total_as_rate_times_hours_times_openings(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_type="hourly", pay_rate_minor=2_500, hours=8, openings=4)
    assert job["total_cost_minor"] == 2_500 * 8 * 4 and job["hours"] == 8
    assert await db.scalar(select(Job.total_cost_minor).where(Job.id == job["id"])) == 80_000


async def test_create_job_rejects_a_client_sent_total(client: AsyncClient) -> None:
    owner = await register(client, "client")
    response = await client.post(f"{API}/jobs", json=job_payload(total_cost_minor=1), headers=owner.headers)
    problem = assert_problem(response, 422)
    assert any("total_cost_minor" in err["loc"] for err in problem["errors"])


async def test_workers_cannot_post_jobs(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    response = await client.post(f"{API}/jobs", json=job_payload(), headers=worker.headers)
    assert_problem(response, 403)


async def test_anonymous_cannot_post_jobs(client: AsyncClient) -> None:
    assert_problem(await client.post(f"{API}/jobs", json=job_payload()), 401)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"title": "ab"}, id="title-too-short"),
        pytest.param({"title": "x" * 121}, id="title-too-long"),
        pytest.param({"description": "x" * 5001}, id="description-too-long"),
        pytest.param({"skills": ["plumbing"] * 21}, id="too-many-skills"),
        pytest.param({"pay_rate_minor": 0}, id="pay-rate-zero"),
        pytest.param({"pay_rate_minor": -100}, id="pay-rate-negative"),
        pytest.param({"pay_type": "fixed", "hours": 3}, id="hours-on-fixed-job"),
        pytest.param({"pay_type": "hourly"}, id="hourly-without-hours"),
        pytest.param({"pay_type": "hourly", "hours": 2.5}, id="fractional-hours"),
        pytest.param({"openings": 0}, id="openings-zero"),
        pytest.param({"openings": 51}, id="openings-51"),
        pytest.param({"category": "no-such-category"}, id="unknown-category"),
        pytest.param({"skills": ["plumbing", "no-such-skill"]}, id="unknown-skill"),
        pytest.param({"is_featured": True}, id="unknown-field"),
        pytest.param({"starts_at": "2030-01-02T10:00:00Z", "ends_at": "2030-01-02T10:00:00Z"}, id="ends-equal-starts"),
        pytest.param({"starts_at": "2030-01-02T10:00:00Z", "ends_at": "2030-01-01T10:00:00Z"}, id="ends-before-starts"),
    ],
)
async def test_create_job_validation_is_422(client: AsyncClient, db: AsyncSession, overrides: dict[str, Any]) -> None:
    owner = await register(client, "client")
    response = await client.post(f"{API}/jobs", json=job_payload(**overrides), headers=owner.headers)
    assert_problem(response, 422)
    assert await db.scalar(select(Job.id).where(Job.client_id == owner.id)) is None


async def test_create_job_accepts_the_boundaries(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(
        client,
        owner,
        title="abc",
        description="x" * 5000,
        openings=50,
        pay_rate_minor=1,
        starts_at="2030-01-01T10:00:00Z",
        ends_at="2030-01-01T11:00:00Z",
        location={"city": "Berlin", "lat": BERLIN[0], "lng": BERLIN[1]},
    )
    assert job["title"] == "abc" and job["openings"] == 50 and job["total_cost_minor"] == 50
    assert job["location"] == {"city": "Berlin", "lat": BERLIN[0], "lng": BERLIN[1]}


# GET /jobs/{id}

PUBLIC_JOB_FIELDS = (
    "client",
    "category",
    "skills",
    "applications_count",
    "openings",
    "hired_count",
    "status",
    "total_cost_minor",
    "funded",
)


async def test_job_detail_is_the_same_for_every_caller(client: AsyncClient) -> None:
    owner = await register(client, "client")
    other_client = await register(client, "client")
    worker = await register(client, "worker")
    job = await post_job(client, owner, openings=2, skills=["plumbing", "painting"])
    await apply(client, worker, job["id"])
    await fund(client, owner, job)

    views = [
        (await client.get(f"{API}/jobs/{job['id']}", headers=headers)).json()
        for headers in ({}, worker.headers, other_client.headers, owner.headers)
    ]
    anonymous = views[0]
    assert all(view == anonymous for view in views[1:])
    assert set(PUBLIC_JOB_FIELDS) <= set(anonymous)
    assert anonymous["client"] == {"id": owner.id, "full_name": anonymous["client"]["full_name"], "rating_avg": None}
    assert anonymous["client"]["full_name"].startswith("Test User")
    assert anonymous["category"]["slug"] == "handyman"
    assert [s["slug"] for s in anonymous["skills"]] == ["painting", "plumbing"]
    assert anonymous["applications_count"] == 1 and anonymous["openings"] == 2 and anonymous["hired_count"] == 0
    assert anonymous["status"] == "open" and anonymous["funded"] is True
    assert anonymous["total_cost_minor"] == job["total_cost_minor"]


@pytest.mark.parametrize("shifts", [0, 3])
async def test_the_detail_shows_byte_for_byte_what_the_loaded_job_shows(
    client: AsyncClient, db: AsyncSession, shifts: int
) -> None:
    """GET /jobs/{id} reads one Core row (`JobRead.of_row`); every other view maps the ORM job (`JobRead.of`)."""
    owner = await register(client, "client")
    extra: dict[str, Any] = (
        {"shifts": schedule(shifts)} if shifts else {"location": {"city": "Berlin", "lat": 52.52, "lng": 13.4}}
    )
    job = await post_job(client, owner, openings=2, skills=["plumbing", "painting"], **extra)
    await fund(client, owner, job)
    await db.execute(update(User).where(User.id == owner.id).values(rating_sum=14, rating_count=3))
    await db.commit()

    served = await client.get(f"{API}/jobs/{job['id']}")
    loaded = await JobRepository(db).get_detail(job["id"])
    assert loaded is not None
    assert served.content == TypeAdapter(JobRead).dump_json(JobRead.of(loaded, "USD"))
    view = served.json()
    assert len(view["shifts"]) == shifts and view["client"]["rating_avg"] == 4.67 and view["funded"] is True
    assert (view["location"] is None) == bool(shifts)


async def test_missing_job_is_a_404_problem(client: AsyncClient) -> None:
    problem = assert_problem(await client.get(f"{API}/jobs/987654321"), 404)
    assert problem["title"] == "Not Found"


# PATCH /jobs/{id}


async def test_owner_edits_a_job_and_the_total_is_recomputed(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_type="fixed", pay_rate_minor=10_000, openings=1)
    response = await client.patch(
        f"{API}/jobs/{job['id']}",
        json={"title": "Paint the fence", "pay_type": "hourly", "hours": 5, "pay_rate_minor": 3_000, "openings": 2},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["title"] == "Paint the fence" and edited["pay_type"] == "hourly"
    assert edited["total_cost_minor"] == 3_000 * 5 * 2
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["total_cost_minor"] == 30_000


async def test_editing_the_category_and_location(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, category="handyman")
    body = {"category": "gardening", "location": {"city": "Berlin", "lat": BERLIN[0], "lng": BERLIN[1]}}
    response = await client.patch(f"{API}/jobs/{job['id']}", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["category"]["slug"] == "gardening"
    assert response.json()["location"] == {"city": "Berlin", "lat": BERLIN[0], "lng": BERLIN[1]}
    assert_problem(await client.patch(f"{API}/jobs/{job['id']}", json={"category": "nope"}, headers=owner.headers), 422)


async def test_editing_hours_on_a_fixed_job_is_422(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_type="fixed")
    assert_problem(await client.patch(f"{API}/jobs/{job['id']}", json={"hours": 3}, headers=owner.headers), 422)
    hourly = await client.patch(f"{API}/jobs/{job['id']}", json={"pay_type": "hourly"}, headers=owner.headers)
    assert_problem(hourly, 422)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["pay_type"] == "fixed"


async def test_editing_the_pay_of_a_funded_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_rate_minor=10_000)
    await fund(client, owner, job)
    assert_problem(
        await client.patch(f"{API}/jobs/{job['id']}", json={"pay_rate_minor": 1}, headers=owner.headers), 409
    )
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["total_cost_minor"] == 10_000
    response = await client.patch(f"{API}/jobs/{job['id']}", json={"title": "Still fine"}, headers=owner.headers)
    assert response.status_code == 200 and response.json()["title"] == "Still fine"


async def test_editing_only_openings_recomputes_the_total(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_type="hourly", pay_rate_minor=1_000, hours=3, openings=1)
    response = await client.patch(f"{API}/jobs/{job['id']}", json={"openings": 4}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["total_cost_minor"] == 1_000 * 3 * 4


async def test_editing_skills_replaces_them(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=["plumbing"])
    response = await client.patch(
        f"{API}/jobs/{job['id']}", json={"skills": ["electrical", "carpentry"]}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    assert [s["slug"] for s in response.json()["skills"]] == ["carpentry", "electrical"]
    detail = (await client.get(f"{API}/jobs/{job['id']}")).json()
    assert [s["slug"] for s in detail["skills"]] == ["carpentry", "electrical"]


async def test_only_the_owner_edits_a_job(client: AsyncClient) -> None:
    owner = await register(client, "client")
    other_client = await register(client, "client")
    worker = await register(client, "worker")
    job = await post_job(client, owner)
    url = f"{API}/jobs/{job['id']}"
    assert_problem(await client.patch(url, json={"title": "Hijacked"}, headers=other_client.headers), 403)
    assert_problem(await client.patch(url, json={"title": "Hijacked"}, headers=worker.headers), 403)
    assert_problem(await client.patch(url, json={"title": "Hijacked"}), 401)
    assert_problem(await client.patch(f"{API}/jobs/987654321", json={"title": "Nobody"}, headers=owner.headers), 404)
    assert (await client.get(url)).json()["title"] == job["title"]


async def test_editing_after_a_hire_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    job = await post_job(client, owner, openings=2)
    await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    response = await client.patch(f"{API}/jobs/{job['id']}", json={"title": "Too late"}, headers=owner.headers)
    assert_problem(response, 409)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["title"] == job["title"]


async def test_editing_a_cancelled_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    assert (await cancel(client, owner, job["id"])).status_code == 200
    response = await client.patch(f"{API}/jobs/{job['id']}", json={"title": "Too late"}, headers=owner.headers)
    assert_problem(response, 409)


async def test_editing_with_an_unknown_field_is_422(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    for body in ({"total_cost_minor": 1}, {"status": "completed"}, {"client_id": owner.id}):
        assert_problem(await client.patch(f"{API}/jobs/{job['id']}", json=body, headers=owner.headers), 422)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["total_cost_minor"] == job["total_cost_minor"]


# POST /jobs/{id}/cancel


async def test_owner_cancels_an_open_job(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    response = await cancel(client, owner, job["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_at"] is not None
    assert await db.scalar(select(Job.status).where(Job.id == job["id"])) == "cancelled"


async def test_cancelling_rejects_the_pending_applications(client: AsyncClient) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    assert (await cancel(client, owner, job["id"])).status_code == 200
    detail = await client.get(f"{API}/applications/{application['id']}", headers=worker.headers)
    assert detail.json()["status"] == "rejected"


async def test_only_the_owner_cancels_a_job(client: AsyncClient) -> None:
    owner = await register(client, "client")
    other_client = await register(client, "client")
    worker = await register(client, "worker")
    job = await post_job(client, owner)
    assert_problem(await cancel(client, other_client, job["id"]), 403)
    assert_problem(await cancel(client, worker, job["id"]), 403)
    assert_problem(await client.post(f"{API}/jobs/{job['id']}/cancel"), 401)
    assert_problem(await cancel(client, owner, 987654321), 404)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "open"


async def test_cancelling_a_cancelled_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    assert (await cancel(client, owner, job["id"])).status_code == 200
    assert_problem(await cancel(client, owner, job["id"]), 409)


async def test_cancelling_a_completed_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await completed_job(client, owner, [await register(client, "worker")])
    assert_problem(await cancel(client, owner, job["id"]), 409)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "completed"


async def test_cancelling_a_funded_job_refunds_the_client(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_rate_minor=25_000, openings=2)
    escrow = await fund(client, owner, job)
    response = await cancel(client, owner, job["id"])
    assert response.status_code == 200, response.text
    assert response.json()["escrow_status"] == "refunded" and response.json()["funded"] is False

    payments = (await client.get(f"{API}/users/{owner.id}/payments", headers=owner.headers)).json()["items"]
    refunds = [p for p in payments if p["kind"] == "refund"]
    assert len(refunds) == 1
    assert refunds[0]["job_id"] == job["id"] and refunds[0]["payee_id"] == owner.id
    assert refunds[0]["amount_minor"] == 50_000
    assert {p["id"] for p in payments} >= {escrow["id"], refunds[0]["id"]}


async def test_cancelling_an_unfunded_job_creates_no_payment(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    response = await cancel(client, owner, job["id"])
    assert response.json()["escrow_status"] == "none"
    assert (await client.get(f"{API}/users/{owner.id}/payments", headers=owner.headers)).json()["items"] == []


# POST /jobs/{id}/complete


async def test_completing_an_open_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    await fund(client, owner, job)
    assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers), 409)


async def test_completing_an_unfunded_in_progress_job_is_409(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await in_progress_job(client, owner, await register(client, "worker"))
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "in_progress"
    assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers), 409)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "in_progress"


async def test_completing_a_funded_in_progress_job(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await in_progress_job(client, owner, await register(client, "worker"))
    await fund(client, owner, job)
    response = await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "completed" and done["escrow_status"] == "released" and done["completed_at"]


async def test_only_the_owner_completes_a_job(client: AsyncClient) -> None:
    owner = await register(client, "client")
    other_client = await register(client, "client")
    job = await in_progress_job(client, owner, await register(client, "worker"))
    await fund(client, owner, job)
    assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=other_client.headers), 403)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "in_progress"


# GET /jobs


async def test_search_lists_only_open_jobs(client: AsyncClient) -> None:
    owner = await register(client, "client")
    open_job = await post_job(client, owner)
    cancelled = await post_job(client, owner)
    await cancel(client, owner, cancelled["id"])
    busy = await in_progress_job(client, owner, await register(client, "worker"))
    ids = await search_ids(client, limit=100)
    assert open_job["id"] in ids
    assert cancelled["id"] not in ids and busy["id"] not in ids


async def test_search_q_matches_title_and_description(client: AsyncClient) -> None:
    owner = await register(client, "client")
    in_title = await post_job(client, owner, title="Aquarium cleaning", description="Big tank.")
    in_description = await post_job(client, owner, title="Weekend help", description="Feed the aquarium fish.")
    unrelated = await post_job(client, owner, title="Mow the lawn", description="Front yard only.")
    ids = await search_ids(client, q="aquarium")
    assert set(ids) == {in_title["id"], in_description["id"]}
    assert unrelated["id"] not in ids


async def test_search_filters_by_category(client: AsyncClient) -> None:
    owner = await register(client, "client")
    garden = await post_job(client, owner, category="gardening", skills=["lawn-care"])
    handy = await post_job(client, owner, category="handyman")
    ids = await search_ids(client, category="gardening")
    assert garden["id"] in ids and handy["id"] not in ids


async def test_search_skill_is_repeatable_with_any_of_semantics(client: AsyncClient) -> None:
    owner = await register(client, "client")
    plumbing = await post_job(client, owner, skills=["plumbing"])
    painting = await post_job(client, owner, skills=["painting", "carpentry"])
    driving = await post_job(client, owner, skills=["driving"])
    response = await client.get(f"{API}/jobs", params=[("skill", "plumbing"), ("skill", "painting")])
    ids = [item["id"] for item in response.json()["items"]]
    assert plumbing["id"] in ids and painting["id"] in ids and driving["id"] not in ids
    assert await search_ids(client, skill="carpentry") == [painting["id"]]


async def test_search_filters_by_pay_range(client: AsyncClient) -> None:
    owner = await register(client, "client")
    low = await post_job(client, owner, pay_rate_minor=1_000)
    mid = await post_job(client, owner, pay_rate_minor=5_000)
    high = await post_job(client, owner, pay_rate_minor=9_000)
    assert set(await search_ids(client, pay_min=5_000)) == {mid["id"], high["id"]}
    assert set(await search_ids(client, pay_max=5_000)) == {low["id"], mid["id"]}
    assert await search_ids(client, pay_min=2_000, pay_max=8_000) == [mid["id"]]
    # pay_rate_minor, not the total: an hourly job's total is far above its rate
    hourly = await post_job(client, owner, pay_type="hourly", pay_rate_minor=1_500, hours=100)
    assert hourly["id"] in await search_ids(client, pay_max=2_000)


async def test_search_near_keeps_jobs_within_the_radius(client: AsyncClient) -> None:
    owner = await register(client, "client")
    ten_km = await post_job(client, owner, location={"city": "Berlin", "lat": TEN_KM_NORTH[0], "lng": TEN_KM_NORTH[1]})
    nowhere = await post_job(client, owner)
    wide = await search(client, near=NEAR_BERLIN, radius_km=20)
    assert [item["id"] for item in wide.json()["items"]] == [ten_km["id"]]
    assert wide.json()["items"][0]["distance_km"] == pytest.approx(10, abs=0.05)
    assert await search_ids(client, near=NEAR_BERLIN, radius_km=5) == []
    assert nowhere["id"] in await search_ids(client)


async def test_search_near_finds_jobs_across_the_antimeridian(client: AsyncClient) -> None:
    owner = await register(client, "client")
    # 0.1 degree of longitude at the equator is ~11 km, but the longitudes are 359.9 apart numerically
    fiji_east = await post_job(client, owner, location={"city": "Taveuni", "lat": -16.8, "lng": -179.95})
    response = await search(client, near="-16.8,179.95", radius_km=20)
    assert [item["id"] for item in response.json()["items"]] == [fiji_east["id"]]
    assert response.json()["items"][0]["distance_km"] == pytest.approx(10.65, abs=0.1)


async def test_search_near_finds_a_job_at_the_edge_of_a_large_radius_far_north(client: AsyncClient) -> None:
    owner = await register(client, "client")
    lat, lng, km = 60.0, 10.0, 995.0
    # the circle's easternmost point: further east than radius / (km per degree x cos(lat)) suggests
    d = km / EARTH_RADIUS_KM
    east = (
        math.degrees(math.asin(math.sin(math.radians(lat)) / math.cos(d))),
        lng + math.degrees(math.asin(math.sin(d) / math.cos(math.radians(lat)))),
    )
    job = await post_job(client, owner, location={"city": "East", "lat": east[0], "lng": east[1]})
    response = await search(client, near=f"{lat},{lng}", radius_km=1000)
    assert [item["id"] for item in response.json()["items"]] == [job["id"]]
    assert response.json()["items"][0]["distance_km"] == pytest.approx(km, abs=0.01)


async def test_search_near_a_pole_covers_every_longitude(client: AsyncClient) -> None:
    owner = await register(client, "client")
    # ~11 km apart across the North Pole, on opposite meridians
    job = await post_job(client, owner, location={"city": "Pole", "lat": 89.95, "lng": -170.0})
    assert await search_ids(client, near="89.95,10", radius_km=20) == [job["id"]]


async def test_search_without_near_has_no_distance(client: AsyncClient) -> None:
    owner = await register(client, "client")
    await post_job(client, owner, location={"city": "Berlin", "lat": BERLIN[0], "lng": BERLIN[1]})
    assert (await search(client)).json()["items"][0]["distance_km"] is None


async def test_search_sort_newest_orders_by_created_at(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    first, second, third = [await post_job(client, owner) for _ in range(3)]
    base = datetime(2030, 1, 1, tzinfo=UTC)
    # dated so that newest-first differs from both id orders
    await set_created_at(db, first["id"], base - timedelta(days=1))
    await set_created_at(db, second["id"], base)
    await set_created_at(db, third["id"], base - timedelta(days=2))
    expected = [second["id"], first["id"], third["id"]]
    assert await search_ids(client, sort="newest") == expected
    assert await search_ids(client) == expected


async def test_search_sort_pay_is_highest_first(client: AsyncClient) -> None:
    owner = await register(client, "client")
    rates = [3_000, 9_000, 1_000, 5_000]
    jobs = {rate: await post_job(client, owner, pay_rate_minor=rate) for rate in rates}
    assert await search_ids(client, sort="pay") == [jobs[r]["id"] for r in sorted(rates, reverse=True)]


async def test_search_sort_distance_is_nearest_first(client: AsyncClient) -> None:
    owner = await register(client, "client")
    jobs = {
        km: await post_job(
            client, owner, location={"city": "Near Berlin", "lat": BERLIN[0] + km / 111.195, "lng": BERLIN[1]}
        )
        for km in (15, 2, 30, 8)
    }
    response = await search(client, near=NEAR_BERLIN, radius_km=50, sort="distance")
    items = response.json()["items"]
    assert [item["id"] for item in items] == [jobs[km]["id"] for km in (2, 8, 15, 30)]
    assert [item["distance_km"] for item in items] == sorted(item["distance_km"] for item in items)


async def test_search_sort_distance_without_near_is_422(client: AsyncClient) -> None:
    assert_problem(await search(client, sort="distance"), 422)


@pytest.mark.parametrize("near", ["abc", "91,0", "0,181", "1,2,3", ""])
async def test_search_with_a_bad_near_is_422(client: AsyncClient, near: str) -> None:
    assert_problem(await search(client, near=near), 422)


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_search_limit_outside_1_to_100_is_422(client: AsyncClient, limit: int) -> None:
    assert_problem(await search(client, limit=limit), 422)


async def test_search_limit_bounds_are_accepted(client: AsyncClient) -> None:
    owner = await register(client, "client")
    for _ in range(2):
        await post_job(client, owner)
    one = await search(client, limit=1)
    assert len(one.json()["items"]) == 1 and one.json()["next_cursor"] is not None
    assert (await search(client, limit=100)).json()["next_cursor"] is None


@pytest.mark.parametrize("sort", ["newest", "pay", "distance"])
async def test_search_cursor_walks_every_page_without_duplicates_or_gaps(
    client: AsyncClient, db: AsyncSession, sort: str
) -> None:
    owner = await register(client, "client")
    jobs = []
    for i, (rate, km) in enumerate([(5_000, 4), (5_000, 9), (7_000, 4), (1_000, 12), (7_000, 1)]):
        job = await post_job(
            client,
            owner,
            pay_rate_minor=rate,
            location={"city": "Berlin", "lat": BERLIN[0] + km / 111.195, "lng": BERLIN[1]},
        )
        jobs.append(job)
        # ties on the sort key for some jobs, so the id tie-break matters
        await set_created_at(db, job["id"], datetime(2030, 1, 1 + i // 2, tzinfo=UTC))
    params: dict[str, Any] = {"sort": sort, "limit": 2}
    if sort == "distance":
        params["near"] = NEAR_BERLIN
    all_at_once = await search_ids(client, **{**params, "limit": 100})
    walked = await walk_pages(client, **params)
    assert len(walked) == len(set(walked)) == 5
    assert walked == all_at_once
    assert set(walked) == {j["id"] for j in jobs}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        # unpadded, as the API makes them (`=` is outside the cursor's pattern: a 422 of the validation)
        base64.urlsafe_b64encode(b'{"a": 1}').decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps([1, 2, 3]).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps(["not-a-date", 1]).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(json.dumps(["2030-01-01T00:00:00+00:00", "x"]).encode()).decode().rstrip("="),
    ],
)
async def test_search_with_a_malformed_cursor_is_422(client: AsyncClient, cursor: str) -> None:
    problem = assert_problem(await search(client, cursor=cursor), 422)
    assert "cursor" in problem["detail"]


async def test_search_with_a_cursor_holding_an_out_of_range_number_is_422(client: AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps([10**20, 1]).encode()).decode()
    assert_problem(await search(client, sort="pay", cursor=cursor), 422)


async def test_a_pay_cursor_is_not_accepted_for_the_newest_sort(client: AsyncClient) -> None:
    owner = await register(client, "client")
    for rate in (1_000, 2_000, 3_000):
        await post_job(client, owner, pay_rate_minor=rate)
    cursor = (await search(client, sort="pay", limit=1)).json()["next_cursor"]
    assert_problem(await search(client, sort="newest", cursor=cursor), 422)


# Inputs the database cannot hold are refused up front (422), never a 500.


async def test_an_id_beyond_bigint_is_422_not_a_server_error(client: AsyncClient) -> None:
    owner = await register(client, "client")
    huge = 10**20
    assert_problem(await client.get(f"{API}/jobs/{huge}"), 422)
    assert_problem(await client.patch(f"{API}/jobs/{huge}", json={"title": "abcd"}, headers=owner.headers), 422)
    assert_problem(await cancel(client, owner, huge), 422)
    assert_problem(await client.post(f"{API}/jobs/{huge}/complete", headers=owner.headers), 422)


async def test_a_pay_filter_beyond_the_amount_limit_is_422(client: AsyncClient) -> None:
    assert_problem(await search(client, pay_min=10**20), 422)
    assert_problem(await search(client, pay_max=10**13), 422)


async def test_nul_characters_are_422(client: AsyncClient) -> None:
    owner = await register(client, "client")
    assert_problem(await search(client, q="sink\x00"), 422)
    response = await client.post(f"{API}/jobs", json=job_payload(title="Fix\x00it"), headers=owner.headers)
    assert_problem(response, 422)
    job = await post_job(client, owner)
    response = await client.patch(f"{API}/jobs/{job['id']}", json={"description": "a\x00b"}, headers=owner.headers)
    assert_problem(response, 422)


# Query budgets: lists load their relations in a constant number of statements.


async def test_job_lists_use_a_constant_number_of_statements(client: AsyncClient, statements: StatementCounter) -> None:
    owner = await register(client, "client")

    async def count(url: str) -> int:
        statements.enabled = True
        response = await client.get(url)
        statements.enabled = False
        assert response.status_code == 200, response.text
        n = statements.count()
        statements.statements.clear()
        return n

    await post_job(client, owner, skills=["plumbing"])
    few = (await count(f"{API}/jobs"), await count(f"{API}/users/{owner.id}/jobs"))
    for skills in (["painting"], ["carpentry", "plumbing"], ["driving", "lifting", "assembly"], []):
        await post_job(client, owner, skills=skills)
    many = (await count(f"{API}/jobs"), await count(f"{API}/users/{owner.id}/jobs"))
    assert few == many
    assert many[0] <= 3
