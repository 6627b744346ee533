"""Message threads (issue #11): one per application, between its worker and the job's owner; admins read;
anyone else gets 404; 1..2000 characters; closed for writing 30 days after the job ended (409);
rate-limited per user."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import UnitOfWork
from app.models import Job
from app.models.enums import JobStatus
from app.settings import Rate, Settings
from tests.conftest import app_client
from tests.factories import API, Actor, apply, assert_problem, make_admin, post_job, register


async def thread(http: AsyncClient) -> tuple[Actor, Actor, int, int]:
    """(client, worker, job id, application id)."""
    client = await register(http, "client", full_name="Carla Client")
    worker = await register(http, "worker", full_name="Walter Worker")
    job = await post_job(http, client)
    return client, worker, job["id"], (await apply(http, worker, job["id"]))["id"]


def messages_of(application_id: int) -> str:
    return f"{API}/applications/{application_id}/messages"


async def test_both_parties_write_and_read_the_thread_oldest_first(client: AsyncClient) -> None:
    owner, worker, _, application = await thread(client)
    first = await client.post(messages_of(application), json={"body": "Is there parking?"}, headers=worker.headers)
    assert first.status_code == 201, first.text
    assert first.json()["sender"] == {"id": worker.id, "full_name": "Walter Worker"}
    assert first.json()["application_id"] == application
    await client.post(messages_of(application), json={"body": "Yes, in the yard."}, headers=owner.headers)
    await client.post(messages_of(application), json={"body": "<b>Great</b>"}, headers=worker.headers)
    for who in (owner, worker):
        page = (await client.get(messages_of(application), headers=who.headers)).json()
        assert [m["body"] for m in page["items"]] == ["Is there parking?", "Yes, in the yard.", "<b>Great</b>"]
    # a keyset cursor, still oldest first
    one = (await client.get(messages_of(application) + "?limit=2", headers=owner.headers)).json()
    rest = (await client.get(messages_of(application) + f"?cursor={one['next_cursor']}", headers=owner.headers)).json()
    assert [m["body"] for m in one["items"] + rest["items"]] == [
        "Is there parking?",
        "Yes, in the yard.",
        "<b>Great</b>",
    ]
    assert rest["next_cursor"] is None


async def test_admins_read_but_do_not_write_and_anyone_else_gets_404(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner, worker, job_id, application = await thread(client)
    await client.post(messages_of(application), json={"body": "Hello"}, headers=worker.headers)
    admin = await make_admin(client, db, settings)
    assert [m["body"] for m in (await client.get(messages_of(application), headers=admin.headers)).json()["items"]] == [
        "Hello"
    ]
    assert_problem(await client.post(messages_of(application), json={"body": "Hi"}, headers=admin.headers), 403)
    other_worker = await register(client, "worker")
    await apply(client, other_worker, job_id)  # even an applicant to the same job
    other_client = await register(client, "client")
    for stranger in (other_worker, other_client):
        assert_problem(await client.get(messages_of(application), headers=stranger.headers), 404)
        assert_problem(await client.post(messages_of(application), json={"body": "x"}, headers=stranger.headers), 404)
    assert_problem(await client.get(messages_of(application + 10_000), headers=owner.headers), 404)
    assert_problem(await client.get(messages_of(application)), 401)


@pytest.mark.parametrize(("body", "status"), [("", 422), ("   ", 422), ("x" * 2001, 422), ("x" * 2000, 201)])
async def test_a_message_has_1_to_2000_characters(client: AsyncClient, body: str, status: int) -> None:
    _, worker, _, application = await thread(client)
    response = await client.post(messages_of(application), json={"body": body}, headers=worker.headers)
    assert response.status_code == status, response.text


async def ended(db: AsyncSession, job_id: int, status: JobStatus, days_ago: float) -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    column = "completed_at" if status == JobStatus.completed else "cancelled_at"
    await db.execute(update(Job).where(Job.id == job_id).values(status=status, **{column: when}))
    await db.commit()


@pytest.mark.parametrize("status", [JobStatus.completed, JobStatus.cancelled])
async def test_a_thread_closes_for_writing_30_days_after_the_job_ended(
    client: AsyncClient, db: AsyncSession, status: JobStatus
) -> None:
    owner, worker, job_id, application = await thread(client)
    await ended(db, job_id, status, days_ago=29.9)
    assert (await client.post(messages_of(application), json={"body": "Thanks!"}, headers=worker.headers)).is_success
    await ended(db, job_id, status, days_ago=30.1)
    for who in (owner, worker):
        body = assert_problem(
            await client.post(messages_of(application), json={"body": "Hi"}, headers=who.headers), 409
        )
        assert "30 days" in body["detail"]
    # still readable
    assert [m["body"] for m in (await client.get(messages_of(application), headers=owner.headers)).json()["items"]] == [
        "Thanks!"
    ]


async def test_a_message_notifies_the_other_party_with_a_preview(client: AsyncClient) -> None:
    owner, worker, job_id, application = await thread(client)
    await client.post(messages_of(application), json={"body": "y" * 500}, headers=owner.headers)
    items = (await client.get(f"{API}/notifications", headers=worker.headers)).json()["items"]
    assert [n["kind"] for n in items] == ["message_received"]
    assert items[0]["link"] == f"/applications/{application}"
    assert items[0]["title"].startswith("New message from Carla Client")
    assert len(items[0]["body"]) == 280 and items[0]["body"].endswith("…")
    assert items[0]["data"]["application_id"] == application and items[0]["data"]["job_id"] == job_id
    own = (await client.get(f"{API}/notifications", headers=owner.headers)).json()["items"]
    assert [n["kind"] for n in own] == ["application_received"]  # none for the sender


@pytest.fixture
async def limited(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    limits = {"rate_limit_enabled": True, "rate_limit_messages_per_user": Rate(2, 60)}
    async with app_client(settings.model_copy(update=limits), engine, sessionmaker) as http:
        yield http


async def test_messages_are_rate_limited_per_user(limited: AsyncClient) -> None:
    owner, worker, _, application = await thread(limited)
    for n in range(2):
        sent = await limited.post(messages_of(application), json={"body": f"m{n}"}, headers=worker.headers)
        assert sent.status_code == 201
    refused = assert_problem(
        await limited.post(messages_of(application), json={"body": "m3"}, headers=worker.headers), 429
    )
    assert "messages-per-user" in refused["detail"]
    assert (await limited.post(messages_of(application), json={"body": "ok"}, headers=owner.headers)).is_success
