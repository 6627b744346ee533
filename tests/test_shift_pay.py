"""Money in shift work (issue #10): cancellations by both sides (late and early), pay by hours worked or by
shifts attended, disputes, refunds of unfilled openings, and the ledger after concurrent attendance."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.settings import Settings
from tests.factories import API, Actor, apply, assert_problem, fund, hire, make_admin, post_job, register
from tests.shiftwork import (
    act,
    check_in,
    check_out,
    no_show,
    place_shift,
    resolve,
    schedule,
    sheet,
    sheets,
    shift_job,
    submit,
    worked,
)
from tests.test_payments import account_balance, assert_ledger_invariant, balance, payments_of


async def complete(client: AsyncClient, owner: Actor, job_id: int) -> dict[str, Any]:
    response = await client.post(f"{API}/jobs/{job_id}/complete", headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def amounts(payments: list[dict[str, Any]], kind: str) -> dict[int | None, int]:
    """Payments of one kind by payee (fees and escrows have none)."""
    return {p["payee_id"]: p["amount_minor"] for p in payments if p["kind"] == kind}


async def cancel_application(client: AsyncClient, worker: Actor, application_id: int) -> dict[str, Any]:
    response = await client.post(f"{API}/applications/{application_id}/cancel", headers=worker.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def hired_application(client: AsyncClient, owner: Actor, job: dict[str, Any], worker: Actor) -> dict[str, Any]:
    application = await apply(client, worker, job["id"])
    return await hire(client, owner, application["id"])


# --- cancellations -----------------------------------------------------------------------------------------


async def test_a_worker_cancelling_early_frees_the_opening_without_a_mark(client: AsyncClient) -> None:
    owner, worker, stranger = await register(client, "client"), await register(client), await register(client)
    job = await post_job(client, owner, shifts=schedule(2, first_in=timedelta(hours=25)))
    await fund(client, owner, job)
    application = await hired_application(client, owner, job, worker)
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "in_progress"
    assert_problem(await client.post(f"{API}/applications/{application['id']}/cancel", headers=stranger.headers), 404)
    assert_problem(await client.post(f"{API}/applications/{application['id']}/cancel", headers=owner.headers), 403)

    cancelled = await cancel_application(client, worker, application["id"])

    assert cancelled["status"] == "cancelled"
    after = (await client.get(f"{API}/jobs/{job['id']}")).json()
    assert (after["status"], after["hired_count"]) == ("open", 0)  # the opening is free again
    assert await sheets(client, owner, job["id"]) == []  # their timesheets are dropped
    reliability = (await client.get(f"{API}/users/{worker.id}")).json()["reliability"]
    assert reliability["late_cancellations"] == 0 and reliability["score"] == 1.0
    assert_problem(await client.post(f"{API}/applications/{application['id']}/cancel", headers=worker.headers), 409)
    other = await register(client)
    await hired_application(client, owner, job, other)  # someone else takes the opening
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "in_progress"


async def test_a_worker_cancelling_late_counts_a_late_cancellation(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, shifts=schedule(1, first_in=timedelta(hours=23)))  # late: under 24 hours
    application = await hired_application(client, owner, job, worker)
    await cancel_application(client, worker, application["id"])
    reliability = (await client.get(f"{API}/users/{worker.id}")).json()["reliability"]
    # (0 + 4) / (0 + 0 + 1 + 4)
    assert reliability == {"attended": 0, "no_shows": 0, "late_cancellations": 1, "score": 0.8}


async def test_a_pending_application_is_withdrawn_not_cancelled(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    application = await apply(client, worker, (await post_job(client, owner))["id"])
    assert_problem(await client.post(f"{API}/applications/{application['id']}/cancel", headers=worker.headers), 409)


async def test_a_worker_who_checked_in_cannot_cancel(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, shifts=schedule(2))
    application = await hired_application(client, owner, job, worker)
    await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=5)
    assert (await check_in(client, worker, job["shifts"][0]["id"], {"lat": 0, "lng": 0})).status_code == 200
    assert_problem(await client.post(f"{API}/applications/{application['id']}/cancel", headers=worker.headers), 409)


async def test_a_client_cancelling_early_gets_everything_back(client: AsyncClient, db: AsyncSession) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await shift_job(
        client, owner, [first, second], pay_rate_minor=10_000, shifts=schedule(1, first_in=timedelta(hours=25))
    )
    response = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)
    assert response.status_code == 200, response.text
    payments = await payments_of(db, job["id"])
    assert sorted(p["kind"] for p in payments) == ["escrow", "refund"]
    assert amounts(payments, "refund") == {owner.id: 20_000}
    assert response.json()["escrow_status"] == "refunded"
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


async def test_a_client_cancelling_late_pays_each_hired_worker_the_late_fee(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await shift_job(
        client,
        owner,
        [first, second],
        pay_rate_minor=10_000,
        openings=3,
        shifts=schedule(1, first_in=timedelta(hours=2)),
    )
    platform_before = await account_balance(db, "platform:fees")

    response = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)

    assert response.status_code == 200, response.text
    # total 30000, share 10000; late fee 2500 bps of the share = 2500 each, paid less 10%: 2250, the fee 250 each
    payments = await payments_of(db, job["id"])
    assert amounts(payments, "payout") == {first.id: 2_250, second.id: 2_250}
    assert [p["amount_minor"] for p in payments if p["kind"] == "fee"] == [500]
    assert amounts(payments, "refund") == {owner.id: 30_000 - 2 * 2_500}
    assert await balance(client, first) == await balance(client, second) == 2_250
    assert await account_balance(db, "platform:fees") - platform_before == 500
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


async def test_late_cancellation_amounts_follow_the_settings(
    settings: Settings, engine: AsyncEngine, sessionmaker: Any, db: AsyncSession
) -> None:
    from tests.conftest import app_client

    custom = settings.model_copy(update={"late_cancel_hours": 48, "late_cancel_fee_bps": 5000})
    async with app_client(custom, engine, sessionmaker) as client:
        owner, worker = await register(client, "client"), await register(client)
        job = await shift_job(
            client, owner, [worker], pay_rate_minor=8_000, shifts=schedule(1, first_in=timedelta(hours=30))
        )
        assert (await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)).status_code == 200
        # 30 hours ahead is late under 48: half the 8000 share = 4000, paid less 10% = 3600; refund 4000
        payments = await payments_of(db, job["id"])
        assert amounts(payments, "payout") == {worker.id: 3_600}
        assert amounts(payments, "refund") == {owner.id: 4_000}


async def test_a_job_whose_work_started_cannot_be_cancelled(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=5)
    assert (await check_in(client, worker, job["shifts"][0]["id"])).status_code == 200
    assert_problem(await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers), 409)


# --- pay -------------------------------------------------------------------------------------------------------


async def test_an_hourly_job_pays_approved_minutes_with_a_no_show_and_a_resolved_dispute(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, ana, ben = await register(client, "client"), await register(client), await register(client)
    admin = await make_admin(client, db, settings)
    # two shifts of two hours at 1200 an hour, two openings: total 1200 x 4 x 2 = 9600, share 4800
    job = await shift_job(client, owner, [ana, ben], pay_type="hourly", pay_rate_minor=1_200)
    assert (job["hours"], job["total_cost_minor"]) == (4, 9_600)
    first, second = job["shifts"]
    ana1 = await worked(client, db, owner, job, first, ana, 110)
    ana2 = await worked(client, db, owner, job, second, ana, 120)
    await no_show(client, db, owner, job, first, ben)
    ben2 = await worked(client, db, owner, job, second, ben, 120)
    assert (await act(client, owner, ana1["id"], "approve")).status_code == 200
    assert (await act(client, owner, ben2["id"], "approve")).status_code == 200
    dispute = (await act(client, owner, ana2["id"], "dispute", proposed_minutes=90, reason="Left at 4")).json()
    blocked = assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers), 409)
    assert f"Dispute {dispute['id']}" in blocked["detail"]
    assert_problem(await client.post(f"{API}/disputes/{dispute['id']}/resolve", json={"minutes": 121},
                                     headers=admin.headers), 422)  # fmt: skip
    assert_problem(await client.post(f"{API}/disputes/{dispute['id']}/resolve", json={"worker_amount_minor": 5},
                                     headers=admin.headers), 422)  # fmt: skip
    assert_problem(await client.post(f"{API}/disputes/{dispute['id']}/resolve", json={"minutes": 100},
                                     headers=owner.headers), 403)  # fmt: skip
    resolved = await resolve(client, admin, dispute["id"], minutes=100)
    assert (resolved["status"], resolved["resolved_minutes"]) == ("resolved", 100)
    assert (await sheet(client, owner, job["id"], second["id"], ana))["status"] == "resolved"

    done = await complete(client, owner, job["id"])

    # ana: 110 + 100 = 210 minutes -> floor(210 x 1200 / 60) = 4200, less 10%: 3780
    # ben: a no-show and 120 minutes -> 2400, less 10%: 2160; fees 420 + 240; refund 9600 - 4200 - 2400 = 3000
    assert (done["status"], done["escrow_status"]) == ("completed", "released")
    payments = await payments_of(db, job["id"])
    assert amounts(payments, "payout") == {ana.id: 3_780, ben.id: 2_160}
    assert [p["amount_minor"] for p in payments if p["kind"] == "fee"] == [660]
    assert amounts(payments, "refund") == {owner.id: 3_000}
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


async def test_a_fixed_job_pays_the_share_of_shifts_attended(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, ana, ben = await register(client, "client"), await register(client), await register(client)
    admin = await make_admin(client, db, settings)
    # three shifts, 9000 per worker, two openings: total 18000, share 9000
    job = await shift_job(client, owner, [ana, ben], pay_rate_minor=9_000, shifts=schedule(3))
    for shift in job["shifts"]:
        submitted = await worked(client, db, owner, job, shift, ana, 60)
        if shift is job["shifts"][0]:
            dispute = (await act(client, owner, submitted["id"], "dispute", proposed_minutes=0, reason="?")).json()
            await resolve(client, admin, dispute["id"], minutes=0)  # resolved, even at 0: the shift was attended
        else:
            assert (await act(client, owner, submitted["id"], "approve")).status_code == 200
    await no_show(client, db, owner, job, job["shifts"][0], ben)
    for shift in job["shifts"][1:]:
        submitted = await worked(client, db, owner, job, shift, ben, 120)
        assert (await act(client, owner, submitted["id"], "approve")).status_code == 200

    await complete(client, owner, job["id"])

    # ana: 9000 x 3/3 less 10% = 8100; ben: 9000 x 2/3 = 6000 less 10% = 5400; refund 18000 - 15000 = 3000
    payments = await payments_of(db, job["id"])
    assert amounts(payments, "payout") == {ana.id: 8_100, ben.id: 5_400}
    assert [p["amount_minor"] for p in payments if p["kind"] == "fee"] == [1_500]
    assert amounts(payments, "refund") == {owner.id: 3_000}
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


async def test_a_job_with_shifts_completes_only_when_every_timesheet_is_settled(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    submitted = await worked(client, db, owner, job, job["shifts"][0], worker, 60)
    blocked = assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers), 409)
    assert (
        f"{submitted['id']} (shift {job['shifts'][0]['id']}" in blocked["detail"] and "submitted" in blocked["detail"]
    )
    assert "scheduled" in blocked["detail"]  # the second shift, not worked yet
    assert await payments_of(db, job["id"]) != [] and len(await payments_of(db, job["id"])) == 1  # the escrow only


async def test_completing_refunds_the_shares_of_openings_never_filled(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker, late_applicant = await register(client, "client"), await register(client), await register(client)
    job = await post_job(client, owner, pay_rate_minor=10_000, openings=3)  # no shifts: as today, but a share each
    await fund(client, owner, job)
    await hired_application(client, owner, job, worker)
    pending = await apply(client, late_applicant, job["id"])
    assert (await client.get(f"{API}/jobs/{job['id']}")).json()["status"] == "open"

    done = await complete(client, owner, job["id"])

    # share 30000 // 3 = 10000, less 10% = 9000; the two unfilled shares (20000) go back to the client
    payments = await payments_of(db, job["id"])
    assert amounts(payments, "payout") == {worker.id: 9_000}
    assert [p["amount_minor"] for p in payments if p["kind"] == "fee"] == [1_000]
    assert amounts(payments, "refund") == {owner.id: 20_000}
    assert done["status"] == "completed"
    rejected = await client.get(f"{API}/applications/{pending['id']}", headers=late_applicant.headers)
    assert rejected.json()["status"] == "rejected"  # completing closes the job to applications
    assert_problem(
        await client.post(f"{API}/jobs/{job['id']}/applications", json={}, headers=late_applicant.headers), 409
    )
    await assert_ledger_invariant(db)


async def test_a_work_dispute_blocks_completion_and_its_award_is_paid(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker, stranger = await register(client, "client"), await register(client), await register(client)
    admin = await make_admin(client, db, settings)
    job = await post_job(client, owner, pay_rate_minor=10_000)
    await fund(client, owner, job)
    await hired_application(client, owner, job, worker)
    url = f"{API}/jobs/{job['id']}/disputes"
    assert_problem(await client.post(url, json={"worker_id": stranger.id, "reason": "?"}, headers=owner.headers), 422)
    assert_problem(await client.post(url, json={"worker_id": worker.id, "reason": "?"}, headers=worker.headers), 403)
    response = await client.post(url, json={"worker_id": worker.id, "reason": "Half done"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    dispute = response.json()
    assert (dispute["kind"], dispute["status"], dispute["timesheet_id"]) == ("work", "open", None)
    assert_problem(await client.post(url, json={"worker_id": worker.id, "reason": "again"}, headers=owner.headers), 409)
    blocked = assert_problem(await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers), 409)
    assert f"Dispute {dispute['id']}" in blocked["detail"]
    assert_problem(await client.post(f"{API}/disputes/{dispute['id']}/resolve", json={"worker_amount_minor": 10_001},
                                     headers=admin.headers), 422)  # fmt: skip
    await resolve(client, admin, dispute["id"], worker_amount_minor=4_000)
    assert_problem(await client.post(f"{API}/disputes/{dispute['id']}/resolve", json={"worker_amount_minor": 1},
                                     headers=admin.headers), 409)  # fmt: skip

    await complete(client, owner, job["id"])

    # 4000 to the worker less 10% = 3600, the fee 400, the rest of the share (6000) back to the client
    payments = await payments_of(db, job["id"])
    assert amounts(payments, "payout") == {worker.id: 3_600}
    assert amounts(payments, "refund") == {owner.id: 6_000}
    assert await account_balance(db, f"escrow:job:{job['id']}") == 0
    await assert_ledger_invariant(db)


async def test_disputes_are_visible_to_the_owner_the_worker_and_admins(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker, stranger = await register(client, "client"), await register(client), await register(client)
    admin = await make_admin(client, db, settings)
    job = await post_job(client, owner)
    await hired_application(client, owner, job, worker)
    dispute = (
        await client.post(
            f"{API}/jobs/{job['id']}/disputes", json={"worker_id": worker.id, "reason": "Late"}, headers=owner.headers
        )
    ).json()
    for viewer in (owner, worker, admin):
        response = await client.get(f"{API}/disputes/{dispute['id']}", headers=viewer.headers)
        assert response.status_code == 200 and response.json()["id"] == dispute["id"]
    assert_problem(await client.get(f"{API}/disputes/{dispute['id']}", headers=stranger.headers), 404)
    listed = await client.get(f"{API}/disputes?status=open", headers=admin.headers)
    assert listed.status_code == 200 and dispute["id"] in {d["id"] for d in listed.json()["items"]}
    resolved = await client.get(f"{API}/disputes?status=resolved", headers=admin.headers)
    assert dispute["id"] not in {d["id"] for d in resolved.json()["items"]}
    assert_problem(await client.get(f"{API}/disputes?status=open", headers=owner.headers), 403)
    assert_problem(await client.get(f"{API}/disputes?status=open"), 401)


# --- the ledger under concurrency ----------------------------------------------------------------------------


@pytest.mark.committing
async def test_the_ledger_holds_after_concurrent_check_outs_approvals_and_completion(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    client = committing_client
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(5)]
    # one two-hour shift at 1500 an hour, five openings: total 15000, share 3000
    job = await shift_job(client, owner, workers, pay_type="hourly", pay_rate_minor=1_500, shifts=schedule(1))
    shift_id = job["shifts"][0]["id"]
    async with engine.connect() as conn:
        await place_shift(conn, shift_id, started_minutes_ago=10)
    for worker in workers:
        assert (await check_in(client, worker, shift_id)).status_code == 200

    outs = await asyncio.gather(
        *(check_out(client, w, shift_id) for w in workers), *(check_out(client, w, shift_id) for w in workers)
    )
    assert sorted(r.status_code for r in outs) == [200] * 5 + [409] * 5, [r.text for r in outs]
    ids = {w.id: (await sheet(client, owner, job["id"], shift_id, w))["id"] for w in workers}
    claims = {w.id: 60 + 10 * i for i, w in enumerate(workers)}  # 60..100 minutes
    for worker in workers:
        assert (await submit(client, worker, ids[worker.id], claims[worker.id])).status_code == 200
    # every approval (twice each) and two completions at once: completion waits for the job row and either
    # finds a timesheet still submitted (409) or all approved (200, once)
    calls = [act(client, owner, ids[w.id], "approve") for w in workers for _ in range(2)]
    calls += [client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers) for _ in range(2)]
    answers = await asyncio.gather(*calls)
    assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]
    assert [r.status_code for r in answers[:10]].count(200) == 5
    if not any(r.status_code == 200 for r in answers[10:]):
        await complete(client, owner, job["id"])
    else:
        assert [r.status_code for r in answers[10:]].count(200) == 1

    async with engine.connect() as conn:
        await assert_ledger_invariant(conn)
        payments = await payments_of(conn, job["id"])
        # floor(minutes x 1500 / 60) = 25 per minute, less 10%
        assert amounts(payments, "payout") == {w: claims[w] * 25 * 9 // 10 for w in claims}
        assert amounts(payments, "refund") == {owner.id: 15_000 - sum(claims.values()) * 25}
        assert await account_balance(conn, f"escrow:job:{job['id']}") == 0
