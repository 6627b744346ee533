"""Escrow payments: idempotent funding, release on completion, refund on cancellation, the ledger invariant."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import UnitOfWork
from app.models import Payment
from app.settings import Settings
from tests.conftest import app_client
from tests.factories import API, Actor, apply, fund, hire, make_admin, post_job, register

PROBLEM_JSON = "application/problem+json"


async def fund_request(
    client: AsyncClient, actor: Actor | None, job_id: int, amount: int, key: str | None = "key-1"
) -> Response:
    headers = dict(actor.headers) if actor else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(f"{API}/jobs/{job_id}/payments", json={"amount_minor": amount}, headers=headers)


async def get_job(client: AsyncClient, job_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def balance(client: AsyncClient, actor: Actor) -> int:
    response = await client.get(f"{API}/users/me", headers=actor.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["balance_minor"])


async def hired_job(client: AsyncClient, owner: Actor, workers: list[Actor], **overrides: Any) -> dict[str, Any]:
    """A funded job with every opening filled by `workers` (so it is in progress)."""
    job = await post_job(client, owner, openings=len(workers), **overrides)
    await fund(client, owner, job)
    for worker in workers:
        await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    return job


async def payments_of(db: AsyncSession | AsyncConnection, job_id: int) -> list[dict[str, Any]]:
    rows = await db.execute(
        text("SELECT id, kind, status, amount_minor, payer_id, payee_id FROM payments WHERE job_id = :j ORDER BY id"),
        {"j": job_id},
    )
    return [dict(r._mapping) for r in rows]


async def scalar(db: AsyncSession | AsyncConnection, sql: str, **params: Any) -> Any:
    return (await db.execute(text(sql), params)).scalar_one()


async def assert_ledger_invariant(db: AsyncSession | AsyncConnection) -> None:
    assert await scalar(db, "SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries") == 0
    unbalanced = await scalar(
        db,
        "SELECT count(*) FROM (SELECT payment_id FROM ledger_entries GROUP BY payment_id"
        " HAVING sum(amount_minor) <> 0) AS p",
    )
    assert unbalanced == 0
    mismatched = await scalar(
        db,
        "SELECT count(*) FROM accounts a LEFT JOIN (SELECT account_id, sum(amount_minor) AS s FROM ledger_entries"
        " GROUP BY account_id) e ON e.account_id = a.id WHERE a.balance_minor <> coalesce(e.s, 0)",
    )
    assert mismatched == 0
    negative = await scalar(db, "SELECT count(*) FROM accounts WHERE kind <> 'external' AND balance_minor < 0")
    assert negative == 0


async def account_balance(db: AsyncSession | AsyncConnection, code: str) -> int:
    found = (await db.execute(text("SELECT balance_minor FROM accounts WHERE code = :c"), {"c": code})).scalar()
    return int(found or 0)


# Funding


async def test_owner_funds_an_open_job_into_held_escrow(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_rate_minor=12_345)
    assert job["funded"] is False

    response = await fund_request(client, owner, job["id"], 12_345)

    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["kind"] == "escrow" and payment["status"] == "held"
    assert payment["amount_minor"] == job["total_cost_minor"] == 12_345
    assert payment["job_id"] == job["id"] and payment["payer_id"] == owner.id and payment["payee_id"] is None
    assert payment["currency"] == "USD"
    after = await get_job(client, job["id"])
    assert after["funded"] is True and after["escrow_status"] == "held"
    assert await account_balance(db, f"escrow:job:{job['id']}") == 12_345


async def test_owner_funds_an_in_progress_job(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await post_job(client, owner)
    await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    assert (await get_job(client, job["id"]))["status"] == "in_progress"

    response = await fund_request(client, owner, job["id"], job["total_cost_minor"])

    assert response.status_code == 201, response.text
    assert (await get_job(client, job["id"]))["funded"] is True


async def test_missing_idempotency_key_is_a_400_problem(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)

    response = await fund_request(client, owner, job["id"], job["total_cost_minor"], key=None)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 400 and "Idempotency-Key" in response.json()["detail"]
    assert (await get_job(client, job["id"]))["funded"] is False
    assert await payments_of(db, job["id"]) == []


async def test_an_overlong_idempotency_key_is_422(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    response = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="k" * 256)
    assert response.status_code == 422 and response.json()["status"] == 422
    assert (await get_job(client, job["id"]))["funded"] is False


async def test_amount_other_than_the_total_cost_is_422(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_rate_minor=5_000, openings=2)

    for amount in (9_999, 10_001, 5_000):
        response = await fund_request(client, owner, job["id"], amount, key=f"k-{amount}")
        assert response.status_code == 422, amount
        assert response.json()["status"] == 422
    assert (await get_job(client, job["id"]))["funded"] is False
    assert await payments_of(db, job["id"]) == []


async def test_only_the_jobs_owning_client_may_fund_it(client: AsyncClient, db: AsyncSession) -> None:
    owner, other, worker = await register(client, "client"), await register(client, "client"), await register(client)
    job = await post_job(client, owner)
    amount = job["total_cost_minor"]

    assert (await fund_request(client, worker, job["id"], amount)).status_code == 403
    other_client = await fund_request(client, other, job["id"], amount)
    assert other_client.status_code == 403 and other_client.json()["status"] == 403
    anonymous = await fund_request(client, None, job["id"], amount)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM_JSON
    assert (await get_job(client, job["id"]))["funded"] is False
    assert await payments_of(db, job["id"]) == []


async def test_funding_a_missing_job_is_404(client: AsyncClient) -> None:
    owner = await register(client, "client")
    response = await fund_request(client, owner, 999_999, 10_000)
    assert response.status_code == 404 and response.json()["status"] == 404


async def test_funding_a_funded_job_with_a_new_key_is_409(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    assert (await fund_request(client, owner, job["id"], job["total_cost_minor"], key="first")).status_code == 201

    again = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="second")

    assert again.status_code == 409 and again.json()["status"] == 409
    assert [p["kind"] for p in await payments_of(db, job["id"])] == ["escrow"]
    assert await account_balance(db, f"escrow:job:{job['id']}") == job["total_cost_minor"]


async def test_cancelled_and_completed_jobs_cannot_be_funded(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    cancelled = await post_job(client, owner)
    assert (await client.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)).status_code == 200
    completed = await hired_job(client, owner, [worker])
    assert (await client.post(f"{API}/jobs/{completed['id']}/complete", headers=owner.headers)).status_code == 200

    refused = await fund_request(client, owner, cancelled["id"], cancelled["total_cost_minor"], key="c1")
    assert refused.status_code == 409
    assert await payments_of(db, cancelled["id"]) == []
    refused = await fund_request(client, owner, completed["id"], completed["total_cost_minor"], key="c2")
    assert refused.status_code == 409
    assert [p["kind"] for p in await payments_of(db, completed["id"])].count("escrow") == 1


# Idempotency


async def test_same_key_and_request_replays_the_same_payment(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    first = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="retry-me")
    entries = await scalar(db, "SELECT count(*) FROM ledger_entries")

    second = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="retry-me")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert len(await payments_of(db, job["id"])) == 1
    assert await scalar(db, "SELECT count(*) FROM ledger_entries") == entries
    assert await account_balance(db, f"escrow:job:{job['id']}") == job["total_cost_minor"]
    assert await scalar(db, "SELECT count(*) FROM idempotency_keys WHERE user_id = :u", u=owner.id) == 1


async def test_a_replay_after_cancellation_returns_the_original_answer_and_moves_nothing(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    first = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="before-cancel")
    assert (await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)).status_code == 200
    entries = await scalar(db, "SELECT count(*) FROM ledger_entries")

    replay = await fund_request(client, owner, job["id"], job["total_cost_minor"], key="before-cancel")

    assert replay.status_code == 201 and replay.json() == first.json()
    assert sorted(p["kind"] for p in await payments_of(db, job["id"])) == ["escrow", "refund"]
    assert await scalar(db, "SELECT count(*) FROM ledger_entries") == entries
    assert (await get_job(client, job["id"]))["escrow_status"] == "refunded"


async def test_same_key_with_a_different_body_is_422_and_nothing_runs(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    await fund_request(client, owner, job["id"], job["total_cost_minor"], key="k")
    entries = await scalar(db, "SELECT count(*) FROM ledger_entries")

    response = await fund_request(client, owner, job["id"], job["total_cost_minor"] + 1, key="k")

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]  # refused as a key reuse, not as a wrong amount
    assert len(await payments_of(db, job["id"])) == 1
    assert await scalar(db, "SELECT count(*) FROM ledger_entries") == entries


async def test_same_key_for_a_different_job_is_422_and_that_job_stays_unfunded(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner = await register(client, "client")
    first, second = await post_job(client, owner), await post_job(client, owner)
    assert first["total_cost_minor"] == second["total_cost_minor"]
    assert (await fund_request(client, owner, first["id"], first["total_cost_minor"], key="k")).status_code == 201

    response = await fund_request(client, owner, second["id"], second["total_cost_minor"], key="k")

    assert response.status_code == 422 and response.json()["status"] == 422
    assert (await get_job(client, second["id"]))["funded"] is False
    assert await payments_of(db, second["id"]) == []


async def test_idempotency_keys_are_per_user(client: AsyncClient) -> None:
    alice, bob = await register(client, "client"), await register(client, "client")
    alice_job, bob_job = await post_job(client, alice), await post_job(client, bob)

    a = await fund_request(client, alice, alice_job["id"], alice_job["total_cost_minor"], key="shared")
    b = await fund_request(client, bob, bob_job["id"], bob_job["total_cost_minor"], key="shared")

    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"] and b.json()["job_id"] == bob_job["id"]
    assert (await get_job(client, bob_job["id"]))["funded"] is True


@pytest.mark.committing
async def test_concurrent_retries_with_one_key_create_one_escrow(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    owner = await register(committing_client, "client")
    job = await post_job(committing_client, owner)

    responses = await asyncio.gather(
        *(fund_request(committing_client, owner, job["id"], job["total_cost_minor"], key="same") for _ in range(5))
    )

    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    async with engine.connect() as conn:
        assert [p["kind"] for p in await payments_of(conn, job["id"])] == ["escrow"]
        assert await account_balance(conn, f"escrow:job:{job['id']}") == job["total_cost_minor"]


@pytest.mark.committing
async def test_concurrent_fundings_with_different_keys_fund_once(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    owner = await register(committing_client, "client")
    job = await post_job(committing_client, owner)

    responses = await asyncio.gather(
        *(fund_request(committing_client, owner, job["id"], job["total_cost_minor"], key=f"k{i}") for i in range(5))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    async with engine.connect() as conn:
        assert len(await payments_of(conn, job["id"])) == 1
        await assert_ledger_invariant(conn)


# Release and refund


async def test_completing_pays_each_hired_worker_their_share_less_the_default_fee(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner = await register(client, "client")
    workers = [await register(client, "worker") for _ in range(3)]
    job = await hired_job(client, owner, workers, pay_rate_minor=3_335)
    assert job["total_cost_minor"] == 10_005
    platform_before = await account_balance(db, "platform:fees")

    response = await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)

    assert response.status_code == 200, response.text
    assert response.json()["escrow_status"] == "released" and response.json()["funded"] is False
    # share = 10005 // 3 = 3335; payout = floor(3335 * 9000 / 10000) = floor(3001.5) = 3001
    payments = await payments_of(db, job["id"])
    payouts = [p for p in payments if p["kind"] == "payout"]
    assert sorted(p["payee_id"] for p in payouts) == sorted(w.id for w in workers)
    assert all(p["amount_minor"] == 3_001 and p["status"] == "completed" for p in payouts)
    for worker in workers:
        assert await balance(client, worker) == 3_001
    # the platform keeps 10005 - 3 * 3001 = 1002
    fees = [p for p in payments if p["kind"] == "fee"]
    assert [p["amount_minor"] for p in fees] == [1_002]
    assert await account_balance(db, "platform:fees") - platform_before == 1_002
    escrow = next(p for p in payments if p["kind"] == "escrow")
    assert escrow["status"] == "released"
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


@pytest.fixture
async def client_fee_250(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    """Like conftest's `client`, with APP_PLATFORM_FEE_BPS = 250."""
    async with app_client(settings.model_copy(update={"platform_fee_bps": 250}), engine, sessionmaker) as http:
        yield http


