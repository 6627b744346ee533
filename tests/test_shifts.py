"""Shift work (issue #10): schedules on jobs, geofenced check-in and check-out, timesheets, no-shows, the
scheduler's sweeps, and who may see and do what."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import create_sessionmaker
from app.services.timesheets import TimesheetService
from app.settings import Settings
from tests.factories import API, apply, assert_problem, fund, hire, make_admin, post_job, register
from tests.shiftwork import (
    AT_BERLIN,
    act,
    check_in,
    check_out,
    no_show,
    place_shift,
    schedule,
    sheet,
    sheets,
    shift_job,
    submit,
    worked,
)

# --- schedules -------------------------------------------------------------------------------------------


def _period(shift: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(shift["starts_at"]), datetime.fromisoformat(shift["ends_at"])


async def test_an_hourly_job_with_shifts_takes_its_hours_and_period_from_them(client: AsyncClient) -> None:
    owner = await register(client, "client")
    shifts = schedule(3, hours=4)
    job = await post_job(client, owner, pay_type="hourly", pay_rate_minor=1_500, openings=2, shifts=shifts)
    assert job["hours"] == 12 and job["total_cost_minor"] == 1_500 * 12 * 2
    assert [_period(s) for s in job["shifts"]] == [_period(s) for s in shifts]
    assert datetime.fromisoformat(job["starts_at"]) == datetime.fromisoformat(shifts[0]["starts_at"])
    assert datetime.fromisoformat(job["ends_at"]) == datetime.fromisoformat(shifts[-1]["ends_at"])
    assert all(isinstance(s["id"], int) for s in job["shifts"])


async def test_every_view_of_a_job_lists_its_shifts(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, shifts=schedule(2))
    listed = [s["id"] for s in job["shifts"]]
    assert len(listed) == 2
    detail = (await client.get(f"{API}/jobs/{job['id']}")).json()
    card = next(j for j in (await client.get(f"{API}/jobs?limit=100")).json()["items"] if j["id"] == job["id"])
    mine = next(j for j in (await client.get(f"{API}/users/{owner.id}/jobs")).json()["items"] if j["id"] == job["id"])
    for view in (detail, card, mine):
        assert [s["id"] for s in view["shifts"]] == listed
        assert all(s["starts_at"].endswith("Z") for s in view["shifts"])  # UTC, like every timestamp
    plain = await post_job(client, owner)
    assert plain["shifts"] == [] and (await client.get(f"{API}/jobs/{plain['id']}")).json()["shifts"] == []


async def test_a_fixed_job_with_shifts_costs_as_today(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_rate_minor=9_000, openings=3, shifts=schedule(5, hours=1.5))
    assert job["total_cost_minor"] == 27_000 and job["hours"] is None


def _shift(start_in: timedelta, length: timedelta) -> dict[str, str]:
    start = datetime.now(UTC) + start_in
    return {"starts_at": start.isoformat(), "ends_at": (start + length).isoformat()}


DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"shifts": [_shift(DAY, 29 * MINUTE)]}, "shorter than 30 minutes"),
        ({"shifts": [_shift(DAY, 16 * HOUR + MINUTE)]}, "longer than 16 hours"),
        ({"shifts": [_shift(-HOUR, 2 * HOUR)]}, "in the past"),
        ({"shifts": [_shift(2 * DAY, HOUR), _shift(DAY, HOUR)]}, "out of order"),
        ({"shifts": [_shift(DAY, 2 * HOUR), _shift(DAY + HOUR, HOUR)]}, "overlapping"),
        ({"shifts": []}, "no shift"),
        ({"shifts": [_shift(DAY * (i + 1), HOUR) for i in range(61)]}, "more than 60"),
        ({"pay_type": "hourly", "hours": 3, "shifts": [_shift(DAY, 2 * HOUR)]}, "hours disagree with the shifts"),
        ({"pay_type": "hourly", "shifts": [_shift(DAY, 90 * MINUTE)]}, "not whole hours (hourly)"),
    ],
)
async def test_invalid_schedules_are_422(client: AsyncClient, fields: dict[str, Any], why: str) -> None:
    owner = await register(client, "client")
    payload = {"title": "Shift work", "category": "handyman", "pay_type": "fixed", "pay_rate_minor": 1_000, **fields}
    assert_problem(await client.post(f"{API}/jobs", json=payload, headers=owner.headers), 422)


async def test_the_schedule_can_change_while_nobody_is_hired(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, pay_type="hourly", pay_rate_minor=1_000, shifts=schedule(1, hours=2))
    response = await client.patch(
        f"{API}/jobs/{job['id']}", json={"shifts": schedule(2, hours=3)}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert len(changed["shifts"]) == 2 and changed["hours"] == 6 and changed["total_cost_minor"] == 6_000
    assert_problem(await client.patch(f"{API}/jobs/{job['id']}", json={"hours": 5}, headers=owner.headers), 422)
    removed = await client.patch(f"{API}/jobs/{job['id']}", json={"shifts": None}, headers=owner.headers)
    assert removed.status_code == 200 and removed.json()["shifts"] == [] and removed.json()["hours"] == 6
    await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    assert_problem(
        await client.patch(f"{API}/jobs/{job['id']}", json={"shifts": schedule(1)}, headers=owner.headers), 409
    )


async def test_a_funded_hourly_job_cannot_be_rescheduled(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, pay_type="hourly", pay_rate_minor=1_000, shifts=schedule(1, hours=2))
    await fund(client, owner, job)
    assert_problem(
        await client.patch(f"{API}/jobs/{job['id']}", json={"shifts": schedule(1)}, headers=owner.headers), 409
    )


async def test_accepting_a_worker_creates_one_scheduled_timesheet_per_shift(client: AsyncClient) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await shift_job(client, owner, [first, second], shifts=schedule(3, hours=1.5))
    items = await sheets(client, owner, job["id"])
    assert sorted((s["shift_id"], s["worker"]["id"]) for s in items) == sorted(
        (shift["id"], w.id) for shift in job["shifts"] for w in (first, second)
    )
    assert {s["status"] for s in items} == {"scheduled"} and {s["scheduled_minutes"] for s in items} == {90}
    assert all(s["dispute_id"] is None and s["checked_in_at"] is None for s in items)


# --- check-in and check-out ---------------------------------------------------------------------------------


async def test_check_in_opens_30_minutes_before_the_start_and_closes_at_the_end(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    shift = job["shifts"][0]
    await place_shift(db, shift["id"], started_minutes_ago=-31)  # starts in 31 minutes
    early = assert_problem(await check_in(client, worker, shift["id"]), 409)
    assert "30 minutes before" in early["detail"]
    await place_shift(db, shift["id"], started_minutes_ago=121, minutes=120)  # ended a minute ago
    assert_problem(await check_in(client, worker, shift["id"]), 409)
    await place_shift(db, shift["id"], started_minutes_ago=-29)  # starts in 29 minutes
    response = await check_in(client, worker, shift["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_in" and response.json()["checked_in_at"]
    again = assert_problem(await check_in(client, worker, shift["id"]), 409)  # once
    assert "once" in again["detail"]


async def test_check_in_outside_the_radius_is_422_with_the_distance(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    shift = job["shifts"][0]
    await place_shift(db, shift["id"], started_minutes_ago=5)
    # 0.0036 degrees of latitude is about 400 m north
    far = assert_problem(await check_in(client, worker, shift["id"], {"lat": 52.5236, "lng": 13.405}), 422)
    assert "400 m" in far["detail"] and "300 m" in far["detail"]
    assert (await sheet(client, owner, job["id"], shift["id"], worker))["status"] == "scheduled"
    near = await check_in(client, worker, shift["id"], {"lat": 52.5218, "lng": 13.405})  # about 200 m
    assert near.status_code == 200, near.text


async def test_the_radius_comes_from_the_setting(
    settings: Settings, engine: AsyncEngine, sessionmaker: Any, db: AsyncSession
) -> None:
    from tests.conftest import app_client

    async with app_client(settings.model_copy(update={"checkin_radius_m": 500}), engine, sessionmaker) as client:
        owner, worker = await register(client, "client"), await register(client)
        job = await shift_job(client, owner, [worker])
        await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=5)
        response = await check_in(client, worker, job["shifts"][0]["id"], {"lat": 52.5236, "lng": 13.405})
        assert response.status_code == 200, response.text


async def test_a_job_without_a_location_takes_a_check_in_anywhere(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker], location=None)
    await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=0)
    response = await check_in(client, worker, job["shifts"][0]["id"], {"lat": -33.86, "lng": 151.2})
    assert response.status_code == 200, response.text


async def test_only_a_hired_worker_checks_in(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker, stranger = await register(client, "client"), await register(client), await register(client)
    job = await shift_job(client, owner, [worker])
    shift_id = job["shifts"][0]["id"]
    await place_shift(db, shift_id, started_minutes_ago=0)
    assert_problem(await check_in(client, stranger, shift_id), 403)  # shifts are public: 403, not 404
    assert_problem(await check_in(client, owner, shift_id), 403)  # a client is never a worker
    assert_problem(await client.post(f"{API}/shifts/{shift_id}/check-in", json=AT_BERLIN), 401)
    assert_problem(await check_in(client, worker, 999_999_999), 404)
    assert_problem(await check_out(client, stranger, shift_id), 403)


async def test_check_out_records_the_whole_minutes_worked(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    shift_id = job["shifts"][0]["id"]
    await place_shift(db, shift_id, started_minutes_ago=100)
    assert_problem(await check_out(client, worker, shift_id), 409)  # before check-in
    assert (await check_in(client, worker, shift_id)).status_code == 200
    await db.execute(
        # clock_timestamp, not now(): the test's transaction began seconds ago; 30 s of slack for a loaded machine
        text(
            "UPDATE timesheets SET checked_in_at = clock_timestamp() - interval '95 minutes 30 seconds'"
            " WHERE shift_id = :s"
        ),
        {"s": shift_id},
    )
    await db.commit()
    response = await check_out(client, worker, shift_id)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_out" and response.json()["recorded_minutes"] == 95
    assert_problem(await check_out(client, worker, shift_id), 409)


# --- timesheets ----------------------------------------------------------------------------------------------


async def test_a_claim_above_the_scheduled_minutes_is_422(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])  # two-hour shifts
    shift = job["shifts"][0]
    timesheet = await sheet(client, owner, job["id"], shift["id"], worker)
    assert_problem(await submit(client, worker, timesheet["id"], 60), 409)  # not checked out yet
    await place_shift(db, shift["id"], started_minutes_ago=10)
    await check_in(client, worker, shift["id"])
    await check_out(client, worker, shift["id"])
    assert_problem(await submit(client, worker, timesheet["id"], 121), 422)
    assert_problem(await submit(client, worker, timesheet["id"], -1), 422)
    response = await client.post(
        f"{API}/timesheets/{timesheet['id']}/submit",
        json={"minutes": 120, "note": "full shift"},
        headers=worker.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["claimed_minutes"], body["note"]) == ("submitted", 120, "full shift")
    assert_problem(await submit(client, worker, timesheet["id"], 100), 409)  # once


async def test_the_owner_approves_a_submitted_timesheet(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    other_client, other_worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    submitted = await worked(client, db, owner, job, job["shifts"][0], worker, 100)
    assert_problem(await act(client, worker, submitted["id"], "approve"), 403)  # role first
    assert_problem(await act(client, other_client, submitted["id"], "approve"), 403)  # the job is public: 403
    assert_problem(await act(client, other_worker, submitted["id"], "approve"), 403)
    assert_problem(await submit(client, other_worker, submitted["id"], 10), 403)
    assert_problem(await act(client, owner, 999_999_999, "approve"), 404)
    response = await act(client, owner, submitted["id"], "approve")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["approved_minutes"]) == ("approved", 100)
    assert_problem(await act(client, owner, submitted["id"], "approve"), 409)
    scheduled = await sheet(client, owner, job["id"], job["shifts"][1]["id"], worker)
    assert_problem(await act(client, owner, scheduled["id"], "approve"), 409)


async def test_job_timesheets_are_for_the_owner_hired_workers_and_admins(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    stranger, admin = await register(client), await make_admin(client, db, settings)
    job = await shift_job(client, owner, [first, second])
    assert len(await sheets(client, owner, job["id"])) == 4
    assert len(await sheets(client, admin, job["id"])) == 4
    own = await sheets(client, first, job["id"])
    assert len(own) == 2 and {s["worker"]["id"] for s in own} == {first.id}
    assert own[0]["worker"]["full_name"]
    assert_problem(await client.get(f"{API}/jobs/{job['id']}/timesheets", headers=stranger.headers), 403)
    assert_problem(await client.get(f"{API}/jobs/{job['id']}/timesheets"), 401)
    assert_problem(await client.get(f"{API}/jobs/999999999/timesheets", headers=owner.headers), 404)


async def test_a_dispute_within_the_review_window_opens_and_after_it_is_409(
    client: AsyncClient, db: AsyncSession
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    late = await worked(client, db, owner, job, job["shifts"][0], worker, 110)
    on_time = await worked(client, db, owner, job, job["shifts"][1], worker, 120)
    # the review window is 4320 minutes (three days) by default
    await db.execute(
        text("UPDATE timesheets SET submitted_at = now() - interval '4321 minutes' WHERE id = :t"), {"t": late["id"]}
    )
    await db.commit()
    body = {"proposed_minutes": 90, "reason": "Left early"}
    too_late = assert_problem(await act(client, owner, late["id"], "dispute", **body), 409)
    assert "review window" in too_late["detail"]
    assert_problem(await act(client, owner, on_time["id"], "dispute", proposed_minutes=121, reason="x"), 422)
    response = await act(client, owner, on_time["id"], "dispute", **body)
    assert response.status_code == 201, response.text
    dispute = response.json()
    assert (dispute["kind"], dispute["status"], dispute["timesheet_id"]) == ("timesheet", "open", on_time["id"])
    assert (dispute["proposed_minutes"], dispute["worker"]["id"], dispute["job_id"]) == (90, worker.id, job["id"])
    listed = await sheet(client, owner, job["id"], job["shifts"][1]["id"], worker)
    assert (listed["status"], listed["dispute_id"]) == ("disputed", dispute["id"])
    assert_problem(await act(client, owner, on_time["id"], "approve"), 409)
    assert_problem(await act(client, owner, on_time["id"], "dispute", **body), 409)


async def test_a_no_show_needs_the_grace_period_to_have_passed(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    shift = job["shifts"][0]
    timesheet = await sheet(client, owner, job["id"], shift["id"], worker)
    await place_shift(db, shift["id"], started_minutes_ago=29)  # the grace is 30 minutes
    assert_problem(await act(client, owner, timesheet["id"], "no-show"), 409)
    assert_problem(await act(client, worker, timesheet["id"], "no-show"), 403)
    await place_shift(db, shift["id"], started_minutes_ago=31)
    response = await act(client, owner, timesheet["id"], "no-show")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "no_show"
    assert_problem(await act(client, owner, timesheet["id"], "no-show"), 409)
    assert_problem(await check_in(client, worker, shift["id"]), 409)
    profile = (await client.get(f"{API}/users/{worker.id}")).json()
    assert profile["reliability"] == {"attended": 0, "no_shows": 1, "late_cancellations": 0, "score": 0.8}


async def test_checked_in_shifts_count_as_attended_in_the_profile(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client)
    fresh = (await client.get(f"{API}/users/{worker.id}")).json()
    assert fresh["reliability"] == {"attended": 0, "no_shows": 0, "late_cancellations": 0, "score": 1.0}
    assert (await client.get(f"{API}/users/{owner.id}")).json()["reliability"] is None  # workers only
    job = await shift_job(client, owner, [worker], shifts=schedule(3))
    await worked(client, db, owner, job, job["shifts"][0], worker, 60)
    await worked(client, db, owner, job, job["shifts"][1], worker, 60)
    await no_show(client, db, owner, job, job["shifts"][2], worker)
    profile = (await client.get(f"{API}/users/{worker.id}")).json()
    # (2 + 4) / (2 + 1 + 0 + 4) = 6/7
    assert profile["reliability"] == {"attended": 2, "no_shows": 1, "late_cancellations": 0, "score": 0.8571}


# --- the scheduler ---------------------------------------------------------------------------------------------


async def _counts(db: AsyncSession, job_id: int) -> dict[str, int]:
    rows = await db.execute(
        text("SELECT status, count(*) FROM timesheets WHERE job_id = :j GROUP BY status"), {"j": job_id}
    )
    return {status: n for status, n in rows}


async def test_the_scheduler_marks_no_shows_after_the_grace_once(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await shift_job(client, owner, [first, second])
    started, upcoming = job["shifts"]
    await place_shift(db, started["id"], started_minutes_ago=20)
    assert (await check_in(client, first, started["id"])).status_code == 200
    service = TimesheetService(db, settings.model_copy(update={"no_show_grace_minutes": 15}))  # type: ignore[arg-type]

    now = datetime.now(UTC)
    assert await service.mark_overdue_no_shows(now - timedelta(minutes=10)) == 0  # the grace had not passed then
    assert await service.mark_overdue_no_shows(now) == 1  # second: first checked in
    assert await service.mark_overdue_no_shows(now) == 0  # twice is once
    await db.commit()
    assert await _counts(db, job["id"]) == {"checked_in": 1, "no_show": 1, "scheduled": 2}
    assert (await sheet(client, owner, job["id"], started["id"], second))["status"] == "no_show"
    assert (await sheet(client, owner, job["id"], upcoming["id"], second))["status"] == "scheduled"
    reliability = (await client.get(f"{API}/users/{second.id}")).json()["reliability"]
    assert (reliability["no_shows"], reliability["attended"]) == (1, 0)


async def test_a_cancelled_job_drops_its_timesheets_and_the_scheduler_finds_nothing(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker], shifts=schedule(1))
    await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=-60 * 30)  # in 30 hours: no late fee
    assert (await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)).status_code == 200
    assert await sheets(client, owner, job["id"]) == []
    await place_shift(db, job["shifts"][0]["id"], started_minutes_ago=120)
    service = TimesheetService(db, settings)  # type: ignore[arg-type]
    assert await service.mark_overdue_no_shows(datetime.now(UTC)) == 0


async def test_the_scheduler_approves_timesheets_whose_review_window_ran_out_once(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker = await register(client, "client"), await register(client)
    job = await shift_job(client, owner, [worker])
    overdue = await worked(client, db, owner, job, job["shifts"][0], worker, 111)
    recent = await worked(client, db, owner, job, job["shifts"][1], worker, 99)
    await db.execute(
        text("UPDATE timesheets SET submitted_at = now() - interval '6 minutes' WHERE id = :t"), {"t": overdue["id"]}
    )
    await db.commit()
    service = TimesheetService(db, settings.model_copy(update={"timesheet_review_minutes": 5}))  # type: ignore[arg-type]

    now = datetime.now(UTC)
    assert await service.approve_unreviewed(now) == 1
    assert await service.approve_unreviewed(now) == 0
    await db.commit()
    first = await sheet(client, owner, job["id"], job["shifts"][0]["id"], worker)
    second = await sheet(client, owner, job["id"], job["shifts"][1]["id"], worker)
    assert (first["status"], first["approved_minutes"]) == ("approved", 111)
    assert (second["status"], second["approved_minutes"]) == ("submitted", None)
    assert recent["id"] == second["id"]


@pytest.mark.committing
async def test_two_schedulers_at_once_never_double_act(
    committing_client: AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    client = committing_client
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(4)]
    job = await shift_job(client, owner, workers, shifts=schedule(3))
    async with engine.connect() as conn:
        for shift in job["shifts"]:
            await place_shift(conn, shift["id"], started_minutes_ago=60)
    maker = create_sessionmaker(engine)

    async def sweep() -> int:
        async with maker() as session, session.begin():
            return await TimesheetService(session, settings).mark_overdue_no_shows(datetime.now(UTC))

    import asyncio

    marked = await asyncio.gather(*(sweep() for _ in range(4)))
    assert sum(marked) == 12  # each of the 3 x 4 timesheets once, whichever sweep took it
    async with engine.connect() as conn:
        counted = await conn.execute(text("SELECT no_shows FROM users WHERE role = 'worker' ORDER BY id"))
        assert [n for (n,) in counted] == [3, 3, 3, 3]
