"""Demo shift work for the demo accounts: jobs with shifts in every timesheet state, so the web app has something
to show (a worker checking in and out and submitting hours, a client approving, disputing, marking a no-show).

The jobs are posted, funded, hired and completed through the services, as requests would; only what time
decides cannot be a request: the shifts are then moved into the past and the timesheets given the states
the attendance calls would have left, with the counters they move (reliability, open disputes).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from app.db import UnitOfWork
from app.models import Job, User
from app.models.enums import PayType, Role
from app.repositories.jobs import JobRepository
from app.schemas.applications import ApplicationCreate
from app.schemas.common import Location
from app.schemas.jobs import JobCreate, ShiftCreate
from app.schemas.payments import PaymentCreate
from app.security import Principal
from app.seed.data import DEMO_CITY, DEMO_CLIENT, DEMO_WORKER
from app.services.applications import ApplicationService
from app.services.jobs import JobService
from app.services.payments import PaymentService
from app.settings import Settings

HOURS = 4
# Timesheet states of the hourly demo job, one per shift, oldest first; the last is tomorrow's.
STATES = ("approved", "resolved", "no_show", "disputed", "submitted", "checked_out", "checked_in", "scheduled")


async def seed_shift_demo(session: UnitOfWork, settings: Settings) -> None:
    """Three jobs of the demo client with the demo worker: one in progress with a shift in every state, one
    completed and paid, one open for applications. Needs the demo accounts."""
    client_id = await session.scalar(select(User.id).where(User.email == DEMO_CLIENT.email))
    worker_id = await session.scalar(select(User.id).where(User.email == DEMO_WORKER.email))
    assert client_id is not None and worker_id is not None, "the demo accounts come first"
    client, worker = Principal(client_id, Role.client), Principal(worker_id, Role.worker)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    later = [now + timedelta(days=2 + i, hours=1) for i in range(len(STATES))]

    busy = await _hired_job(session, settings, client, worker, "Warehouse night shifts", PayType.hourly, 1_800, later)
    past = [now - timedelta(days=len(STATES) - i, hours=2) for i in range(len(STATES) - 2)]
    await _move_shifts(session, busy, [*past, now - timedelta(hours=1), now + timedelta(days=1)])
    for shift_index, state in enumerate(STATES):
        await _set_state(session, busy, shift_index, state, worker_id)
    done = await _hired_job(session, settings, client, worker, "Festival bar staff", PayType.fixed, 24_000, later[:2])
    await _move_shifts(session, done, [now - timedelta(days=20), now - timedelta(days=19)])
    for shift_index in range(2):
        await _set_state(session, done, shift_index, "approved", worker_id)
    await JobService(session, settings).complete(await _locked(session, done))
    await JobService(session, settings).create(client, _job("Shop opening helpers", PayType.hourly, 1_500, later[:3]))


def _job(title: str, pay_type: PayType, rate: int, starts: list[datetime]) -> JobCreate:
    city, lat, lng = DEMO_CITY
    return JobCreate(
        title=title,
        description="Shifts on site; check in on arrival with your phone.",
        category="moving",
        skills=["lifting"],
        pay_type=pay_type,
        pay_rate_minor=rate,
        location=Location(city=city, lat=lat, lng=lng),
        shifts=[ShiftCreate(starts_at=s, ends_at=s + timedelta(hours=HOURS)) for s in starts],
    )


async def _hired_job(
    session: UnitOfWork,
    settings: Settings,
    client: Principal,
    worker: Principal,
    title: str,
    pay_type: PayType,
    rate: int,
    starts: list[datetime],
) -> int:
    job = await JobService(session, settings).create(client, _job(title, pay_type, rate, starts))
    key = f"demo-shifts-{job.id}"
    await PaymentService(session, settings).fund(
        client, job, PaymentCreate(amount_minor=job.total_cost_minor), key, lambda _: {}
    )
    applications = ApplicationService(session)
    application = await applications.apply(
        worker, job.id, ApplicationCreate(cover_letter="Happy to take these shifts.")
    )
    await applications.decide(await _locked(session, job.id), application, accept=True)
    return job.id


async def _locked(session: UnitOfWork, job_id: int) -> Job:
    job = await JobRepository(session).get_locked(job_id)
    assert job is not None
    return job


async def _move_shifts(session: UnitOfWork, job_id: int, starts: list[datetime]) -> None:
    ids = list(await session.scalars(text("SELECT id FROM shifts WHERE job_id = :j ORDER BY starts_at"), {"j": job_id}))
    for shift_id, start in zip(ids, starts, strict=True):
        await session.execute(
            text("UPDATE shifts SET starts_at = :s, ends_at = :e WHERE id = :id"),
            {"s": start, "e": start + timedelta(hours=HOURS), "id": shift_id},
        )


async def _set_state(session: UnitOfWork, job_id: int, shift_index: int, state: str, worker_id: int) -> None:
    """Give the worker's timesheet of the job's n-th shift `state`, as the attendance calls would have."""
    row = (
        await session.execute(
            text(
                "SELECT t.id, s.starts_at FROM timesheets t JOIN shifts s ON s.id = t.shift_id"
                " WHERE t.job_id = :j AND t.worker_id = :w ORDER BY s.starts_at OFFSET :n LIMIT 1"
            ),
            {"j": job_id, "w": worker_id, "n": shift_index},
        )
    ).one()
    timesheet_id, start = row
    minutes = HOURS * 60 - 10 * shift_index
    values: dict[str, Any] = {"status": state}
    if state not in ("scheduled", "no_show"):
        values |= {
            "checked_in_at": start - timedelta(minutes=5),
            "check_in_lat": DEMO_CITY[1],
            "check_in_lng": DEMO_CITY[2],
        }
    if state in ("checked_out", "submitted", "approved", "disputed", "resolved"):
        values |= {"checked_out_at": start + timedelta(minutes=minutes - 5), "recorded_minutes": minutes}
    if state in ("submitted", "approved", "disputed", "resolved"):
        # the one still waiting for review was submitted just now: the scheduler approves it only after the window
        submitted_at = datetime.now(UTC) if state == "submitted" else start + timedelta(minutes=minutes)
        values |= {"submitted_at": submitted_at, "claimed_minutes": minutes, "note": "As agreed."}
    if state in ("approved", "resolved"):
        values["approved_minutes"] = minutes - (30 if state == "resolved" else 0)
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    await session.execute(text(f"UPDATE timesheets SET {assignments} WHERE id = :id"), {**values, "id": timesheet_id})
    if "checked_in_at" in values:
        await session.execute(
            text("UPDATE users SET attended_shifts = attended_shifts + 1 WHERE id = :w"), {"w": worker_id}
        )
    if state == "no_show":
        await session.execute(text("UPDATE users SET no_shows = no_shows + 1 WHERE id = :w"), {"w": worker_id})
    if state in ("disputed", "resolved"):
        resolved = state == "resolved"
        await session.execute(
            text(
                "INSERT INTO disputes (kind, status, job_id, worker_id, timesheet_id, reason, proposed_minutes,"
                " resolved_minutes, resolved_at) VALUES ('timesheet', :status, :j, :w, :t, :reason, :p, :r, :at)"
            ),
            {
                "status": "resolved" if resolved else "open",
                "j": job_id,
                "w": worker_id,
                "t": timesheet_id,
                "reason": "The shift ended half an hour early." if resolved else "Arrived late.",
                "p": minutes - 30 if resolved else minutes - 45,
                "r": minutes - 30 if resolved else None,
                "at": start + timedelta(days=1) if resolved else None,
            },
        )
        if not resolved:
            await session.execute(
                text("UPDATE jobs SET open_disputes = open_disputes + 1 WHERE id = :j"), {"j": job_id}
            )
