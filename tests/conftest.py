"""Test harness: a real PostgreSQL database per pytest process, built by `alembic upgrade head`.

- `APP_TEST_DATABASE_URL` names the server to use (CI: the machine's PostgreSQL); without it the
  embedded PostgreSQL starts in `.data/`. Each pytest process (xdist worker) creates its own database.
- Each test runs inside one outer transaction that is rolled back; the app's per-request sessions join it
  through savepoints (their commits release a savepoint), so every request still gets a fresh session and
  identity map: a missing eager load fails exactly as in production.
- Tests marked `committing` use real commits on a pool of connections (for races), and the tables are
  emptied afterwards.
"""

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from redis import Redis as SyncRedis
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.cli import migrate
from app.db import UnitOfWork, create_engine, create_sessionmaker
from app.embedded import embedded_server_url
from app.main import create_app
from app.repositories.payments import EXTERNAL_FUNDING, PLATFORM_FEES
from app.settings import Settings
from app.state import Database

API = "/api/v1"


def _server_url() -> str:
    url = os.environ.get("APP_TEST_DATABASE_URL")
    if url:
        return Settings(environment="test", database_url=url).database_url
    from pathlib import Path

    return embedded_server_url(Path(__file__).resolve().parent.parent / ".data", "postgres")


def _asyncpg_dsn(url: str) -> dict[str, Any]:
    u = make_url(url)
    return {
        "user": u.username,
        "password": u.password,
        "host": u.query.get("host") or u.host,
        "port": u.port,
        "database": u.database,
    }


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, migrated database on the server of `server_url`, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(**{**_asyncpg_dsn(server_url), "database": "postgres"})
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """This pytest process's database (one per xdist worker)."""
    with scratch_database(_server_url(), f"marketplace_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-0123456789abcdef0123456789",
        argon2_memory_kib=1024,
        db_pool_size=20,
        # The suite makes many accounts from one address; tests/test_ratelimit.py turns the limits on.
        rate_limit_enabled=False,
    )


@dataclass
class StatementCounter:
    """Counts SQL statements sent on the engine (for query-budget assertions)."""

    statements: list[str] = field(default_factory=list)
    enabled: bool = False

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.enabled and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.statements.append(statement)

    def count(self) -> int:
        return len(self.statements)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[UnitOfWork]:
    return create_sessionmaker(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
async def db(sessionmaker: async_sessionmaker[UnitOfWork]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data directly, inside the test's transaction."""
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter)


@asynccontextmanager
async def started_app(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[FastAPI]:
    """A fresh app (its own cache) whose sessions come from `sessionmaker`, its lifespan running."""
    app = create_app(settings, database=Database(engine, sessionmaker))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def app_client(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    """An httpx client on a started app whose sessions come from `sessionmaker`."""
    async with (
        started_app(settings, engine, sessionmaker) as app,
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http


@asynccontextmanager
async def own_app_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """A client on an app that builds its own engine from `settings` and really commits (for tests whose
    other processes, servers or workers, must see the rows)."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http


@pytest.fixture
async def client(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    async with app_client(settings, engine, sessionmaker) as http:
        yield http


def committing_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[UnitOfWork]:
    return create_sessionmaker(engine)


@pytest.fixture
async def committing_client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """A client whose requests really commit, each on its own pooled connection (for concurrency tests)."""
    async with app_client(settings, engine, committing_sessionmaker(engine)) as http:
        yield http
    await empty_tables(engine)


@pytest.fixture(params=["memory", "redis"])
async def cache_settings(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Settings]:
    """The settings once per cache backend: in-process, and the real Redis of APP_TEST_REDIS_URL.

    Each test gets its own key namespace in Redis (so parallel workers never share entries); its keys
    are deleted afterwards. Without APP_TEST_REDIS_URL the Redis variant is skipped (CI always sets it).
    """
    if request.param == "memory":
        yield settings
        return
    url = os.environ.get("APP_TEST_REDIS_URL")
    if not url:
        pytest.skip("APP_TEST_REDIS_URL is not set")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield settings.model_copy(update={"redis_url": url, "cache_namespace": namespace})
    await delete_namespace(url, namespace)


@pytest.fixture
async def cache_client(
    cache_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    """Like `client`, once per cache backend (in-process and Redis)."""
    async with app_client(cache_settings, engine, sessionmaker) as http:
        yield http


async def delete_namespace(url: str, namespace: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    keys = [k async for k in redis.scan_iter(match=f"{{{namespace}}}:*", count=1000)]
    if keys:
        await redis.unlink(*keys)
    await redis.aclose()


async def empty_tables(engine: AsyncEngine) -> None:
    """Undo what committing tests wrote: every table but the reference data."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE users, jobs, applications, payments, ledger_entries, reviews, refresh_tokens,"
                " idempotency_keys, user_skills, job_skills RESTART IDENTITY CASCADE"
            )
        )
        await conn.execute(
            text("INSERT INTO accounts (code, kind) VALUES (:e, 'external'), (:p, 'platform')"),
            {"e": EXTERNAL_FUNDING, "p": PLATFORM_FEES},
        )


def free_ports(count: int) -> list[int]:
    """Distinct local ports nothing listens on (bound together, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


@pytest.fixture
def own_redis() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A throwaway redis-server of this test (the shared one is never stopped or hung)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        probe = SyncRedis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except OSError as exc:  # redis' ConnectionError is an OSError too
                assert time.monotonic() < deadline, f"redis-server did not start: {exc}"
                time.sleep(0.02)
        probe.close()
        yield port, process
    finally:
        process.kill()
        process.wait()
