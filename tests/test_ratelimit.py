"""Abuse limits (issue #9): each limit answers 429 with Retry-After in the problem shape, per its key; the
counters are shared through Redis; a sick Redis lets requests through; the switch turns them all off.

The rest of the suite runs with the limits off (tests/conftest.py); here they are on, with small rates.
"""

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.cache.core import Breaker
from app.db import UnitOfWork
from app.limits import limit_messages
from app.main import create_app
from app.ratelimit import MemoryLimiter, RedisLimiter
from app.settings import Rate, Settings
from app.state import Database
from tests.conftest import delete_namespace
from tests.factories import API, PASSWORD, RegisterFactory, assert_problem, post_job, register

RATES = {
    "rate_limit_enabled": True,
    "rate_limit_login_per_ip": Rate(4, 60),
    "rate_limit_login_per_account": Rate(3, 60),
    "rate_limit_register_per_ip": Rate(3, 3600),
    "rate_limit_register_per_account": Rate(1, 3600),
    "rate_limit_refresh_per_family": Rate(2, 60),
    "rate_limit_applications_per_worker": Rate(2, 86400),
    "rate_limit_messages_per_user": Rate(2, 60),
}

Clients = Callable[[str], AsyncClient]


@pytest.fixture
def limited_settings(cache_settings: Settings) -> Settings:
    """Limits on, once with the in-process limiter and once with Redis (its own namespace per test)."""
    return cache_settings.model_copy(update=RATES)


