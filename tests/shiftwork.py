"""Helpers for the shift-work tests: jobs with shifts, moving a shift in time, working a shift over HTTP."""

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.factories import API, Actor, apply, fund, hire, post_job

BERLIN = {"city": "Berlin", "lat": 52.52, "lng": 13.405}
AT_BERLIN = {"lat": 52.52, "lng": 13.405}


def schedule(count: int, *, hours: float = 2, first_in: timedelta = timedelta(days=3)) -> list[dict[str, str]]:
    """`count` shifts of `hours` each, a day apart, the first starting `first_in` from now."""
    start = datetime.now(UTC).replace(microsecond=0) + first_in
    return [
        {
            "starts_at": (start + timedelta(days=i)).isoformat(),
            "ends_at": (start + timedelta(days=i, hours=hours)).isoformat(),
        }
        for i in range(count)
    ]


async def shift_job(
    client: AsyncClient, owner: Actor, workers: list[Actor], *, openings: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """A funded job with shifts (two by default, in Berlin) and `workers` hired; the job as it is now."""
    fields: dict[str, Any] = {"shifts": schedule(2), "location": BERLIN, **overrides}
    job = await post_job(client, owner, openings=openings or max(len(workers), 1), **fields)
    await fund(client, owner, job)
    for worker in workers:
        await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    response = await client.get(f"{API}/jobs/{job['id']}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def place_shift(
    db: AsyncSession | AsyncConnection, shift_id: int, *, started_minutes_ago: float, minutes: int | None = None
) -> None:
    """Move a shift in time (its length kept unless given), as if its start were that long ago."""
    starts = datetime.now(UTC) - timedelta(minutes=started_minutes_ago)
    await db.execute(
        text(
            "UPDATE shifts SET starts_at = CAST(:s AS timestamptz), ends_at = CAST(:s AS timestamptz)"
            " + coalesce(CAST(:m AS integer) * interval '1 minute', ends_at - starts_at) WHERE id = :id"
        ),
        {"s": starts, "m": minutes, "id": shift_id},
    )
    await db.commit()


async def sheets(client: AsyncClient, actor: Actor, job_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/jobs/{job_id}/timesheets", headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def sheet(client: AsyncClient, actor: Actor, job_id: int, shift_id: int, worker: Actor) -> dict[str, Any]:
    """The worker's timesheet of the shift (as `actor` sees the job's timesheets)."""
    return next(
        s for s in await sheets(client, actor, job_id) if s["shift_id"] == shift_id and s["worker"]["id"] == worker.id
    )


async def check_in(client: AsyncClient, worker: Actor, shift_id: int, at: dict[str, float] = AT_BERLIN) -> Response:
    return await client.post(f"{API}/shifts/{shift_id}/check-in", json=at, headers=worker.headers)


async def check_out(client: AsyncClient, worker: Actor, shift_id: int, at: dict[str, float] = AT_BERLIN) -> Response:
    return await client.post(f"{API}/shifts/{shift_id}/check-out", json=at, headers=worker.headers)


async def submit(client: AsyncClient, worker: Actor, timesheet_id: int, minutes: int) -> Response:
    return await client.post(
        f"{API}/timesheets/{timesheet_id}/submit", json={"minutes": minutes}, headers=worker.headers
    )


async def act(client: AsyncClient, actor: Actor, timesheet_id: int, action: str, **body: Any) -> Response:
    """approve | no-show | dispute on a timesheet."""
    return await client.post(f"{API}/timesheets/{timesheet_id}/{action}", json=body or None, headers=actor.headers)


async def worked(
    client: AsyncClient, db: AsyncSession | AsyncConnection, owner: Actor, job: dict[str, Any], shift: dict[str, Any],
    worker: Actor, minutes: int,
) -> dict[str, Any]:  # fmt: skip
    """The worker checks in to the shift (moved to have started 10 minutes ago), out, and submits `minutes`."""
    await place_shift(db, shift["id"], started_minutes_ago=10)
    for response in (await check_in(client, worker, shift["id"]), await check_out(client, worker, shift["id"])):
        assert response.status_code == 200, response.text
    timesheet = await sheet(client, owner, job["id"], shift["id"], worker)
    response = await submit(client, worker, timesheet["id"], minutes)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def no_show(
    client: AsyncClient, db: AsyncSession | AsyncConnection, owner: Actor, job: dict[str, Any], shift: dict[str, Any],
    worker: Actor,
) -> dict[str, Any]:  # fmt: skip
    """The owner marks the worker a no-show of the shift (moved to have started two hours ago)."""
    await place_shift(db, shift["id"], started_minutes_ago=120)
    timesheet = await sheet(client, owner, job["id"], shift["id"], worker)
    response = await act(client, owner, timesheet["id"], "no-show")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def resolve(client: AsyncClient, admin: Actor, dispute_id: int, **body: int) -> dict[str, Any]:
    response = await client.post(f"{API}/disputes/{dispute_id}/resolve", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())
