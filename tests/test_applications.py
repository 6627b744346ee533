"""Applications: applying, listing, withdrawing, the owner's decisions, and the openings race."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import Application, Job, User
from app.settings import Settings
from tests.factories import API, Actor, apply, assert_problem, hire, make_admin, post_job, register


async def get_job(client: AsyncClient, job_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def statuses(db: AsyncSession, job_id: int) -> dict[int, str]:
    """Application id -> status, read fresh from the database."""
    rows = await db.execute(select(Application.id, Application.status).where(Application.job_id == job_id))
    return {row.id: row.status for row in rows}


async def set_job(db: AsyncSession, job_id: int, **values: Any) -> None:
    await db.execute(update(Job).where(Job.id == job_id).values(**values))
    await db.commit()


async def post_application(client: AsyncClient, actor: Actor | None, job_id: int, **body: Any) -> Response:
    headers = actor.headers if actor else {}
    return await client.post(f"{API}/jobs/{job_id}/applications", json=body, headers=headers)


async def decide(client: AsyncClient, actor: Actor | None, application_id: int, action: str) -> Response:
    headers = actor.headers if actor else {}
    return await client.post(f"{API}/applications/{application_id}/{action}", headers=headers)


# --- POST /jobs/{job_id}/applications ---------------------------------------------------------------


async def test_a_worker_applies_and_gets_the_application(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await post_job(client, owner)
    response = await post_application(
        client, worker, job["id"], cover_letter="I can start tomorrow.", bid_minor=9_000, estimated_hours=3
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["job_id"] == job["id"] and body["worker_id"] == worker.id
    assert body["status"] == "pending" and body["decided_at"] is None
    assert (body["cover_letter"], body["bid_minor"], body["estimated_hours"]) == ("I can start tomorrow.", 9_000, 3)
    assert body["created_at"]
    assert body["worker"]["id"] == worker.id and body["job"]["id"] == job["id"]
    assert body["job"]["title"] == job["title"] and body["job"]["client_id"] == owner.id


async def test_only_workers_may_apply(client: AsyncClient) -> None:
    owner, other_client = await register(client, "client"), await register(client, "client")
    job = await post_job(client, owner)
    body = assert_problem(await post_application(client, other_client, job["id"], cover_letter="hi"), 403)
    assert body["title"] == "Forbidden"
    assert_problem(await post_application(client, None, job["id"], cover_letter="hi"), 401)
    assert (await get_job(client, job["id"]))["applications_count"] == 0


async def test_a_second_active_application_is_409(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await post_job(client, owner, openings=2)
    first = await apply(client, worker, job["id"])
    pending_again = assert_problem(await post_application(client, worker, job["id"]), 409)
    assert "active application" in pending_again["detail"]
    await hire(client, owner, first["id"])  # accepted is active too; the job stays open (1 of 2 filled)
    assert_problem(await post_application(client, worker, job["id"]), 409)
    assert (await get_job(client, job["id"]))["applications_count"] == 1


async def test_applying_to_a_job_that_is_not_open_is_409(client: AsyncClient) -> None:
    owner, hired, late = await register(client, "client"), await register(client), await register(client)
    started = await post_job(client, owner)
    await hire(client, owner, (await apply(client, hired, started["id"]))["id"])
    assert (await get_job(client, started["id"]))["status"] == "in_progress"
    body = assert_problem(await post_application(client, late, started["id"]), 409)
    assert "in_progress" in body["detail"]

    cancelled = await post_job(client, owner)
    assert (await client.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)).status_code == 200
    assert "cancelled" in assert_problem(await post_application(client, late, cancelled["id"]), 409)["detail"]
    assert (await get_job(client, cancelled["id"]))["applications_count"] == 0


async def test_applying_to_a_missing_job_is_404(client: AsyncClient) -> None:
    worker = await register(client)
    assert_problem(await post_application(client, worker, 999_999_999), 404)


async def test_a_worker_may_apply_again_after_withdrawing(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    first = await apply(client, worker, job["id"])
    assert (await decide(client, worker, first["id"], "withdraw")).status_code == 200
    again = await post_application(client, worker, job["id"])
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first["id"]
    assert await statuses(db, job["id"]) == {first["id"]: "withdrawn", again.json()["id"]: "pending"}


async def test_a_worker_may_apply_again_after_being_rejected(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    first = await apply(client, worker, job["id"])
    assert (await decide(client, owner, first["id"], "reject")).status_code == 200
    again = await post_application(client, worker, job["id"])
    assert again.status_code == 201, again.text
    assert await statuses(db, job["id"]) == {first["id"]: "rejected", again.json()["id"]: "pending"}


@pytest.mark.parametrize(
    "body",
    [
        {"cover_letter": "x" * 5001},
        {"cover_letter": "hi", "status": "accepted"},
        {"cover_letter": "hi", "worker_id": 1},
        {"bid_minor": 0},
        {"bid_minor": -100},
        {"estimated_hours": 0},
    ],
    ids=["cover_letter_too_long", "unknown_status", "unknown_worker_id", "bid_zero", "bid_negative", "hours_zero"],
)
async def test_invalid_application_bodies_are_422(client: AsyncClient, body: dict[str, Any]) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    problem = assert_problem(await post_application(client, worker, job["id"], **body), 422)
    assert problem["errors"]
    assert (await get_job(client, job["id"]))["applications_count"] == 0


async def test_a_cover_letter_of_exactly_5000_characters_is_accepted(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    response = await post_application(client, worker, job["id"], cover_letter="x" * 5000, bid_minor=1)
    assert response.status_code == 201, response.text
    assert len(response.json()["cover_letter"]) == 5000


async def test_applications_count_goes_up_on_apply_and_down_on_withdraw(client: AsyncClient) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await post_job(client, owner)
    assert (await get_job(client, job["id"]))["applications_count"] == 0
    a = await apply(client, first, job["id"])
    await apply(client, second, job["id"])
    assert (await get_job(client, job["id"]))["applications_count"] == 2
    assert (await decide(client, first, a["id"], "withdraw")).status_code == 200
    assert (await get_job(client, job["id"]))["applications_count"] == 1
    await apply(client, first, job["id"])
    assert (await get_job(client, job["id"]))["applications_count"] == 2


# --- GET /jobs/{job_id}/applications ----------------------------------------------------------------


async def test_job_applications_are_for_the_owner_and_admins_only(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, other_client, worker = (
        await register(client, "client"),
        await register(client, "client"),
        await register(client),
    )
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    url = f"{API}/jobs/{job['id']}/applications"
    for actor in (owner, await make_admin(client, db, settings)):
        response = await client.get(url, headers=actor.headers)
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == [application["id"]]
    assert_problem(await client.get(url, headers=other_client.headers), 403)
    assert_problem(await client.get(url, headers=worker.headers), 403)  # even the applicant
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get(f"{API}/jobs/999999999/applications", headers=owner.headers), 404)


async def test_job_applications_carry_the_worker_summary(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    worker = await register(client, full_name="Ada Worker")
    patch = {"headline": "Plumber, 10 years", "location": {"city": "Berlin", "lat": 52.52, "lng": 13.405}}
    assert (await client.patch(f"{API}/users/me", json=patch, headers=worker.headers)).status_code == 200
    await db.execute(update(User).where(User.id == worker.id).values(rating_sum=9, rating_count=2, completed_jobs=4))
    await db.commit()
    job = await post_job(client, owner)
    await apply(client, worker, job["id"], cover_letter="Call me.")
    response = await client.get(f"{API}/jobs/{job['id']}/applications", headers=owner.headers)
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["cover_letter"] == "Call me." and item["status"] == "pending"
    assert item["worker"] == {
        "id": worker.id,
        "full_name": "Ada Worker",
        "headline": "Plumber, 10 years",
        "city": "Berlin",
        "rating_avg": 4.5,
        "rating_count": 2,
        "completed_jobs": 4,
    }


async def test_job_applications_filter_by_status(client: AsyncClient) -> None:
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(4)]
    job = await post_job(client, owner, openings=3)
    apps = [await apply(client, w, job["id"]) for w in workers]
    await hire(client, owner, apps[0]["id"])
    assert (await decide(client, owner, apps[1]["id"], "reject")).status_code == 200
    assert (await decide(client, workers[2], apps[2]["id"], "withdraw")).status_code == 200
    url = f"{API}/jobs/{job['id']}/applications"
    expected = {
        "accepted": apps[0]["id"],
        "rejected": apps[1]["id"],
        "withdrawn": apps[2]["id"],
        "pending": apps[3]["id"],
    }
    for status, app_id in expected.items():
        response = await client.get(url, params={"status": status}, headers=owner.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [(i["id"], i["status"]) for i in items] == [(app_id, status)]
    everything = await client.get(url, headers=owner.headers)
    assert len(everything.json()["items"]) == 4
    assert_problem(await client.get(url, params={"status": "hired"}, headers=owner.headers), 422)


async def test_job_applications_paginate_newest_first(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    ids = [(await apply(client, await register(client), job["id"]))["id"] for _ in range(5)]
    url = f"{API}/jobs/{job['id']}/applications"
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params, headers=owner.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ids, reverse=True)  # same created_at in one transaction: newest id first
    assert_problem(await client.get(url, params={"limit": 0}, headers=owner.headers), 422)
    assert_problem(await client.get(url, params={"limit": 101}, headers=owner.headers), 422)
    assert_problem(await client.get(url, params={"cursor": "not-a-cursor"}, headers=owner.headers), 422)


# --- GET /applications/{application_id} -------------------------------------------------------------


async def test_an_application_is_visible_to_its_worker_the_owner_and_admins(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    for actor in (worker, owner, await make_admin(client, db, settings)):
        response = await client.get(f"{API}/applications/{application['id']}", headers=actor.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == application["id"] and body["worker"]["id"] == worker.id
        assert body["job"]["id"] == job["id"]


async def test_an_application_is_404_to_everyone_else(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    other_worker, other_client = await register(client), await register(client, "client")
    job = await post_job(client, owner)
    url = f"{API}/applications/{(await apply(client, worker, job['id']))['id']}"
    assert_problem(await client.get(url, headers=other_worker.headers), 404)
    assert_problem(await client.get(url, headers=other_client.headers), 404)
    assert_problem(await client.get(url), 401)
    assert_problem(await client.get(f"{API}/applications/999999999", headers=owner.headers), 404)


# --- POST /applications/{application_id}/withdraw ---------------------------------------------------


async def test_a_worker_withdraws_a_pending_application(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    response = await decide(client, worker, application["id"], "withdraw")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn" and response.json()["decided_at"] is not None
    assert await statuses(db, job["id"]) == {application["id"]: "withdrawn"}


async def test_withdrawing_a_decided_application_is_409(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    accepted_w, rejected_w, withdrawn_w = await register(client), await register(client), await register(client)
    job = await post_job(client, owner, openings=2)
    accepted = await apply(client, accepted_w, job["id"])
    rejected = await apply(client, rejected_w, job["id"])
    withdrawn = await apply(client, withdrawn_w, job["id"])
    await hire(client, owner, accepted["id"])
    assert (await decide(client, owner, rejected["id"], "reject")).status_code == 200
    assert (await decide(client, withdrawn_w, withdrawn["id"], "withdraw")).status_code == 200
    for worker, application, status in (
        (accepted_w, accepted, "accepted"),
        (rejected_w, rejected, "rejected"),
        (withdrawn_w, withdrawn, "withdrawn"),
    ):
        body = assert_problem(await decide(client, worker, application["id"], "withdraw"), 409)
        assert status in body["detail"]
    assert await statuses(db, job["id"]) == {
        accepted["id"]: "accepted",
        rejected["id"]: "rejected",
        withdrawn["id"]: "withdrawn",
    }
    assert (await get_job(client, job["id"]))["applications_count"] == 2  # only the one real withdrawal counted


async def test_only_its_worker_can_withdraw_an_application(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker, other_worker = await register(client, "client"), await register(client), await register(client)
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    assert_problem(await decide(client, other_worker, application["id"], "withdraw"), 404)
    assert_problem(await decide(client, owner, application["id"], "withdraw"), 403)  # clients never withdraw
    assert_problem(await decide(client, None, application["id"], "withdraw"), 401)
    assert_problem(await decide(client, worker, 999_999_999, "withdraw"), 404)
    assert await statuses(db, job["id"]) == {application["id"]: "pending"}


# --- POST /applications/{application_id}/accept and /reject ----------------------------------------


@pytest.mark.parametrize("action", ["accept", "reject"])
async def test_only_the_job_owner_decides(
    client: AsyncClient, db: AsyncSession, settings: Settings, action: str
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    other_client, other_worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    assert_problem(await decide(client, other_client, application["id"], action), 404)
    assert_problem(await decide(client, worker, application["id"], action), 403)  # not on their own application
    assert_problem(await decide(client, other_worker, application["id"], action), 403)
    assert_problem(await decide(client, await make_admin(client, db, settings), application["id"], action), 403)
    assert_problem(await decide(client, None, application["id"], action), 401)
    assert_problem(await decide(client, owner, 999_999_999, action), 404)
    assert await statuses(db, job["id"]) == {application["id"]: "pending"}
    assert (await get_job(client, job["id"]))["hired_count"] == 0


async def test_accepting_increments_hired_count_and_keeps_open_openings(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(3)]
    job = await post_job(client, owner, openings=3)
    apps = [await apply(client, w, job["id"]) for w in workers]
    accepted = await hire(client, owner, apps[0]["id"])
    assert accepted["status"] == "accepted" and accepted["decided_at"] is not None
    after = await get_job(client, job["id"])
    assert (after["hired_count"], after["status"]) == (1, "open")
    assert await statuses(db, job["id"]) == {
        apps[0]["id"]: "accepted",
        apps[1]["id"]: "pending",
        apps[2]["id"]: "pending",
    }


async def test_rejecting_sets_rejected_and_hires_nobody(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    application = await apply(client, worker, job["id"])
    response = await decide(client, owner, application["id"], "reject")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected" and response.json()["decided_at"] is not None
    after = await get_job(client, job["id"])
    assert (after["hired_count"], after["status"]) == (0, "open")


async def test_filling_the_last_opening_starts_the_job_and_rejects_the_rest(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(5)]
    job = await post_job(client, owner, openings=2)
    apps = [await apply(client, w, job["id"]) for w in workers]
    assert (await decide(client, workers[4], apps[4]["id"], "withdraw")).status_code == 200
    await hire(client, owner, apps[0]["id"])
    assert (await get_job(client, job["id"]))["status"] == "open"
    last = await hire(client, owner, apps[1]["id"])
    assert last["status"] == "accepted" and last["job"]["status"] == "in_progress"
    after = await get_job(client, job["id"])
    assert (after["status"], after["hired_count"]) == ("in_progress", 2)
    assert await statuses(db, job["id"]) == {
        apps[0]["id"]: "accepted",
        apps[1]["id"]: "accepted",
        apps[2]["id"]: "rejected",
        apps[3]["id"]: "rejected",
        apps[4]["id"]: "withdrawn",  # a withdrawn application stays withdrawn
    }
    rejected = await db.scalars(
        select(Application.decided_at).where(Application.id.in_([apps[2]["id"], apps[3]["id"]]))
    )
    assert all(decided_at is not None for decided_at in rejected)


async def test_deciding_an_already_decided_application_is_409(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(3)]
    job = await post_job(client, owner, openings=3)
    accepted, rejected, withdrawn = [await apply(client, w, job["id"]) for w in workers]
    await hire(client, owner, accepted["id"])
    assert (await decide(client, owner, rejected["id"], "reject")).status_code == 200
    assert (await decide(client, workers[2], withdrawn["id"], "withdraw")).status_code == 200
    for application, status in ((accepted, "accepted"), (rejected, "rejected"), (withdrawn, "withdrawn")):
        for action in ("accept", "reject"):
            body = assert_problem(await decide(client, owner, application["id"], action), 409)
            assert status in body["detail"]
    after = await get_job(client, job["id"])
    assert (after["hired_count"], after["status"]) == (1, "open")
    assert await statuses(db, job["id"]) == {
        accepted["id"]: "accepted",
        rejected["id"]: "rejected",
        withdrawn["id"]: "withdrawn",
    }


@pytest.mark.parametrize("job_status", ["in_progress", "cancelled", "completed"])
@pytest.mark.parametrize("action", ["accept", "reject"])
async def test_deciding_on_a_job_that_is_not_open_is_409(
    client: AsyncClient, db: AsyncSession, job_status: str, action: str
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, openings=2)
    application = await apply(client, worker, job["id"])
    await set_job(db, job["id"], status=job_status)  # a pending application left on a job that moved on
    body = assert_problem(await decide(client, owner, application["id"], action), 409)
    assert job_status in body["detail"]
    assert await statuses(db, job["id"]) == {application["id"]: "pending"}


async def test_accepting_when_every_opening_is_filled_is_409(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, openings=2)
    application = await apply(client, worker, job["id"])
    await set_job(db, job["id"], hired_count=2)  # the guard itself, independent of the status bookkeeping
    body = assert_problem(await decide(client, owner, application["id"], "accept"), 409)
    assert "openings" in body["detail"]
    assert await statuses(db, job["id"]) == {application["id"]: "pending"}


# --- concurrency (real commits) ---------------------------------------------------------------------


async def committed_counts(engine: AsyncEngine, job_id: int) -> tuple[str, int, int]:
    """(job status, hired_count, accepted applications), read on a fresh connection."""
    async with engine.connect() as conn:
        status, hired = (await conn.execute(select(Job.status, Job.hired_count).where(Job.id == job_id))).one()
        accepted = await conn.scalar(
            select(func.count()).where(Application.job_id == job_id, Application.status == "accepted")
        )
    return status, hired, int(accepted or 0)


@pytest.mark.committing
async def test_concurrent_accepts_never_exceed_openings(committing_client: AsyncClient, engine: AsyncEngine) -> None:
    http = committing_client
    owner = await register(http, "client")
    workers = [await register(http) for _ in range(8)]
    for _ in range(3):
        job = await post_job(http, owner, openings=2)
        apps = [await apply(http, w, job["id"]) for w in workers]
        outcomes = await asyncio.gather(*(decide(http, owner, a["id"], "accept") for a in apps), return_exceptions=True)
        assert not [r for r in outcomes if isinstance(r, BaseException)], outcomes
        responses = [r for r in outcomes if isinstance(r, Response)]
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] * 2 + [409] * 6, [r.text for r in responses]
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409)
        assert await committed_counts(engine, job["id"]) == ("in_progress", 2, 2)


@pytest.mark.committing
async def test_concurrent_decisions_on_one_application_count_once(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    http = committing_client
    owner, worker = await register(http, "client"), await register(http)
    job = await post_job(http, owner, openings=3)
    application = await apply(http, worker, job["id"])
    actions = ["accept"] * 4 + ["reject"] * 2
    outcomes = await asyncio.gather(
        *(decide(http, owner, application["id"], a) for a in actions), return_exceptions=True
    )
    assert not [r for r in outcomes if isinstance(r, BaseException)], outcomes
    responses = [r for r in outcomes if isinstance(r, Response)]
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5, [r.text for r in responses]
    (winner,) = [a for a, r in zip(actions, responses, strict=True) if r.status_code == 200]
    status, hired, accepted = await committed_counts(engine, job["id"])
    assert (status, hired, accepted) == (("open", 1, 1) if winner == "accept" else ("open", 0, 0))


@pytest.mark.committing
async def test_concurrent_withdraw_and_accept_settle_on_one_outcome(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    http = committing_client
    owner = await register(http, "client")
    workers = [await register(http) for _ in range(6)]
    job = await post_job(http, owner, openings=len(workers))
    apps = [await apply(http, w, job["id"]) for w in workers]
    calls = []
    for worker, application in zip(workers, apps, strict=True):
        calls += [decide(http, worker, application["id"], "withdraw"), decide(http, owner, application["id"], "accept")]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert not [r for r in outcomes if isinstance(r, BaseException)], outcomes
    responses = [r for r in outcomes if isinstance(r, Response)]
    for withdraw, accept in zip(responses[::2], responses[1::2], strict=True):
        # exactly one of the two wins; the other sees a decided application (never a 500 or a deadlock)
        assert sorted([withdraw.status_code, accept.status_code]) == [200, 409], (withdraw.text, accept.text)
    accepted = sum(r.status_code == 200 for r in responses[1::2])
    withdrawn = sum(r.status_code == 200 for r in responses[::2])
    status, hired, accepted_rows = await committed_counts(engine, job["id"])
    assert hired == accepted == accepted_rows
    assert status == ("in_progress" if accepted == len(workers) else "open")
    assert (await get_job(http, job["id"]))["applications_count"] == len(workers) - withdrawn


# --- GET /users/me/applications ---------------------------------------------------------------------


async def test_my_applications_list_mine_with_a_job_summary(client: AsyncClient) -> None:
    owner, worker, other = await register(client, "client"), await register(client), await register(client)
    first, second = await post_job(client, owner), await post_job(client, owner, pay_rate_minor=25_000)
    a1 = await apply(client, worker, first["id"])
    a2 = await apply(client, worker, second["id"])
    await apply(client, other, first["id"])
    response = await client.get(f"{API}/users/me/applications", headers=worker.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [item["id"] for item in page["items"]] == [a2["id"], a1["id"]] and page["next_cursor"] is None
    job = page["items"][0]["job"]
    assert job == {
        "id": second["id"],
        "title": second["title"],
        "status": "open",
        "pay_type": "fixed",
        "pay_rate_minor": 25_000,
        "client_id": owner.id,
    }
    assert all(item["worker_id"] == worker.id for item in page["items"])


async def test_my_applications_filter_by_status_and_paginate(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    jobs = [await post_job(client, owner) for _ in range(3)]
    apps = [await apply(client, worker, j["id"]) for j in jobs]
    assert (await decide(client, worker, apps[0]["id"], "withdraw")).status_code == 200
    await hire(client, owner, apps[1]["id"])
    url = f"{API}/users/me/applications"
    for status, expected in (("withdrawn", apps[0]), ("accepted", apps[1]), ("pending", apps[2])):
        items = (await client.get(url, params={"status": status}, headers=worker.headers)).json()["items"]
        assert [(i["id"], i["status"]) for i in items] == [(expected["id"], status)]
    assert (await client.get(url, params={"status": "rejected"}, headers=worker.headers)).json()["items"] == []
    first_page = (await client.get(url, params={"limit": 2}, headers=worker.headers)).json()
    assert len(first_page["items"]) == 2 and first_page["next_cursor"]
    rest = await client.get(url, params={"limit": 2, "cursor": first_page["next_cursor"]}, headers=worker.headers)
    assert [i["id"] for i in first_page["items"] + rest.json()["items"]] == [a["id"] for a in reversed(apps)]
    assert rest.json()["next_cursor"] is None
    assert_problem(await client.get(url, params={"status": "bogus"}, headers=worker.headers), 422)


async def test_my_applications_are_for_workers_only(client: AsyncClient) -> None:
    owner = await register(client, "client")
    assert_problem(await client.get(f"{API}/users/me/applications", headers=owner.headers), 403)
    assert_problem(await client.get(f"{API}/users/me/applications"), 401)