async def test_completing_uses_the_configured_platform_fee(client_fee_250: AsyncClient, db: AsyncSession) -> None:
    client = client_fee_250
    owner = await register(client, "client")
    workers = [await register(client, "worker") for _ in range(3)]
    job = await hired_job(client, owner, workers, pay_rate_minor=3_335)
    platform_before = await account_balance(db, "platform:fees")

    assert (await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)).status_code == 200

    # payout = floor(3335 * 9750 / 10000) = floor(3251.625) = 3251; platform: 10005 - 3 * 3251 = 252
    payments = await payments_of(db, job["id"])
    assert sorted(p["amount_minor"] for p in payments if p["kind"] == "payout") == [3_251] * 3
    for worker in workers:
        assert await balance(client, worker) == 3_251
    assert await account_balance(db, "platform:fees") - platform_before == 252
    await assert_ledger_invariant(db)


async def test_cancelling_a_funded_job_refunds_the_client(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await hired_job(client, owner, [worker], pay_rate_minor=7_700)

    response = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)

    assert response.status_code == 200, response.text
    assert response.json()["escrow_status"] == "refunded" and response.json()["funded"] is False
    payments = {p["kind"]: p for p in await payments_of(db, job["id"])}
    assert set(payments) == {"escrow", "refund"}
    assert payments["escrow"]["status"] == "refunded"
    refund = payments["refund"]
    assert refund["payee_id"] == owner.id and refund["amount_minor"] == 7_700
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    assert await balance(client, worker) == 0
    await assert_ledger_invariant(db)


