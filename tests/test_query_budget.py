"""Query budgets: every read endpoint sends the same number of SQL statements whatever the amount of
related rows (1 or 50 applications, reviews, skills, payments, jobs), within its documented budget.

The budgets are listed in docs/performance.md. Counts exclude the test harness's SAVEPOINT statements and
run with the response cache off, so they measure the database path a cache miss takes.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import UnitOfWork
from app.models import Dispute
from app.settings import Settings
from tests.conftest import StatementCounter, app_client
from tests.factories import API, Actor, apply, completed_job, make_admin, post_job, register
from tests.shiftwork import schedule

ALL_SKILLS = [
    "plumbing", "electrical", "carpentry", "painting", "deep-cleaning", "lifting", "driving", "lawn-care",
    "python", "javascript", "sql", "react", "figma", "illustration", "copywriting", "translation", "math",
    "english", "bartending", "catering",
]  # fmt: skip

# Statements per read endpoint, authentication included (tokens are verified without a query).
READ_BUDGETS = {
    "list_jobs": 2,
    "get_job": 1,
    "list_job_applications": 2,
    "list_best_applicants": 2,
    "get_application": 1,
    "get_me": 2,
    "get_user": 2,
    "list_user_reviews": 2,
    "list_user_given_reviews": 2,
    "list_user_jobs": 3,
    "list_user_payments": 1,
    "list_my_applications": 1,
    "get_payment": 1,
    "list_categories": 1,
    "list_skills": 1,
    "list_job_timesheets": 2,
    "get_dispute": 1,
    "list_disputes": 1,
    "list_notifications": 1,
    "count_unread_notifications": 1,
    "get_notification_settings": 1,
    "list_messages": 2,
}


@dataclass
class World:
    client: Actor
    worker: Actor
    admin: Actor
    job_id: int  # a job with n applicants and min(n, 20) skills
    application_id: int
    payment_id: int
    shift_job_id: int  # a job with n shifts, the worker hired: n timesheets
    dispute_id: int  # one of n disputes


@pytest.fixture
async def uncached(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    async with app_client(settings.model_copy(update={"cache_enabled": False}), engine, sessionmaker) as http:
        yield http


async def build_world(http: AsyncClient, db: AsyncSession, settings: Settings, n: int) -> World:
    """n of everything that a read could loop over."""
    owner = await register(http, "client")
    worker = await register(http, "worker")
    await http.patch(f"{API}/users/me", json={"skills": ALL_SKILLS[: min(n, 20)]}, headers=worker.headers)
    job = await post_job(http, owner, skills=ALL_SKILLS[: min(n, 20)], openings=1)
    application = await apply(http, worker, job["id"])
    for _ in range(n - 1):
        await apply(http, await register(http, "worker"), job["id"])
    done_ids = []
    for _ in range(n):  # n completed jobs: n reviews each way, 3n payments, n more applications
        done = await completed_job(http, owner, [worker])
        done_ids.append(done["id"])
        for reviewer, reviewee in ((owner, worker), (worker, owner)):
            response = await http.post(
                f"{API}/jobs/{done['id']}/reviews",
                json={"reviewee_id": reviewee.id, "rating": 4},
                headers=reviewer.headers,
            )
            assert response.status_code == 201, response.text
    for i in range(n):  # n messages in the application's thread, notifications for both sides
        sender = owner if i % 2 else worker
        sent = await http.post(
            f"{API}/applications/{application['id']}/messages", json={"body": "hi"}, headers=sender.headers
        )
        assert sent.status_code == 201, sent.text
    payments = (await http.get(f"{API}/users/{owner.id}/payments", headers=owner.headers)).json()["items"]
    admin = await make_admin(http, db, settings)
    shift_job = await post_job(http, owner, shifts=schedule(n))
    await apply(http, worker, shift_job["id"])
    hired = (await http.get(f"{API}/jobs/{shift_job['id']}/applications", headers=owner.headers)).json()["items"]
    await http.post(f"{API}/applications/{hired[0]['id']}/accept", headers=owner.headers)
    disputes = [Dispute(kind="work", job_id=job_id, worker_id=worker.id, reason="r") for job_id in done_ids]
    db.add_all(disputes)
    await db.commit()
    return World(owner, worker, admin, job["id"], application["id"], payments[0]["id"], shift_job["id"], disputes[0].id)


def reads(w: World) -> dict[str, tuple[str, dict[str, str]]]:
    """Each read endpoint's URL (lists at their largest page) and the headers to call it with."""
    return {
        "list_jobs": (f"{API}/jobs?limit=100", {}),
        "get_job": (f"{API}/jobs/{w.job_id}", {}),
        "list_job_applications": (f"{API}/jobs/{w.job_id}/applications?limit=100", w.client.headers),
        "list_best_applicants": (f"{API}/jobs/{w.job_id}/best-applicants?limit=100", w.client.headers),
        "get_application": (f"{API}/applications/{w.application_id}", w.worker.headers),
        "get_me": (f"{API}/users/me", w.worker.headers),
        "get_user": (f"{API}/users/{w.worker.id}", w.admin.headers),
        "list_user_reviews": (f"{API}/users/{w.worker.id}/reviews?limit=100", {}),
        "list_user_given_reviews": (f"{API}/users/{w.client.id}/reviews/given?limit=100", {}),
        "list_user_jobs": (f"{API}/users/{w.client.id}/jobs?limit=100", w.client.headers),
        "list_user_payments": (f"{API}/users/{w.client.id}/payments?limit=100", w.client.headers),
        "list_my_applications": (f"{API}/users/me/applications?limit=100", w.worker.headers),
        "get_payment": (f"{API}/payments/{w.payment_id}", w.client.headers),
        "list_categories": (f"{API}/categories", {}),
        "list_skills": (f"{API}/skills", {}),
        "list_job_timesheets": (f"{API}/jobs/{w.shift_job_id}/timesheets", w.client.headers),
        "get_dispute": (f"{API}/disputes/{w.dispute_id}", w.worker.headers),
        "list_disputes": (f"{API}/disputes?limit=100", w.admin.headers),
        "list_notifications": (f"{API}/notifications?limit=100", w.worker.headers),
        "count_unread_notifications": (f"{API}/notifications/unread-count", w.worker.headers),
        "get_notification_settings": (f"{API}/users/me/notification-settings", w.worker.headers),
        "list_messages": (f"{API}/applications/{w.application_id}/messages?limit=100", w.client.headers),
    }


