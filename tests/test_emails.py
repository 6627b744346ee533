"""E-mail end to end (issue #11): a real `marketplace worker` process delivers to a real SMTP server started
here (aiosmtpd), on a database of this module's own (workers see only committed rows).

The message (both parts, the user's name, the link, the Message-ID with its idempotency key), a retry after
the server refused once (same Message-ID, one delivery), nothing for a rolled-back event, and the account
links: verification at registration, password reset (known address: a link; unknown: nothing).
"""

import asyncio
import email
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import ROOT
from app.db import UnitOfWork, create_engine
from app.main import create_app
from app.settings import Settings
from app.state import Database
from tests.conftest import _server_url, own_app_client, scratch_database
from tests.factories import API, PASSWORD, RegisterFactory, apply, assert_problem, login, post_job, register

SECRET = "test-secret-key-0123456789abcdef0123456789"
PUBLIC_URL = "http://127.0.0.1:8000"  # APP_PUBLIC_URL's default


class Mailbox:
    """What the SMTP server was offered (every attempt) and accepted; it can refuse the next messages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: list[str] = []  # Message-IDs offered
        self.accepted: list[tuple[list[str], EmailMessage]] = []
        self.refuse = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.attempts.append(str(message["Message-ID"]))
            if self.refuse:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.accepted.append(([str(r) for r in envelope.rcpt_tos], message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.accepted if address in rcpt]

    async def wait_for(self, address: str, subject: str, seconds: float = 20) -> EmailMessage:
        async with asyncio.timeout(seconds):
            while True:
                found = [m for m in self.to(address) if m["Subject"] == subject]
                if found:
                    assert len(found) == 1, f"{len(found)} copies of {subject!r} to {address}"
                    return found[0]
                await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def mail_url() -> Iterator[str]:
    with scratch_database(_server_url(), "marketplace_mail") as url:
        yield url


@pytest.fixture(scope="module")
def mail_settings(mail_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=mail_url,
        secret_key=SECRET,
        argon2_memory_kib=1024,
        db_pool_size=2,
        rate_limit_enabled=False,
        data_dir=tmp_path_factory.mktemp("mail-data"),
    )


@pytest.fixture(scope="module")
def worker(mail_settings: Settings, mailbox: tuple[Mailbox, int]) -> Iterator[subprocess.Popen[bytes]]:
    """`marketplace worker`, delivering to the test's SMTP server."""
    env = {
        **os.environ,
        "APP_ENVIRONMENT": "test",
        "APP_DATABASE_URL": mail_settings.database_url,
        "APP_SECRET_KEY": SECRET,
        "APP_DB_POOL_SIZE": "2",
        "APP_SMTP_URL": f"smtp://127.0.0.1:{mailbox[1]}",
        "APP_DATA_DIR": str(mail_settings.data_dir),
    }
    log = (mail_settings.data_dir / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield process
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture
async def http(mail_settings: Settings, worker: subprocess.Popen[bytes]) -> AsyncIterator[AsyncClient]:
    async with own_app_client(mail_settings) as client:
        yield client


@pytest.fixture
def box(mailbox: tuple[Mailbox, int]) -> Mailbox:
    return mailbox[0]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


async def hiring(http: AsyncClient) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    owner = await register(http, "client", full_name="Carla Client")
    worker = await register(http, "worker", full_name="Walter Worker")
    job = await post_job(http, owner, title="Mend the gate")
    return owner, worker, job, await apply(http, worker, job["id"])


async def test_a_notification_email_has_both_parts_the_name_the_link_and_a_stable_message_id(
    http: AsyncClient, box: Mailbox
) -> None:
    owner, worker, job, application = await hiring(http)
    assert (await http.post(f"{API}/applications/{application['id']}/accept", headers=owner.headers)).is_success
    message = await box.wait_for(worker.email, "You are hired for Mend the gate")
    assert message["To"] == f"Walter Worker <{worker.email}>"
    assert re.fullmatch(r"<notification\.[0-9a-f]{32}@127\.0\.0\.1>", str(message["Message-ID"]))
    plain, html = parts(message)
    link = f"{PUBLIC_URL}/jobs/{job['id']}"
    assert "Hi Walter Worker," in plain and link in plain
    assert "Walter Worker" in html and f'href="{link}"' in html
    # nothing private about the other party: no e-mail address, no phone
    assert owner.email not in plain and owner.email not in html
    # the client does not get e-mails for new applications by default
    assert not [m for m in box.to(owner.email) if "applied" in str(m["Subject"])]


async def test_a_refused_email_is_retried_with_the_same_message_id(http: AsyncClient, box: Mailbox) -> None:
    owner, worker, _, application = await hiring(http)
    await box.wait_for(worker.email, "Confirm your e-mail address")  # the registration's, out of the way
    box.refuse = 1
    assert (await http.post(f"{API}/applications/{application['id']}/reject", headers=owner.headers)).is_success
    subject = "Your application for Mend the gate was not accepted"
    message = await box.wait_for(worker.email, subject, seconds=30)  # the first retry waits 2 s
    assert box.attempts.count(str(message["Message-ID"])) == 2  # refused once, accepted once


class CommitFails(UnitOfWork):
    async def commit(self) -> None:
        raise RuntimeError("simulated commit failure")


@asynccontextmanager
async def failing_commits(settings: Settings) -> AsyncIterator[AsyncClient]:
    engine = create_engine(settings.database_url, settings)
    maker: async_sessionmaker[UnitOfWork] = async_sessionmaker(
        engine, class_=CommitFails, expire_on_commit=False, autoflush=False
    )
    app = create_app(settings, database=Database(engine, maker))
    try:
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t") as http,
        ):
            yield http
    finally:
        await engine.dispose()


