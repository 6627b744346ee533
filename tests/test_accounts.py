"""Account links without a worker (in the test's transaction): the reset request does the same work for any
address, links are single use and expire (30 minutes for a reset), a new password follows the registration's
rules and revokes every session, the rate limits; and the development outbox (no APP_SMTP_URL)."""

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import mail
from app.db import UnitOfWork
from app.models import AccountToken
from app.models.enums import AccountTokenPurpose
from app.services.accounts import PASSWORD_RESET_REQUESTED, AccountService
from app.settings import Rate, Settings
from tests.conftest import StatementCounter, app_client
from tests.factories import API, PASSWORD, Actor, RegisterFactory, account_link_token, assert_problem, login, register

RESET = AccountTokenPurpose.password_reset
CONFIRM = f"{API}/auth/password-reset/confirm"


async def queued(db: AsyncSession, task: str) -> list[dict[str, object]]:
    rows = await db.execute(text("SELECT args FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"), {"t": task})
    return [args for (args,) in rows]


async def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    client: AsyncClient, db: AsyncSession, statements: StatementCounter
) -> None:
    known = await register(client, "worker")
    unknown = RegisterFactory.build(role="worker").email
    counts, bodies = [], []
    for address in (known.email, unknown):
        statements.statements.clear()
        statements.enabled = True
        response = await client.post(f"{API}/auth/password-reset", json={"email": address})
        statements.enabled = False
        assert response.status_code == 202
        counts.append(statements.count())
        bodies.append(response.content)
    assert bodies[0] == bodies[1]
    assert counts[0] == counts[1]  # one job deferred, nothing looked up: timing tells nothing
    assert await queued(db, PASSWORD_RESET_REQUESTED) == [{"email": known.email}, {"email": unknown.lower()}]
    # no link exists until the worker ran
    assert await db.scalar(select(func.count()).select_from(AccountToken).where(AccountToken.purpose == RESET)) == 0


async def reset_link(db: AsyncSession, settings: Settings, actor: Actor) -> str:
    """What the worker does for a known address (its task calls this), then the e-mail's token."""
    assert isinstance(db, UnitOfWork)
    await AccountService(db, settings).send_password_reset(actor.email)
    await db.commit()
    return await account_link_token(db, settings, actor.id, RESET)


async def test_a_reset_link_lasts_30_minutes(client: AsyncClient, db: AsyncSession, settings: Settings) -> None:
    actor = await register(client, "worker")
    token = await reset_link(db, settings, actor)
    row = await db.scalar(select(AccountToken).where(AccountToken.user_id == actor.id, AccountToken.purpose == RESET))
    assert row is not None and row.expires_at - row.created_at == pytest.approx(
        timedelta(minutes=30), abs=timedelta(seconds=60)
    )
    await db.execute(update(AccountToken).where(AccountToken.id == row.id).values(expires_at=func.now()))
    await db.commit()
    assert_problem(await client.post(CONFIRM, json={"token": token, "password": "a-new-secret-99"}), 400)


async def test_a_new_password_follows_the_registration_rules(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    actor = await register(client, "worker")
    token = await reset_link(db, settings, actor)
    for weak in ("short", "password123", "x" * 129):
        assert_problem(await client.post(CONFIRM, json={"token": token, "password": weak}), 422)
    # the refusals spent nothing
    assert (await client.post(CONFIRM, json={"token": token, "password": "  spaces count  "})).status_code == 204
    await login(client, actor.email, "  spaces count  ")


async def test_one_used_link_spends_the_others_and_revokes_every_session(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    actor = await register(client, "worker")
    second_login = await login(client, actor.email)
    first = await reset_link(db, settings, actor)
    second = await reset_link(db, settings, actor)
    assert first != second
    assert (await client.post(CONFIRM, json={"token": second, "password": "a-new-secret-99"})).status_code == 204
    assert_problem(await client.post(CONFIRM, json={"token": first, "password": "another-secret-98"}), 400)
    assert_problem(await client.post(CONFIRM, json={"token": second, "password": "another-secret-98"}), 400)
    for refresh in (actor.refresh_token, second_login["refresh_token"]):
        assert_problem(await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh}), 401)
    assert_problem(await client.post(f"{API}/auth/token", data={"username": actor.email, "password": PASSWORD}), 401)