async def test_cancelling_an_unfunded_job_moves_no_money(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    response = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)
    assert response.status_code == 200 and response.json()["escrow_status"] == "none"
    assert await payments_of(db, job["id"]) == []


# Reading payments


async def test_a_payment_is_visible_to_its_payer_payee_and_admins_only(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    stranger_client, stranger_worker = await register(client, "client"), await register(client, "worker")
    admin = await make_admin(client, db, settings)
    job = await hired_job(client, owner, [worker])
    await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)
    payout = next(p for p in await payments_of(db, job["id"]) if p["kind"] == "payout")
    url = f"{API}/payments/{payout['id']}"

    for viewer in (owner, worker, admin):
        response = await client.get(url, headers=viewer.headers)
        assert response.status_code == 200, viewer.role
        assert response.json()["id"] == payout["id"] and response.json()["kind"] == "payout"
    for viewer in (stranger_client, stranger_worker):
        response = await client.get(url, headers=viewer.headers)
        assert response.status_code == 404 and response.json()["status"] == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{API}/payments/999999", headers=admin.headers)).status_code == 404


async def test_user_payments_list_payer_or_payee_newest_first(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker, other = await register(client, "client"), await register(client, "worker"), await register(client)
    admin = await make_admin(client, db, settings)
    completed = await hired_job(client, owner, [worker])
    await client.post(f"{API}/jobs/{completed['id']}/complete", headers=owner.headers)
    cancelled = await post_job(client, owner)
    await fund(client, owner, cancelled)
    await client.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)
    unrelated_owner = await register(client, "client")
    await fund(client, unrelated_owner, await post_job(client, unrelated_owner))
    # give every payment its own time, in an order unlike the ids
    ids = [p["id"] for job in (completed, cancelled) for p in await payments_of(db, job["id"])]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    times = {pid: base + timedelta(hours=(i * 7) % len(ids)) for i, pid in enumerate(ids)}
    for pid, at in times.items():
        await db.execute(update(Payment).where(Payment.id == pid).values(created_at=at))
    await db.commit()

    response = await client.get(f"{API}/users/{owner.id}/payments", headers=owner.headers)

    assert response.status_code == 200, response.text
    # the owner pays the escrows, payouts and fee, and is paid the refund: all of the two jobs' payments
    got = [p["id"] for p in response.json()["items"]]
    assert got == sorted(ids, key=lambda pid: times[pid], reverse=True)
    worker_page = (await client.get(f"{API}/users/{worker.id}/payments", headers=worker.headers)).json()
    assert [p["kind"] for p in worker_page["items"]] == ["payout"]
    admin_view = await client.get(f"{API}/users/{owner.id}/payments", headers=admin.headers)
    assert admin_view.status_code == 200 and [p["id"] for p in admin_view.json()["items"]] == got
    assert (await client.get(f"{API}/users/{owner.id}/payments", headers=other.headers)).status_code == 403
    assert (await client.get(f"{API}/users/{owner.id}/payments")).status_code == 401
    # pages follow the same order
    first = (await client.get(f"{API}/users/{owner.id}/payments?limit=2", headers=owner.headers)).json()
    assert [p["id"] for p in first["items"]] == got[:2] and first["next_cursor"]
    rest = await client.get(
        f"{API}/users/{owner.id}/payments", params={"limit": 100, "cursor": first["next_cursor"]}, headers=owner.headers
    )
    assert [p["id"] for p in rest.json()["items"]] == got[2:] and rest.json()["next_cursor"] is None


