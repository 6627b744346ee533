"""Authentication hardening (issue #9): hashing off the event loop, equal work for unknown e-mails,
refresh-token families, untrimmed and uncommon passwords, the generated secret key, secret-free errors."""

import asyncio
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

import app.security as security
from app.schemas.auth import AdminCreate
from app.security import COMMON_PASSWORDS_FILE, common_passwords, create_access_token, decode_access_token
from app.settings import DEV_SECRET, SECRET_KEY_FILE, Settings
from tests.conftest import app_client, committing_sessionmaker, empty_tables
from tests.factories import API, PASSWORD, assert_problem, login, register


def create_admin_refuses(password: str) -> bool:
    """`marketplace create-admin` checks its arguments as AdminCreate (app/cli.py admin_from_args)."""
    try:
        AdminCreate(email="admin@test.example", password=password, full_name="Admin")
    except ValidationError:
        return True
    return False


class VerifySpy:
    """Wraps app.security.verify_password (the function the hash threads run): calls, overlap, timing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.real = security.verify_password
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.hashes: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.finished = 0
        self.first_started = asyncio.Event()

    def __call__(self, password: str, password_hash: str, settings: Settings) -> bool:
        with self.lock:
            self.hashes.append(password_hash)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.loop.call_soon_threadsafe(self.first_started.set)
        try:
            return self.real(password, password_hash, settings)
        finally:
            with self.lock:
                self.running -= 1
                self.finished += 1


@pytest.fixture
async def verify_spy(monkeypatch: pytest.MonkeyPatch) -> VerifySpy:
    spy = VerifySpy(asyncio.get_running_loop())
    monkeypatch.setattr(security, "verify_password", spy)
    return spy


@pytest.fixture
async def production_cost_client(settings: Settings, engine: AsyncEngine) -> Any:
    """A committing client (concurrent requests, each on its own connection) whose argon2 costs what it
    costs in production (64 MiB), two hashes at a time."""
    real = settings.model_copy(update={"argon2_memory_kib": 65536, "password_hash_concurrency": 2})
    async with app_client(real, engine, committing_sessionmaker(engine)) as http:
        yield http
    await empty_tables(engine)


# --- hashing never blocks the event loop ---------------------------------------------------------


@pytest.mark.committing
async def test_health_answers_while_20_logins_hash_so_no_login_stalls_the_worker(
    production_cost_client: AsyncClient, verify_spy: VerifySpy
) -> None:
    http = production_cost_client
    actor = await register(http)
    verify_spy.reset()  # forget the login of `register`
    form = {"username": actor.email, "password": "wrong-password-123"}
    done: list[str] = []

    async def attempt() -> int:
        response = await http.post(f"{API}/auth/token", data=form)
        done.append("login")
        return response.status_code

    logins = [asyncio.create_task(attempt()) for _ in range(20)]
    await verify_spy.first_started.wait()  # a hash is running now
    health = await http.get("/health")
    done.append("health")
    finished_before_health = verify_spy.finished
    statuses = await asyncio.gather(*logins)

    assert health.status_code == 200 and statuses == [401] * 20
    # A hash on the event loop would have finished before /health could even start; in a thread it has not.
    assert finished_before_health == 0
    assert done[0] == "health", done
    assert verify_spy.most_at_once == 2  # the cap (APP_PASSWORD_HASH_CONCURRENCY)
    assert verify_spy.finished == 20


async def test_an_unknown_email_costs_one_verification_with_the_real_parameters(
    client: AsyncClient, verify_spy: VerifySpy
) -> None:
    actor = await register(client)
    verify_spy.reset()
    known = await client.post(f"{API}/auth/token", data={"username": actor.email, "password": "not-it-at-all"})
    unknown = await client.post(f"{API}/auth/token", data={"username": "nobody@test.example", "password": "x" * 12})
    assert_problem(known, 401)
    body = assert_problem(unknown, 401)
    assert body["detail"] == known.json()["detail"]
    assert len(verify_spy.hashes) == 2
    real_hash, dummy = verify_spy.hashes
    parameters = real_hash.rsplit("$", 2)[0]  # $argon2id$v=19$m=...,t=...,p=...
    assert dummy != real_hash and dummy.rsplit("$", 2)[0] == parameters


# --- refresh-token families ---------------------------------------------------------------------


async def refresh(client: AsyncClient, token: str) -> Any:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": token})


async def test_reusing_a_rotated_refresh_token_revokes_the_token_it_was_rotated_into(client: AsyncClient) -> None:
    actor = await register(client)
    other_login = (await login(client, actor.email))["refresh_token"]
    rotated = await refresh(client, actor.refresh_token)
    assert rotated.status_code == 200
    successor = rotated.json()["refresh_token"]

    replay = await refresh(client, actor.refresh_token)
    assert_problem(replay, 401)
    assert_problem(await refresh(client, successor), 401)  # the whole family is revoked, and stays revoked
    assert (await refresh(client, other_login)).status_code == 200  # another login is another family


async def test_a_refresh_chain_keeps_working_while_nothing_is_replayed(client: AsyncClient) -> None:
    actor = await register(client)
    token = actor.refresh_token
    for _ in range(3):
        response = await refresh(client, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]


async def test_logout_ends_the_whole_family(client: AsyncClient) -> None:
    actor = await register(client)
    successor = (await refresh(client, actor.refresh_token)).json()["refresh_token"]
    assert (await client.post(f"{API}/auth/logout", json={"refresh_token": successor})).status_code == 204
    assert_problem(await refresh(client, successor), 401)


# --- passwords ----------------------------------------------------------------------------------


async def test_passwords_are_never_trimmed(client: AsyncClient) -> None:
    password = "  spaced out secret  "
    actor = await register(client, password=password)
    assert (await login(client, actor.email, password))["token_type"] == "bearer"
    trimmed = await client.post(f"{API}/auth/token", data={"username": actor.email, "password": password.strip()})
    assert_problem(trimmed, 401)


@pytest.mark.parametrize("password", ["password1", "iloveyou", "Qwertyuiop", "1q2w3e4r5t"])
async def test_registration_refuses_the_most_common_passwords(client: AsyncClient, password: str) -> None:
    payload = {"email": "common@test.example", "password": password, "full_name": "C", "role": "worker"}
    body = assert_problem(await client.post(f"{API}/auth/register", json=payload), 422)
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert "common" in body["errors"][0]["msg"]


def test_the_common_password_list_is_the_shipped_10000_and_create_admin_applies_it() -> None:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10_000 and len(common_passwords()) == 10_000
    assert lines[:3] == ["123456", "123456789", "qwerty"]  # most common first, as in the source
    assert (COMMON_PASSWORDS_FILE.parent / "common-passwords.LICENSE").exists()
    assert create_admin_refuses("password123")
    assert create_admin_refuses("short")
    assert not create_admin_refuses(PASSWORD)


# --- the signing key ----------------------------------------------------------------------------


@pytest.fixture
def no_configured_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("APP_SECRET_KEY", raising=False)
    monkeypatch.delenv("APP_ENVIRONMENT", raising=False)
    yield


@pytest.mark.parametrize("environment", ["development", "production"])
def test_without_a_key_one_is_generated_and_kept_private_across_restarts(
    no_configured_key: None, tmp_path: Path, environment: str
) -> None:
    first = Settings(environment=environment, data_dir=tmp_path / "data")
    key_file = tmp_path / "data" / SECRET_KEY_FILE
    assert first.secret_key != DEV_SECRET and len(first.secret_key) >= 32
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    token = create_access_token(7, "worker", first)

    restarted = Settings(environment=environment, data_dir=tmp_path / "data")
    assert restarted.secret_key == first.secret_key
    assert decode_access_token(token, restarted).id == 7  # sessions survive the restart

    elsewhere = Settings(environment=environment, data_dir=tmp_path / "other")
    assert elsewhere.secret_key != first.secret_key


def test_the_public_development_key_is_only_for_the_test_suite(no_configured_key: None, tmp_path: Path) -> None:
    assert Settings(environment="test", data_dir=tmp_path).secret_key == DEV_SECRET
    assert not (tmp_path / SECRET_KEY_FILE).exists()
    for environment in ("development", "production"):
        with pytest.raises(ValidationError):
            Settings(environment=environment, secret_key=DEV_SECRET, data_dir=tmp_path)


def test_settings_errors_never_print_the_secret(no_configured_key: None, tmp_path: Path) -> None:
    secret = "Sup3r-secret-but-short"
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production", secret_key=secret, data_dir=tmp_path)
    assert "APP_SECRET_KEY" in str(caught.value)
    assert secret not in str(caught.value) and secret[:8] not in str(caught.value)
    assert secret not in repr(caught.value)

    with pytest.raises(ValidationError) as caught:
        Settings(environment="test", database_url="mysql://app:hunter2-password@db/app")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(Settings(environment="test", database_url="postgresql://a:hunter2@db/x"))


def test_a_valid_production_key_is_used_as_given(no_configured_key: None, tmp_path: Path) -> None:
    key = "k" * 40
    assert Settings(environment="production", secret_key=key, data_dir=tmp_path).secret_key == key
    assert not (tmp_path / SECRET_KEY_FILE).exists()


async def test_hashing_threads_do_not_hold_the_gil() -> None:
    """The premise of the thread pool: argon2 runs in parallel with Python code on the loop."""
    cost = Settings(environment="test", argon2_memory_kib=65536)
    started = time.perf_counter()
    hashing = asyncio.create_task(security.hash_password_async("some password", cost))
    ticks = 0
    while not hashing.done():
        await asyncio.sleep(0.001)
        ticks += 1
    elapsed = time.perf_counter() - started
    assert ticks >= 5, (ticks, elapsed)  # the loop kept turning while the hash ran