async def test_a_rolled_back_event_sends_nothing(http: AsyncClient, box: Mailbox, mail_settings: Settings) -> None:
    owner, worker, _, application = await hiring(http)
    job2 = await post_job(http, owner, title="Second gate")
    application2 = await apply(http, worker, job2["id"])
    async with failing_commits(mail_settings) as failing:
        response = await failing.post(f"{API}/applications/{application['id']}/accept", headers=owner.headers)
        assert response.status_code == 500
    # a later event on the same worker queue is delivered: the failed one, deferred earlier, would be too
    assert (await http.post(f"{API}/applications/{application2['id']}/reject", headers=owner.headers)).is_success
    await box.wait_for(worker.email, "Your application for Second gate was not accepted")
    assert not [m for m in box.to(worker.email) if "Mend the gate" in str(m["Subject"])]


def link_token(message: EmailMessage, page: str) -> str:
    plain, html = parts(message)
    match = re.search(rf"{re.escape(PUBLIC_URL)}{page}#token=([A-Za-z0-9_-]+)", plain)
    assert match, plain
    assert f"{page}#token={match[1]}" in html
    return match[1]


async def test_registration_emails_a_verification_link_that_works_once(http: AsyncClient, box: Mailbox) -> None:
    actor = await register(http, "worker", full_name="Vera Verify")
    me = (await http.get(f"{API}/users/me", headers=actor.headers)).json()
    assert me["email_verified"] is False
    message = await box.wait_for(actor.email, "Confirm your e-mail address")
    token = link_token(message, "/verify-email")
    assert (await http.post(f"{API}/auth/verify-email", json={"token": token})).status_code == 204
    assert (await http.get(f"{API}/users/me", headers=actor.headers)).json()["email_verified"] is True
    assert_problem(await http.post(f"{API}/auth/verify-email", json={"token": token}), 400)


async def test_password_reset_by_email_sets_the_password_once_and_logs_every_session_out(
    http: AsyncClient, box: Mailbox
) -> None:
    actor = await register(http, "worker", full_name="Rita Reset")
    other_session = await login(http, actor.email)
    unknown = RegisterFactory.build(role="worker").email
    for address in (unknown, actor.email.upper()):
        response = await http.post(f"{API}/auth/password-reset", json={"email": address})
        assert response.status_code == 202 and "reset link" in response.json()["detail"]
    message = await box.wait_for(actor.email, "Reset your Marketplace password")
    token = link_token(message, "/reset-password")
    confirm = {"token": token, "password": "a-brand-new-secret-9"}
    assert (await http.post(f"{API}/auth/password-reset/confirm", json=confirm)).status_code == 204
    await login(http, actor.email, "a-brand-new-secret-9")
    old = await http.post(f"{API}/auth/token", data={"username": actor.email, "password": PASSWORD})
    assert_problem(old, 401)
    for refresh in (actor.refresh_token, other_session["refresh_token"]):
        assert_problem(await http.post(f"{API}/auth/refresh", json={"refresh_token": refresh}), 401)
    again = {"token": token, "password": "yet-another-secret-7"}
    assert_problem(await http.post(f"{API}/auth/password-reset/confirm", json=again), 400)
    # the unknown address got nothing (its job ran before the known one's, on this one worker)
    assert box.to(unknown.lower()) == []


async def test_every_email_job_of_this_module_was_delivered(http: AsyncClient, mail_settings: Settings) -> None:
    """Runs last: no e-mail job failed for good (a retried one succeeded, and was deleted)."""
    engine = create_engine(mail_settings.database_url, mail_settings)
    async with engine.connect() as conn:
        failed = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"))
    await engine.dispose()
    assert failed == 0
