"""Users: the caller's account, public profiles, a client's jobs and a user's payments."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, Payment, User
from app.settings import Settings
from tests.factories import API, Actor, apply, assert_problem, completed_job, fund, hire, make_admin, post_job, register

PUBLIC_PROFILE_FIELDS = {
    "id",
    "full_name",
    "role",
    "headline",
    "bio",
    "skills",
    "city",
    "rating_avg",
    "rating_count",
    "completed_jobs",
    "created_at",
}


async def me(client: AsyncClient, actor: Actor) -> dict[str, Any]:
    response = await client.get(f"{API}/users/me", headers=actor.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def patch_me(client: AsyncClient, actor: Actor, body: dict[str, Any]) -> Response:
    return await client.patch(f"{API}/users/me", json=body, headers=actor.headers)


async def review(client: AsyncClient, reviewer: Actor, job_id: int, reviewee: Actor, rating: int) -> None:
    response = await client.post(
        f"{API}/jobs/{job_id}/reviews",
        json={"reviewee_id": reviewee.id, "rating": rating, "comment": "Fine."},
        headers=reviewer.headers,
    )
    assert response.status_code == 201, response.text


async def set_created_at(db: AsyncSession, model: type[Job] | type[Payment], row_id: int, when: datetime) -> None:
    await db.execute(update(model).where(model.id == row_id).values(created_at=when))
    await db.commit()


# GET /users/me


async def test_me_requires_a_login(client: AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/users/me"), 401)


async def test_me_returns_the_account(client: AsyncClient) -> None:
    worker = await register(client, "worker", full_name="Ada Worker")
    account = await me(client, worker)
    assert account["id"] == worker.id and account["email"] == worker.email
    assert account["full_name"] == "Ada Worker" and account["role"] == "worker"
    assert account["balance_minor"] == 0 and account["currency"] == "USD"
    assert account["phone"] is None and account["payout_details"] is None
    for field in ("headline", "bio", "skills", "hourly_rate_minor", "location", "rating_avg", "rating_count"):
        assert field in account
    assert not any("password" in key or "hash" in key for key in account)


async def test_me_shows_the_balance_after_a_payout(client: AsyncClient) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    await completed_job(client, owner, [worker], pay_rate_minor=10_000)
    assert (await me(client, worker))["balance_minor"] == 9_000  # 10% platform fee


# PATCH /users/me


async def test_update_me_changes_the_profile(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    body = {
        "full_name": "Grace Plumber",
        "headline": "Pipes and more",
        "bio": "Twenty years under sinks.",
        "phone": "+49 30 1234567",
        "skills": ["plumbing", "electrical"],
        "hourly_rate_minor": 4_500,
        "location": {"city": "Berlin", "lat": 52.52, "lng": 13.40},
        "payout_details": {"method": "bank_transfer", "account": "DE89370400440532013000"},
    }
    response = await patch_me(client, worker, body)
    assert response.status_code == 200, response.text
    for account in (response.json(), await me(client, worker)):
        assert account["full_name"] == "Grace Plumber" and account["headline"] == "Pipes and more"
        assert account["bio"] == "Twenty years under sinks." and account["phone"] == "+49 30 1234567"
        assert [s["slug"] for s in account["skills"]] == ["electrical", "plumbing"]
        assert account["hourly_rate_minor"] == 4_500
        assert account["location"] == {"city": "Berlin", "lat": 52.52, "lng": 13.40}
        assert account["payout_details"] == {"method": "bank_transfer", "account": "DE89370400440532013000"}


async def test_update_me_is_partial(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    await patch_me(client, worker, {"headline": "Keep me", "skills": ["plumbing"]})
    response = await patch_me(client, worker, {"bio": "New bio"})
    assert response.status_code == 200, response.text
    account = response.json()
    assert account["headline"] == "Keep me" and account["bio"] == "New bio"
    assert [s["slug"] for s in account["skills"]] == ["plumbing"]


async def test_update_me_clears_location_with_null(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    await patch_me(client, worker, {"location": {"city": "Berlin", "lat": 52.52, "lng": 13.40}})
    response = await patch_me(client, worker, {"location": None})
    assert response.status_code == 200 and response.json()["location"] is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"role": "admin"}, id="role"),
        pytest.param({"balance_minor": 1_000_000}, id="balance"),
        pytest.param({"rating_avg": 5.0}, id="rating-avg"),
        pytest.param({"rating_count": 100}, id="rating-count"),
        pytest.param({"id": 1}, id="id"),
        pytest.param({"email": "new@test.example"}, id="email"),
        pytest.param({"completed_jobs": 99}, id="completed-jobs"),
        pytest.param({"skills": ["plumbing", "no-such-skill"]}, id="unknown-skill"),
        pytest.param({"full_name": None}, id="null-full-name"),
        pytest.param({"full_name": "x" * 121}, id="long-full-name"),
        pytest.param({"hourly_rate_minor": 0}, id="zero-rate"),
        pytest.param({"phone": "call me maybe"}, id="bad-phone"),
        pytest.param({"location": {"city": "Nowhere", "lat": 91, "lng": 0}}, id="bad-location"),
        pytest.param({"payout_details": {"method": "cash", "account": "1234"}}, id="bad-payout-method"),
        pytest.param({"bio": "a\x00b"}, id="nul-character"),
    ],
)
async def test_update_me_rejects_fields_the_caller_must_not_set(
    client: AsyncClient, db: AsyncSession, body: dict[str, Any]
) -> None:
    worker = await register(client, "worker")
    before = await me(client, worker)
    assert_problem(await patch_me(client, worker, body), 422)
    assert await me(client, worker) == before
    assert await db.scalar(select(User.role).where(User.id == worker.id)) == "worker"


async def test_update_me_requires_a_login(client: AsyncClient) -> None:
    assert_problem(await client.patch(f"{API}/users/me", json={"bio": "x"}), 401)


# GET /users/{id}


async def test_public_profile_fields(client: AsyncClient) -> None:
    worker = await register(client, "worker", full_name="Linus Worker")
    await patch_me(
        client,
        worker,
        {
            "headline": "Handy",
            "bio": "I fix things.",
            "skills": ["carpentry"],
            "phone": "+1 555 0100",
            "location": {"city": "Oslo", "lat": 59.91, "lng": 10.75},
        },
    )
    profile = (await client.get(f"{API}/users/{worker.id}")).json()
    assert set(profile) >= PUBLIC_PROFILE_FIELDS
    assert profile["id"] == worker.id and profile["full_name"] == "Linus Worker" and profile["role"] == "worker"
    assert profile["headline"] == "Handy" and profile["bio"] == "I fix things." and profile["city"] == "Oslo"
    assert [s["slug"] for s in profile["skills"]] == ["carpentry"]
    assert profile["rating_avg"] is None and profile["rating_count"] == 0 and profile["completed_jobs"] == 0
    assert not any(key in profile for key in ("balance_minor", "payout_details", "lat", "lng", "location"))


async def test_email_and_phone_only_for_the_user_and_admins(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    worker = await register(client, "worker")
    other = await register(client, "client")
    admin = await make_admin(client, db, settings)
    await patch_me(client, worker, {"phone": "+1 555 0100"})
    url = f"{API}/users/{worker.id}"

    for headers in ({}, other.headers):
        profile = (await client.get(url, headers=headers)).json()
        assert profile["email"] is None and profile["phone"] is None
    for headers in (worker.headers, admin.headers):
        profile = (await client.get(url, headers=headers)).json()
        assert profile["email"] == worker.email and profile["phone"] == "+1 555 0100"


async def test_completed_jobs_counts_for_workers_and_clients(client: AsyncClient) -> None:
    owner = await register(client, "client")
    ada = await register(client, "worker")
    bob = await register(client, "worker")
    await completed_job(client, owner, [ada, bob])
    await completed_job(client, owner, [ada])
    # neither an open job with a hire nor a cancelled one counts
    pending = await post_job(client, owner, openings=2)
    await hire(client, owner, (await apply(client, bob, pending["id"]))["id"])
    cancelled = await post_job(client, owner)
    await hire(client, owner, (await apply(client, bob, cancelled["id"]))["id"])
    assert (await client.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)).status_code == 200

    async def completed(actor: Actor) -> int:
        return int((await client.get(f"{API}/users/{actor.id}")).json()["completed_jobs"])

    assert await completed(ada) == 2
    assert await completed(bob) == 1
    assert await completed(owner) == 2


async def test_profile_shows_rating_average_and_count(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    first_client = await register(client, "client")
    second_client = await register(client, "client")
    job_a = await completed_job(client, first_client, [worker])
    job_b = await completed_job(client, second_client, [worker])
    await review(client, first_client, job_a["id"], worker, 5)
    await review(client, second_client, job_b["id"], worker, 2)
    await review(client, worker, job_a["id"], first_client, 4)

    profile = (await client.get(f"{API}/users/{worker.id}")).json()
    assert profile["rating_count"] == 2 and profile["rating_avg"] == pytest.approx(3.5)
    client_profile = (await client.get(f"{API}/users/{first_client.id}")).json()
    assert client_profile["rating_count"] == 1 and client_profile["rating_avg"] == pytest.approx(4.0)
    job = (await client.get(f"{API}/jobs/{job_a['id']}")).json()
    assert job["client"]["rating_avg"] == pytest.approx(4.0)


async def test_missing_user_is_a_404_problem(client: AsyncClient) -> None:
    problem = assert_problem(await client.get(f"{API}/users/987654321"), 404)
    assert problem["title"] == "Not Found"


async def test_a_user_id_beyond_bigint_is_422_not_a_server_error(client: AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/users/{10**20}"), 422)
    assert_problem(await client.get(f"{API}/users/{10**20}/jobs"), 422)


# GET /users/{id}/jobs


async def test_user_jobs_newest_first_with_counts(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    ada = await register(client, "worker")
    bob = await register(client, "worker")
    # posted in this order, but dated so that newest-first differs from both id orders
    newest, oldest, middle = [await post_job(client, owner, openings=2) for _ in range(3)]
    base = datetime(2030, 1, 1, tzinfo=UTC)
    await set_created_at(db, Job, newest["id"], base + timedelta(days=1))
    await set_created_at(db, Job, oldest["id"], base - timedelta(days=1))
    await set_created_at(db, Job, middle["id"], base)
    await hire(client, owner, (await apply(client, ada, middle["id"]))["id"])
    await apply(client, bob, middle["id"])
    await apply(client, bob, newest["id"])
    await post_job(client, await register(client, "client"))  # someone else's job

    items = (await client.get(f"{API}/users/{owner.id}/jobs")).json()["items"]
    assert [j["id"] for j in items] == [newest["id"], middle["id"], oldest["id"]]
    counts = {j["id"]: (j["applications_count"], j["hired_count"]) for j in items}
    assert counts == {newest["id"]: (1, 0), middle["id"]: (2, 1), oldest["id"]: (0, 0)}


async def test_user_jobs_hide_cancelled_jobs_from_others(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await register(client, "client")
    other = await register(client, "worker")
    admin = await make_admin(client, db, settings)
    visible = await post_job(client, owner)
    cancelled = await post_job(client, owner)
    assert (await client.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)).status_code == 200
    url = f"{API}/users/{owner.id}/jobs"

    for headers in ({}, other.headers):
        assert [j["id"] for j in (await client.get(url, headers=headers)).json()["items"]] == [visible["id"]]
        filtered = await client.get(url, params={"status": "cancelled"}, headers=headers)
        assert filtered.status_code == 200 and filtered.json()["items"] == []
    for headers in (owner.headers, admin.headers):
        ids = {j["id"] for j in (await client.get(url, headers=headers)).json()["items"]}
        assert ids == {visible["id"], cancelled["id"]}
        filtered = (await client.get(url, params={"status": "cancelled"}, headers=headers)).json()["items"]
        assert [j["id"] for j in filtered] == [cancelled["id"]]


async def test_user_jobs_status_filter(client: AsyncClient) -> None:
    owner = await register(client, "client")
    open_job = await post_job(client, owner)
    done = await completed_job(client, owner, [await register(client, "worker")])
    url = f"{API}/users/{owner.id}/jobs"
    assert [j["id"] for j in (await client.get(url, params={"status": "open"})).json()["items"]] == [open_job["id"]]
    completed = (await client.get(url, params={"status": "completed"})).json()["items"]
    assert [j["id"] for j in completed] == [done["id"]] and completed[0]["status"] == "completed"
    assert (await client.get(url, params={"status": "in_progress"})).json()["items"] == []
    assert_problem(await client.get(url, params={"status": "archived"}), 422)


async def test_user_jobs_paginate(client: AsyncClient) -> None:
    owner = await register(client, "client")
    posted = {(await post_job(client, owner))["id"] for _ in range(5)}
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/users/{owner.id}/jobs", params=params)).json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == posted


async def test_user_jobs_for_a_missing_user_is_404(client: AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/users/987654321/jobs"), 404)


# GET /users/{id}/payments


async def test_payments_list_payer_and_payee_sides_newest_first(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    done = await completed_job(client, owner, [worker], pay_rate_minor=20_000)
    refunded = await post_job(client, owner, pay_rate_minor=7_000)
    await fund(client, owner, refunded)
    assert (await client.post(f"{API}/jobs/{refunded['id']}/cancel", headers=owner.headers)).status_code == 200

    rows = (await db.scalars(select(Payment).order_by(Payment.id))).all()
    by_kind = {(p.job_id, p.kind): p.id for p in rows}
    assert len(rows) == 5  # escrow, payout, fee; escrow, refund
    # created_at shuffled against id order, so neither id order gives the right list by accident
    base = datetime(2030, 1, 1, tzinfo=UTC)
    created = {p.id: base + timedelta(minutes=(i * 2) % 5) for i, p in enumerate(rows)}
    for payment_id, when in created.items():
        await set_created_at(db, Payment, payment_id, when)

    owner_view = (await client.get(f"{API}/users/{owner.id}/payments", headers=owner.headers)).json()["items"]
    # all of them (payer or payee), newest first
    assert [p["id"] for p in owner_view] == sorted(created, key=created.__getitem__, reverse=True)
    refund = next(p for p in owner_view if p["kind"] == "refund")
    assert refund["payee_id"] == owner.id and refund["payer_id"] is None  # listed as payee

    worker_view = (await client.get(f"{API}/users/{worker.id}/payments", headers=worker.headers)).json()["items"]
    assert [p["id"] for p in worker_view] == [by_kind[(done["id"], "payout")]]
    assert worker_view[0]["payee_id"] == worker.id and worker_view[0]["amount_minor"] == 18_000


async def test_payments_only_for_the_user_and_admins(client: AsyncClient, db: AsyncSession, settings: Settings) -> None:
    owner = await register(client, "client")
    other = await register(client, "client")
    admin = await make_admin(client, db, settings)
    job = await post_job(client, owner)
    escrow = await fund(client, owner, job)
    url = f"{API}/users/{owner.id}/payments"
    assert_problem(await client.get(url, headers=other.headers), 403)
    assert_problem(await client.get(url), 401)
    for headers in (owner.headers, admin.headers):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200 and [p["id"] for p in response.json()["items"]] == [escrow["id"]]
