"""Privacy (docs/security.md, issue #9): an applicant's distance in whole km (and a score computed from it),
a job's location frozen once someone applied, no public pages for admins, one rule for cancelled jobs."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.settings import Settings
from tests.factories import API, Actor, apply, assert_problem, make_admin, post_job, register
from tests.test_cache_contract import build_world, job_ids, x_cache
from tests.test_ranking import BERLIN, north_of, ranking, set_profile


def place(lat: float, lng: float, city: str = "Somewhere") -> dict[str, Any]:
    return {"city": city, "lat": lat, "lng": lng}


async def move(client: AsyncClient, owner: Actor, job_id: int, location: dict[str, Any] | None) -> Any:
    return await client.patch(f"{API}/jobs/{job_id}", json={"location": location}, headers=owner.headers)


# --- distances -----------------------------------------------------------------------------------------


async def test_best_applicants_show_whole_km_and_score_the_distance_from_them(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=[], location=BERLIN)
    near, far = await register(client), await register(client)
    await set_profile(client, near, location=north_of(BERLIN, 10.4, "Near"))
    await set_profile(client, far, location=north_of(BERLIN, 10.6, "Far"))
    for worker in (near, far):
        await apply(client, worker, job["id"])

    rows = {r["application"]["worker"]["id"]: r for r in await ranking(client, owner, job["id"])}
    assert rows[near.id]["distance_km"] == 10 and rows[far.id]["distance_km"] == 11
    assert all(type(r["distance_km"]) is int for r in rows.values())
    # distance = max(0, 1 - km / 50) over the rounded km: 0.8 and 0.78 (0.792 and 0.788 from the exact km)
    assert rows[near.id]["parts"]["distance"] == pytest.approx(0.8, abs=1e-9)
    assert rows[far.id]["parts"]["distance"] == pytest.approx(0.78, abs=1e-9)
    for row in rows.values():
        parts = row["parts"]
        expected = (
            35 * parts["rating"]
            + 20 * parts["skills"]
            + 20 * parts["distance"]
            + 10 * parts["experience"]
            + 15 * parts["reliability"]
        )
        assert row["score"] == pytest.approx(expected, abs=1e-3)


async def test_moving_the_job_three_times_does_not_locate_an_applicant(client: AsyncClient) -> None:
    """The finding: move the job three times and read distance_km (trilateration to within a metre)."""
    owner = await register(client, "client")
    job = await post_job(client, owner, skills=[], location=BERLIN)
    # two workers 300 m apart: whatever the client reads, it cannot tell their homes apart
    home, next_door = north_of(BERLIN, 7.3, "Home"), north_of(BERLIN, 7.0, "Next door")
    worker, neighbour = await register(client), await register(client)
    await set_profile(client, worker, location=home)
    await set_profile(client, neighbour, location=next_door)
    for applicant in (worker, neighbour):
        await apply(client, applicant, job["id"])

    readings = []
    for spot in (place(52.60, 13.30), place(52.45, 13.55), place(52.52, 13.20)):
        body = assert_problem(await move(client, owner, job["id"], spot), 409)
        assert "location" in body["detail"]
        readings.append([(r["distance_km"], r["score"]) for r in await ranking(client, owner, job["id"])])
    # the job never moved: every reading is the first one, in whole km, equal for both workers
    assert readings == [readings[0]] * 3
    assert [km for km, _ in readings[0]] == [7, 7]
    assert readings[0][0][1] == readings[0][1][1]
    fetched = (await client.get(f"{API}/jobs/{job['id']}")).json()["location"]
    assert (fetched["lat"], fetched["lng"]) == (BERLIN["lat"], BERLIN["lng"])


async def test_a_jobs_location_is_frozen_once_anyone_applied_even_after_a_withdrawal(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, location=BERLIN)
    assert (await move(client, owner, job["id"], place(52.0, 13.0))).status_code == 200  # nobody applied yet

    worker = await register(client)
    application = await apply(client, worker, job["id"])
    withdrawn = await client.post(f"{API}/applications/{application['id']}/withdraw", headers=worker.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    # applications_count is back to 0, but the worker's distance was already shown
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["applications_count"] == 0
    for location in (place(53.0, 13.0), None, {**place(52.0, 13.0), "city": "Renamed"}):
        assert_problem(await move(client, owner, job["id"], location), 409)
    # the same location again (a form sent whole) and other fields still change
    same = await client.patch(
        f"{API}/jobs/{job['id']}",
        json={"title": "New title", "location": place(52.0, 13.0)},
        headers=owner.headers,
    )
    assert same.status_code == 200, same.text
    assert same.json()["title"] == "New title"


# --- admins have no public pages ---------------------------------------------------------------------


async def test_an_admins_public_pages_do_not_exist_for_anyone_but_admins(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    admin, other_admin = await make_admin(cache_client, db, settings), await make_admin(cache_client, db, settings)
    client_, worker = await register(cache_client, "client"), await register(cache_client, "worker")
    profile = f"{API}/users/{admin.id}"

    # the admin (cached in the self-or-admin class) and other admins see the profile, role and all
    for viewer in (admin, other_admin, admin):
        response = await cache_client.get(profile, headers=viewer.headers)
        assert (response.status_code, response.json()["role"]) == (200, "admin"), viewer
    unknown = assert_problem(await cache_client.get(f"{API}/users/999999999"), 404)
    for actor in (None, client_, worker):
        body = assert_problem(await cache_client.get(profile, headers=actor.headers if actor else {}), 404)
        assert body["detail"] == unknown["detail"].replace("999999999", str(admin.id))
        for page in ("jobs", "reviews", "reviews/given"):
            assert_problem(await cache_client.get(f"{profile}/{page}", headers=actor.headers if actor else {}), 404)
    # everyone else's profile still shows their role
    assert (await cache_client.get(f"{API}/users/{worker.id}")).json()["role"] == "worker"


# --- cancelled jobs: delisted, readable by id --------------------------------------------------------


async def test_cancelled_jobs_are_listed_only_for_their_owner_and_admins_and_readable_by_id(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    cancelled = w.cancelled["id"]
    owner_jobs = f"{API}/users/{w.owner.id}/jobs"
    for actor in (None, w.stranger, w.worker_a, w.owner, w.admin):
        headers = actor.headers if actor else {}
        # search lists open jobs only, for everyone
        assert cancelled not in job_ids(await cache_client.get(f"{API}/jobs", headers=headers))
        listed = cancelled in job_ids(await cache_client.get(owner_jobs, headers=headers))
        listed_filtered = job_ids(await cache_client.get(f"{owner_jobs}?status=cancelled", headers=headers))
        privileged = actor in (w.owner, w.admin)
        assert listed is privileged and (listed_filtered == {cancelled}) is privileged, actor
        # by id, it is anyone's to read: its applicants and payments point at it
        for _ in range(2):
            response = await cache_client.get(f"{API}/jobs/{cancelled}", headers=headers)
            assert (response.status_code, response.json()["status"]) == (200, "cancelled"), actor
    assert x_cache(response) == "HIT"
