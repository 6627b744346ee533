"""Factories (polyfactory) for request payloads and rows, and small helpers to act as a user over HTTP."""

import itertools
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response
from polyfactory import Use
from polyfactory.factories.pydantic_factory import ModelFactory
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountToken, User
from app.models.enums import AccountTokenPurpose
from app.schemas.applications import ApplicationCreate
from app.schemas.auth import UserCreate
from app.schemas.jobs import JobCreate
from app.security import account_token, hash_password
from app.settings import Settings

API = "/api/v1"
PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


class RegisterFactory(ModelFactory[UserCreate]):
    email = Use(lambda: f"user{next(_seq)}@test.example")
    password = PASSWORD
    full_name = Use(lambda: f"Test User {next(_seq)}")


class JobFactory(ModelFactory[JobCreate]):
    title = Use(lambda: f"Fix the kitchen sink #{next(_seq)}")
    description = "Leaking pipe under the sink; bring your own tools."
    category = "handyman"
    skills = Use(lambda: ["plumbing"])
    pay_type = "fixed"
    pay_rate_minor = 10_000
    hours = None
    openings = 1
    location = None
    starts_at = None
    ends_at = None
    shifts = None


class ApplicationFactory(ModelFactory[ApplicationCreate]):
    cover_letter = "I have ten years of experience with exactly this."
    bid_minor = None
    estimated_hours = None


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is the API's one error shape (RFC 9457 problem details) with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = dict(response.json())
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert all(isinstance(body[key], str) for key in ("type", "title", "detail"))
    return body


@dataclass
class Actor:
    id: int
    email: str
    role: str
    headers: dict[str, str]
    refresh_token: str


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(f"{API}/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def register(client: AsyncClient, role: str = "worker", **overrides: Any) -> Actor:
    payload = RegisterFactory.build(role=role, **overrides).model_dump(mode="json")
    response = await client.post(f"{API}/auth/register", json=payload)
    assert response.status_code == 201, response.text
    tokens = await login(client, payload["email"], payload["password"])
    return Actor(
        id=response.json()["id"],
        email=payload["email"],
        role=role,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        refresh_token=tokens["refresh_token"],
    )


async def make_admin(client: AsyncClient, db: AsyncSession, settings: Settings) -> Actor:
    """Admins exist only through the CLI; tests insert one directly."""
    email = f"admin{next(_seq)}@test.example"
    admin = User(email=email, password_hash=hash_password(PASSWORD, settings), full_name="Admin", role="admin")
    db.add(admin)
    await db.commit()
    tokens = await login(client, email)
    return Actor(
        admin.id, email, "admin", {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]
    )


async def post_job(client: AsyncClient, owner: Actor, **overrides: Any) -> dict[str, Any]:
    payload = {**JobFactory.build().model_dump(mode="json", exclude_none=True), **overrides}
    response = await client.post(f"{API}/jobs", json=payload, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def apply(client: AsyncClient, worker: Actor, job_id: int, **overrides: Any) -> dict[str, Any]:
    payload = {**ApplicationFactory.build().model_dump(mode="json", exclude_none=True), **overrides}
    response = await client.post(f"{API}/jobs/{job_id}/applications", json=payload, headers=worker.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def fund(client: AsyncClient, owner: Actor, job: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    response = await client.post(
        f"{API}/jobs/{job['id']}/payments",
        json={"amount_minor": job["total_cost_minor"]},
        headers={**owner.headers, "Idempotency-Key": key or f"fund-{job['id']}"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def hire(client: AsyncClient, owner: Actor, application_id: int) -> dict[str, Any]:
    response = await client.post(f"{API}/applications/{application_id}/accept", headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def completed_job(
    client: AsyncClient, owner: Actor, workers: list[Actor], **job_overrides: Any
) -> dict[str, Any]:
    """A job with `workers` hired, funded, and completed (escrow released)."""
    job = await post_job(client, owner, openings=len(workers), **job_overrides)
    await fund(client, owner, job)
    for worker in workers:
        await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    response = await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def account_link_token(db: AsyncSession, settings: Settings, user_id: int, purpose: AccountTokenPurpose) -> str:
    """The token of the user's latest link for `purpose`, as its e-mail carries it."""
    token = await db.scalar(
        select(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose)
        .order_by(AccountToken.id.desc())
        .limit(1)
    )
    assert token is not None, f"no {purpose} link for user {user_id}"
    return account_token(token.salt, settings)
