"""The demo shift work (app/seed/shifts.py): jobs with shifts in every timesheet state for the demo accounts,
consistent with what the API itself would have written."""

from datetime import UTC, datetime

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import TimesheetStatus
from app.seed.data import DEMO_CLIENT, DEMO_WORKER
from app.seed.loader import _create_demo_accounts
from app.seed.shifts import seed_shift_demo
from app.services.timesheets import TimesheetService
from app.settings import Settings
from tests.factories import API, login
from tests.test_payments import account_balance, assert_ledger_invariant


async def test_the_demo_has_shift_work_in_every_state(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _create_demo_accounts(db, settings)
    await db.flush()
    await seed_shift_demo(db, settings)  # type: ignore[arg-type]
    await db.commit()
    owner = {
        "Authorization": f"Bearer {(await login(client, DEMO_CLIENT.email, DEMO_CLIENT.password))['access_token']}"
    }
    worker = {
        "Authorization": f"Bearer {(await login(client, DEMO_WORKER.email, DEMO_WORKER.password))['access_token']}"
    }
    me = (await client.get(f"{API}/users/me", headers=owner)).json()
    jobs = (await client.get(f"{API}/users/{me['id']}/jobs", headers=owner)).json()["items"]
    assert sorted(j["status"] for j in jobs) == ["completed", "in_progress", "open"]
    assert all(j["shifts"] for j in jobs)

    states = set()
    for job in jobs:
        items = (await client.get(f"{API}/jobs/{job['id']}/timesheets", headers=worker)).json()
        states |= {t["status"] for t in items.get("items", [])}
    assert states == set(TimesheetStatus)
    busy = next(j for j in jobs if j["status"] == "in_progress")
    disputed = [t for t in (await client.get(f"{API}/jobs/{busy['id']}/timesheets", headers=owner)).json()["items"]
                if t["dispute_id"] is not None]  # fmt: skip
    assert sorted(t["status"] for t in disputed) == ["disputed", "resolved"]
    blocked = await client.post(f"{API}/jobs/{busy['id']}/complete", headers=owner)
    assert blocked.status_code == 409 and "Dispute" in blocked.json()["detail"]  # the open dispute is counted

    worker_id = (await client.get(f"{API}/users/me", headers=worker)).json()["id"]
    reliability = (await client.get(f"{API}/users/{worker_id}")).json()["reliability"]
    assert (reliability["attended"], reliability["no_shows"]) == (8, 1)  # 6 of the busy job, both of the done one
    done = next(j for j in jobs if j["status"] == "completed")
    assert done["escrow_status"] == "released"
    assert await account_balance(db, f"escrow:job:{done['id']}") == 0
    await assert_ledger_invariant(db)
    # the scheduler's first ticks leave the demo as it is: nothing waits past its review window or grace
    sweeps = TimesheetService(db, settings)  # type: ignore[arg-type]
    assert await sweeps.approve_unreviewed(datetime.now(UTC)) == 0
    assert await sweeps.mark_overdue_no_shows(datetime.now(UTC)) == 0