# The ledger


async def test_ledger_balances_after_a_mix_of_operations(client: AsyncClient, db: AsyncSession) -> None:
    owner = await register(client, "client")
    workers = [await register(client, "worker") for _ in range(3)]
    external_before = await account_balance(db, "external:funding")
    done = await hired_job(client, owner, workers[:2], pay_rate_minor=4_999)
    await client.post(f"{API}/jobs/{done['id']}/complete", headers=owner.headers)
    refunded = await hired_job(client, owner, workers[2:], pay_rate_minor=1_234)
    await client.post(f"{API}/jobs/{refunded['id']}/cancel", headers=owner.headers)
    held = await post_job(client, owner, pay_rate_minor=2_500)
    await fund(client, owner, held)

    await assert_ledger_invariant(db)
    # money that came in and has not gone back out: the released job (9998) and the held escrow (2500)
    assert await account_balance(db, "external:funding") - external_before == -(9_998 + 2_500)
    assert await account_balance(db, f"escrow:job:{held['id']}") == 2_500
    # 4999 per worker less 10%: floor(4499.1) = 4499
    assert [await balance(client, w) for w in workers] == [4_499, 4_499, 0]


@pytest.mark.committing
async def test_ledger_balances_after_concurrent_fundings_completes_and_cancels(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    client = committing_client
    owner = await register(client, "client")
    workers = [await register(client, "worker") for _ in range(6)]
    jobs = [await post_job(client, owner, pay_rate_minor=1_000 + 111 * i) for i in range(6)]
    for job, worker in zip(jobs, workers, strict=True):
        await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    # fund all six at once: each twice with one key (a retry) and once with another key (a duplicate)
    fundings = [(job, key) for job in jobs for key in ("a", "a", "b")]
    funded = await asyncio.gather(
        *(
            fund_request(client, owner, job["id"], job["total_cost_minor"], key=f"{job['id']}-{k}")
            for job, k in fundings
        )
    )
    assert all(r.status_code in (201, 409) for r in funded), [r.text for r in funded]
    for job in jobs:
        answers = [r for (j, _), r in zip(fundings, funded, strict=True) if j is job]
        assert len({r.json()["id"] for r in answers if r.status_code == 201}) == 1, job["id"]
    plans = [
        ["complete", "cancel"],
        ["complete", "complete"],
        ["cancel", "cancel"],
        ["complete", "cancel", "complete"],
        ["complete"],
        ["cancel", "complete", "cancel"],
    ]
    calls = [(job["id"], action) for job, actions in zip(jobs, plans, strict=True) for action in actions]

    responses = await asyncio.gather(
        *(client.post(f"{API}/jobs/{job_id}/{action}", headers=owner.headers) for job_id, action in calls)
    )

    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    async with engine.connect() as conn:
        await assert_ledger_invariant(conn)
        for job in jobs:
            answers = [r for (job_id, _), r in zip(calls, responses, strict=True) if job_id == job["id"]]
            assert [r.status_code for r in answers].count(200) == 1, job["id"]
            winner = next(r.json() for r in answers if r.status_code == 200)
            kinds = sorted(p["kind"] for p in await payments_of(conn, job["id"]))
            status = await scalar(conn, "SELECT status FROM jobs WHERE id = :j", j=job["id"])
            assert status == winner["status"]
            if status == "completed":
                assert kinds == ["escrow", "fee", "payout"]
            else:
                assert status == "cancelled" and kinds == ["escrow", "refund"]
            assert await account_balance(conn, f"escrow:job:{job['id']}") == 0
        # every escrow left the platform exactly once: as payouts and fees, or back out as a refund
        assert await account_balance(conn, "external:funding") == -await scalar(
            conn, "SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE kind IN ('payout', 'fee')"
        )


@pytest.mark.committing
async def test_concurrent_completions_sharing_workers_all_succeed(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    """Jobs hiring the same two workers in opposite orders release together without a deadlock (a 500)."""
    client = committing_client
    owner = await register(client, "client")
    first, second = await register(client, "worker"), await register(client, "worker")
    jobs = []
    for i in range(10):
        job = await post_job(client, owner, openings=2, pay_rate_minor=1_000)
        await fund(client, owner, job)
        applications = [await apply(client, w, job["id"]) for w in ((first, second) if i % 2 else (second, first))]
        for application in applications:
            await hire(client, owner, application["id"])
        jobs.append(job)

    responses = await asyncio.gather(
        *(client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers) for job in jobs)
    )

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses if r.status_code != 200]
    # each job: share 1000, payout floor(1000 * 0.9) = 900 to each worker
    assert await balance(client, first) == await balance(client, second) == 10 * 900
    async with engine.connect() as conn:
        await assert_ledger_invariant(conn)