@asynccontextmanager
async def clients_of(
    app: FastAPI, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[Clients]:
    """`from_ip(address)`: a client of `app` (its lifespan running) whose requests come from that address."""
    opened: list[AsyncClient] = []

    def from_ip(address: str) -> AsyncClient:
        http = AsyncClient(transport=ASGITransport(app=app, client=(address, 40000)), base_url="http://test")
        opened.append(http)
        return http

    async with app.router.lifespan_context(app):
        yield from_ip
        for http in opened:
            await http.aclose()


@pytest.fixture
async def from_ip(
    limited_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[Clients]:
    async with clients_of(
        create_app(limited_settings, database=Database(engine, sessionmaker)), engine, sessionmaker
    ) as factory:
        yield factory


def assert_limited(response: Any, window: int) -> None:
    body = assert_problem(response, 429)
    assert body["title"] == "Too Many Requests"
    assert 1 <= int(response.headers["retry-after"]) <= window


async def token(http: AsyncClient, email: str, password: str = PASSWORD) -> Any:
    return await http.post(f"{API}/auth/token", data={"username": email, "password": password})


async def test_login_is_limited_per_address(from_ip: Clients) -> None:
    http = from_ip("198.51.100.1")
    for n in range(4):  # four different accounts: only the address limit can bite
        assert (await token(http, f"nobody{n}@test.example")).status_code == 401
    assert_limited(await token(http, "nobody9@test.example"), 60)
    assert (await token(from_ip("198.51.100.2"), "nobody9@test.example")).status_code == 401


async def test_login_is_limited_per_account_from_any_address(from_ip: Clients) -> None:
    victim = await register(from_ip("203.0.113.250"))  # logs in once: 1 of the 3
    for n in range(2):
        assert (await token(from_ip(f"203.0.113.{n}"), victim.email, "wrong-guess-123")).status_code == 401
    limited = await token(from_ip("203.0.113.99"), victim.email.upper(), PASSWORD)  # e-mails compare lowercased
    assert_limited(limited, 60)


async def test_registration_is_limited_per_address_and_per_email(from_ip: Clients) -> None:
    http = from_ip("192.0.2.10")
    first = RegisterFactory.build(role="worker").model_dump(mode="json")
    assert (await http.post(f"{API}/auth/register", json=first)).status_code == 201
    again = await from_ip("192.0.2.11").post(f"{API}/auth/register", json=first)  # same e-mail, another address
    assert_limited(again, 3600)
    for _ in range(2):
        payload = RegisterFactory.build(role="worker").model_dump(mode="json")
        assert (await http.post(f"{API}/auth/register", json=payload)).status_code == 201
    payload = RegisterFactory.build(role="worker").model_dump(mode="json")
    assert_limited(await http.post(f"{API}/auth/register", json=payload), 3600)


async def test_refresh_is_limited_per_token_family(from_ip: Clients) -> None:
    http = from_ip("192.0.2.20")
    actor = await register(http)
    other = (await token(http, actor.email)).json()["refresh_token"]  # a second login: its own family
    refresh = actor.refresh_token
    for _ in range(2):
        response = await http.post(f"{API}/auth/refresh", json={"refresh_token": refresh})
        assert response.status_code == 200
        refresh = response.json()["refresh_token"]
    assert_limited(await http.post(f"{API}/auth/refresh", json={"refresh_token": refresh}), 60)
    assert (await http.post(f"{API}/auth/refresh", json={"refresh_token": other})).status_code == 200


async def test_applications_are_limited_per_worker_per_day(from_ip: Clients) -> None:
    http = from_ip("192.0.2.30")
    owner = await register(http, "client")
    worker, other = await register(http, "worker"), await register(from_ip("192.0.2.31"), "worker")
    jobs = [await post_job(http, owner) for _ in range(3)]
    for job in jobs[:2]:
        response = await http.post(f"{API}/jobs/{job['id']}/applications", json={}, headers=worker.headers)
        assert response.status_code == 201
    third = await http.post(f"{API}/jobs/{jobs[2]['id']}/applications", json={}, headers=worker.headers)
    assert_limited(third, 86400)
    ok = await http.post(f"{API}/jobs/{jobs[2]['id']}/applications", json={}, headers=other.headers)
    assert ok.status_code == 201


async def test_messages_are_limited_per_user(
    limited_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    """The API has no messages yet: the dependency is mounted on a stand-in route, as the real one will be."""
    app = create_app(limited_settings, database=Database(engine, sessionmaker))

    @app.post("/test-messages", status_code=204, dependencies=[Depends(limit_messages)])
    async def send_message() -> None:
        return None

    async with clients_of(app, engine, sessionmaker) as from_ip:
        http = from_ip("192.0.2.40")
        sender, other = await register(http), await register(http)
        for _ in range(2):
            assert (await http.post("/test-messages", headers=sender.headers)).status_code == 204
        assert_limited(await http.post("/test-messages", headers=sender.headers), 60)
        assert (await http.post("/test-messages", headers=other.headers)).status_code == 204
        assert_problem(await http.post("/test-messages"), 401)


async def test_the_switch_turns_every_limit_off(
    limited_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    app = create_app(
        limited_settings.model_copy(update={"rate_limit_enabled": False}), database=Database(engine, sessionmaker)
    )
    async with clients_of(app, engine, sessionmaker) as from_ip:
        http = from_ip("192.0.2.50")
        for _ in range(10):
            assert (await token(http, "same@test.example")).status_code == 401
        for _ in range(5):
            payload = RegisterFactory.build(role="worker").model_dump(mode="json")
            assert (await http.post(f"{API}/auth/register", json=payload)).status_code == 201


async def test_two_processes_share_the_counters_through_redis(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    url = os.environ.get("APP_TEST_REDIS_URL")
    if not url:
        pytest.skip("APP_TEST_REDIS_URL is not set")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    shared = settings.model_copy(update={**RATES, "redis_url": url, "cache_namespace": namespace})
    try:
        async with (
            clients_of(create_app(shared, database=Database(engine, sessionmaker)), engine, sessionmaker) as one,
            clients_of(create_app(shared, database=Database(engine, sessionmaker)), engine, sessionmaker) as two,
        ):
            for n in range(4):
                http = (one if n % 2 else two)("198.51.100.60")
                assert (await token(http, f"spread{n}@test.example")).status_code == 401
            assert_limited(await token(one("198.51.100.60"), "spread9@test.example"), 60)
    finally:
        await delete_namespace(url, namespace)


# --- the limiters themselves -----------------------------------------------------------------------


async def test_the_memory_limiter_counts_per_key_and_restarts_with_the_window() -> None:
    limiter = MemoryLimiter()
    rate = Rate(2, 1)
    assert [await limiter.hit("a", rate) for _ in range(3)] == [0, 0, 1]
    assert await limiter.hit("b", rate) == 0
    await asyncio.sleep(1.05)
    assert await limiter.hit("a", rate) == 0


async def test_the_memory_limiter_stays_bounded() -> None:
    limiter = MemoryLimiter(max_keys=10)
    for n in range(50):
        await limiter.hit(f"k{n}", Rate(1, 60))
    assert len(limiter._windows) <= 10


def hung_server() -> socket.socket:
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


async def test_a_hung_redis_lets_requests_through_within_the_time_budget() -> None:
    server = hung_server()
    port = server.getsockname()[1]
    limiter = RedisLimiter(f"redis://127.0.0.1:{port}/0", 0.05, Breaker(threshold=100))
    try:
        started = time.perf_counter()
        results = [await limiter.hit("{t}:rl:x:y", Rate(1, 60)) for _ in range(3)]
        elapsed = time.perf_counter() - started
    finally:
        await limiter.close()
        server.close()
    assert results == [0, 0, 0]  # over the rate, yet allowed: the limiter failed open
    assert elapsed < 3 * 0.05 + 1.0  # each attempt gave up after the budget (generous slack for CI)


async def test_an_unreachable_redis_lets_requests_through(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    server = hung_server()
    port = server.getsockname()[1]
    server.close()  # nothing listens there now
    broken = settings.model_copy(update={**RATES, "redis_url": f"redis://127.0.0.1:{port}/0", "cache_enabled": False})
    async with clients_of(create_app(broken, database=Database(engine, sessionmaker)), engine, sessionmaker) as from_ip:
        http = from_ip("198.51.100.70")
        for n in range(6):  # beyond the login-per-address rate
            assert (await token(http, f"open{n}@test.example")).status_code == 401


def test_rates_are_read_as_count_per_unit() -> None:
    env = Settings(environment="test", rate_limit_login_per_ip="5/15minute", rate_limit_messages_per_user="7/day")
    assert env.rate_limit_login_per_ip == Rate(5, 900)
    assert env.rate_limit_messages_per_user == Rate(7, 86400)
    assert str(Rate(5, 900)) == "5/15minute" and str(Rate(20, 60)) == "20/minute"
    with pytest.raises(ValueError):
        Settings(environment="test", rate_limit_login_per_ip="0/minute")