async def measure(http: AsyncClient, statements: StatementCounter, url: str, headers: dict[str, str]) -> int:
    statements.statements.clear()
    statements.enabled = True
    response = await http.get(url, headers=headers)
    statements.enabled = False
    assert response.status_code == 200, (url, response.text)
    return statements.count()


async def test_every_read_endpoint_has_a_constant_statement_count_within_budget(
    uncached: AsyncClient, db: AsyncSession, settings: Settings, statements: StatementCounter
) -> None:
    small = await build_world(uncached, db, settings, 1)
    large = await build_world(uncached, db, settings, 50)
    assert set(reads(small)) == set(READ_BUDGETS)
    counts: dict[str, tuple[int, int]] = {}
    for name in READ_BUDGETS:
        counts[name] = (
            await measure(uncached, statements, *reads(small)[name]),
            await measure(uncached, statements, *reads(large)[name]),
        )
    over = {name: c for name, c in counts.items() if c[0] != c[1] or c[1] > READ_BUDGETS[name]}
    assert not over, f"(1 row, 50 rows) statement counts off budget: {over}; budgets {READ_BUDGETS}"


# Statements per write, measured on the main path (rows locked, ledger legs, counters and the reload for
# the response included). Writes are rarer than reads; their budgets bound work, not latency. A notification
# costs 2 (the recipients' settings, one INSERT for all of them), plus 1 per e-mail deferred.
WRITE_BUDGETS = {
    "register": 6,  # + the verification link and its e-mail job
    "create_token": 2,
    "create_job": 6,
    "create_application": 5,
    "accept_application": 9,
    "fund_job": 11,  # + the hired workers (none yet here: no notification)
    "complete_job": 37,  # 2 hired workers: each adds a payout, ledger legs, cache fan-out, a payout notice + e-mail
    "create_review": 8,
}


async def test_write_endpoints_stay_within_their_statement_budgets(
    uncached: AsyncClient, statements: StatementCounter
) -> None:
    counts: dict[str, int] = {}

    async def counted(name: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        statements.statements.clear()
        statements.enabled = True
        response = await uncached.request(method, url, **kwargs)
        statements.enabled = False
        assert response.is_success, response.text
        counts[name] = statements.count()
        return dict(response.json())

    payload = {"email": "budget@test.example", "password": "correct-horse-battery", "full_name": "B", "role": "client"}
    await counted("register", "POST", f"{API}/auth/register", json=payload)
    form = {"username": payload["email"], "password": payload["password"]}
    token = (await counted("create_token", "POST", f"{API}/auth/token", data=form))["access_token"]
    owner_headers = {"Authorization": f"Bearer {token}"}
    job_body = {"title": "Paint a fence", "category": "handyman", "skills": ["painting", "carpentry"],
                "pay_type": "fixed", "pay_rate_minor": 10_000, "openings": 2}  # fmt: skip
    job = await counted("create_job", "POST", f"{API}/jobs", json=job_body, headers=owner_headers)
    workers = [await register(uncached, "worker") for _ in range(3)]
    application = await counted("create_application", "POST", f"{API}/jobs/{job['id']}/applications", json={},
                                headers=workers[0].headers)  # fmt: skip
    others = [await apply(uncached, w, job["id"]) for w in workers[1:]]
    await counted("fund_job", "POST", f"{API}/jobs/{job['id']}/payments", json={"amount_minor": 20_000},
                  headers={**owner_headers, "Idempotency-Key": "budget"})  # fmt: skip
    await counted("accept_application", "POST", f"{API}/applications/{application['id']}/accept",
                  headers=owner_headers)  # fmt: skip
    await uncached.post(f"{API}/applications/{others[0]['id']}/accept", headers=owner_headers)
    await counted("complete_job", "POST", f"{API}/jobs/{job['id']}/complete", headers=owner_headers)
    await counted("create_review", "POST", f"{API}/jobs/{job['id']}/reviews",
                  json={"reviewee_id": workers[0].id, "rating": 5}, headers=owner_headers)  # fmt: skip
    over = {name: n for name, n in counts.items() if n > WRITE_BUDGETS[name]}
    assert not over, f"write statement counts over budget: {over} (all: {counts})"


async def test_a_read_sends_its_statements_outside_a_transaction_and_a_write_inside_one(
    committing_client: AsyncClient, engine: AsyncEngine
) -> None:
    """A GET runs its statements in autocommit: no BEGIN before them and no COMMIT after (app.db.reader).
    A write still runs all of its statements in one transaction."""
    autocommit: list[bool] = []

    def record(conn: Any, *_: Any) -> None:
        autocommit.append(conn.connection.dbapi_connection.autocommit)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        owner = await register(committing_client, "client")
        job = await post_job(committing_client, owner)
        assert autocommit and not any(autocommit)  # register and post_job: writes, each one transaction
        autocommit.clear()
        response = await committing_client.get(f"{API}/jobs/{job['id']}")
        assert response.status_code == 200
        assert len(autocommit) == READ_BUDGETS["get_job"] and all(autocommit)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