async def test_links_are_bound_to_their_purpose_and_unknown_tokens_are_refused(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    actor = await register(client, "worker")
    verify = await account_link_token(db, settings, actor.id, AccountTokenPurpose.verify_email)
    assert_problem(await client.post(CONFIRM, json={"token": verify, "password": "a-new-secret-99"}), 400)
    reset = await reset_link(db, settings, actor)
    assert_problem(await client.post(f"{API}/auth/verify-email", json={"token": reset}), 400)
    assert_problem(await client.post(f"{API}/auth/verify-email", json={"token": "made-up"}), 400)
    assert (await client.post(f"{API}/auth/verify-email", json={"token": verify})).status_code == 204
    assert (await client.get(f"{API}/users/me", headers=actor.headers)).json()["email_verified"] is True


async def test_tokens_are_stored_only_as_their_hash(client: AsyncClient, db: AsyncSession, settings: Settings) -> None:
    actor = await register(client, "worker")
    token = await account_link_token(db, settings, actor.id, AccountTokenPurpose.verify_email)
    rows = (await db.execute(text("SELECT * FROM account_tokens WHERE user_id = :u"), {"u": actor.id})).mappings()
    assert all(token not in str(value) for row in rows for value in row.values())
    jobs = (await db.execute(text("SELECT args::text FROM procrastinate_jobs"))).scalars()
    assert all(token not in args for args in jobs)


@pytest.fixture
async def limited(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    limits = {
        "rate_limit_enabled": True,
        "rate_limit_login_per_ip": Rate(5, 60),
        "rate_limit_login_per_account": Rate(2, 60),
    }
    async with app_client(settings.model_copy(update=limits), engine, sessionmaker) as http:
        yield http


async def test_reset_requests_and_confirms_are_rate_limited_like_login(limited: AsyncClient) -> None:
    address = "victim@test.example"
    for _ in range(2):
        assert (await limited.post(f"{API}/auth/password-reset", json={"email": address})).status_code == 202
    assert_problem(await limited.post(f"{API}/auth/password-reset", json={"email": address.upper()}), 429)
    assert (await limited.post(f"{API}/auth/password-reset", json={"email": "other@test.example"})).status_code == 202
    # per client address, over both routes: the sixth request of the minute is refused
    body = {"token": "guess", "password": "a-new-secret-99"}
    assert_problem(await limited.post(CONFIRM, json=body), 400)
    assert_problem(await limited.post(CONFIRM, json=body), 429)


async def test_without_smtp_an_email_goes_to_the_outbox_and_the_log_shows_no_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    message = mail.compose(
        settings,
        key="account-link.7.abcdef12",
        to_name="Otto Outbox",
        to_address="otto@test.example",
        subject="Reset your Marketplace password",
        paragraphs=["Someone asked."],
        action="Choose a new password",
        path="/reset-password#token=SECRET-TOKEN",
    )
    with caplog.at_level(logging.INFO, logger="app.mail"):
        await mail.deliver(settings, message, "account-link.7.abcdef12")
        await mail.deliver(settings, message, "account-link.7.abcdef12")  # a retry: the same file
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == ["account-link.7.abcdef12.eml"]
    saved = files[0].read_text()
    assert "SECRET-TOKEN" in saved and "Message-ID: <account-link.7.abcdef12@127.0.0.1>" in saved
    assert "otto@test.example" in caplog.text and str(files[0]) in caplog.text
    assert "SECRET-TOKEN" not in caplog.text
