"""Fail-open against a real (sick) Redis, recovery by a global flush, and two processes sharing one Redis.

A refused connection, a server that accepts and never answers, and a Redis killed mid-run must each cost
a request at most a few cache timeouts: reads answer 200 from the database (`X-Cache: BYPASS`), writes
succeed, and the breaker opens after the configured number of failures and then skips Redis entirely.
Invalidations missed while Redis was sick are answered by a global flush when it is back, so a stale
entry still sitting in Redis is never served. The Redis instances that get killed or hung are the test's
own `redis-server` processes (or a proxy in front of one); the machine's shared Redis is only used by the
two-process test, under its own key namespace.
"""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.cache import tags as t
from app.cache.backends import CacheBackend, Lookup, Snapshot
from app.cache.core import Cache
from app.db import UnitOfWork
from app.settings import Settings
from app.state import app_state
from tests.conftest import committing_sessionmaker, delete_namespace, empty_tables, free_port, free_ports, started_app
from tests.factories import API, Actor, JobFactory, post_job, register

ROOT = Path(__file__).resolve().parent.parent
REQUEST_BUDGET = 1.0  # seconds; generous for a loaded 2-core machine: a healthy read takes milliseconds,
# a sick cache adds at most two 50 ms timeouts


class CountingBackend(CacheBackend):
    """Delegates to the real backend and counts every call, to show an open breaker never reaches it."""

    def __init__(self, inner: CacheBackend) -> None:
        self.inner = inner
        self.calls = 0

    async def lookup(self, entry_key: str, stamp_keys: list[str]) -> Lookup:
        self.calls += 1
        return await self.inner.lookup(entry_key, stamp_keys)

    async def snapshot(self, stamp_keys: list[str]) -> Snapshot:
        self.calls += 1
        return await self.inner.snapshot(stamp_keys)

    async def fill(self, entry_key: str, stamp_keys: list[str], expected: bytes, payload: bytes, ttl: int) -> bool:
        self.calls += 1
        return await self.inner.fill(entry_key, stamp_keys, expected, payload, ttl)

    async def release(self, created: dict[str, bytes]) -> None:
        self.calls += 1
        await self.inner.release(created)

    async def invalidate(self, stamp_keys: list[str]) -> None:
        self.calls += 1
        await self.inner.invalidate(stamp_keys)

    async def close(self) -> None:
        await self.inner.close()


@asynccontextmanager
async def cache_app(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[tuple[FastAPI, AsyncClient, CountingBackend]]:
    """A fresh app on `settings` (its own cache), its client, and its counted cache backend."""
    async with started_app(settings, engine, sessionmaker) as app:
        cache = app_state(app).cache
        assert cache.backend is not None
        backend = cache.backend = CountingBackend(cache.backend)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            yield app, http, backend


def backend_errors(app: FastAPI) -> float:
    """The sum of `cache_backend_errors_total` over all operations, as GET /metrics reports it."""
    cache: Cache = app_state(app).cache
    return sum(
        sample.value
        for metric in cache.metrics.registry.collect()
        if metric.name == "cache_backend_errors"
        for sample in metric.samples
        if sample.name == "cache_backend_errors_total"
    )


async def timed(request: Any) -> tuple[Response, float]:
    started = time.perf_counter()
    async with asyncio.timeout(10):  # a request that hangs on a sick Redis fails the test instead of hanging it
        response = await request
    return response, time.perf_counter() - started


async def read_job(http: AsyncClient, job_id: int, x_cache: str, title: str) -> float:
    """GET the job, check it answers 200 with `title` and the expected X-Cache; return the time it took."""
    response, elapsed = await timed(http.get(f"{API}/jobs/{job_id}"))
    assert response.status_code == 200, response.text
    assert response.headers["X-Cache"] == x_cache
    assert response.json()["title"] == title
    return elapsed


async def rename_job(http: AsyncClient, owner: Actor, job_id: int, title: str) -> float:
    response, elapsed = await timed(http.patch(f"{API}/jobs/{job_id}", json={"title": title}, headers=owner.headers))
    assert response.status_code == 200, response.text
    assert response.json()["title"] == title
    return elapsed


async def wait_until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# --- sick Redis servers --------------------------------------------------------------------------------


@asynccontextmanager
async def hung_server() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections, reads everything, and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


class SwitchableProxy:
    """A TCP proxy in front of a Redis that can be switched to hang and back.

    While hung it swallows every byte in both directions, like a server that stopped answering: a command
    sent meanwhile is never executed, even later (its connection stays dead after the hang ends).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.hung = False
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [writer, up_writer]
        dead = [False]
        await asyncio.gather(
            self._pipe(reader, up_writer, dead), self._pipe(up_reader, writer, dead), return_exceptions=True
        )
        writer.close()
        up_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, dead: list[bool]) -> None:
        try:
            while data := await reader.read(65536):
                dead[0] = dead[0] or self.hung
                if not dead[0]:
                    writer.write(data)
                    await writer.drain()
        finally:
            writer.close()


# --- fail-open -------------------------------------------------------------------------------------------


async def test_a_refused_redis_connection_serves_from_the_database_and_opens_the_breaker(
    client: AsyncClient, settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, title="Refused but answered")
    sick = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with cache_app(sick, engine, sessionmaker) as (app, http, backend):
        cache: Cache = app_state(app).cache
        threshold = sick.cache_breaker_threshold
        # Every read fails at least one backend call, so `threshold` reads are enough to open the breaker.
        for _ in range(threshold):
            assert await read_job(http, job["id"], "BYPASS", "Refused but answered") < REQUEST_BUDGET
        response = await http.get(f"{API}/jobs/{job['id']}")
        assert response.json() == job  # the database's data, whole
        assert cache.breaker.is_open
        assert backend_errors(app) == threshold  # opened exactly at the threshold, and no call since

        calls = backend.calls
        for _ in range(10):
            assert await read_job(http, job["id"], "BYPASS", "Refused but answered") < REQUEST_BUDGET
        payload = JobFactory.build(title="Posted while Redis is down").model_dump(mode="json", exclude_none=True)
        created, elapsed = await timed(http.post(f"{API}/jobs", json=payload, headers=owner.headers))
        assert created.status_code == 201, created.text
        assert elapsed < REQUEST_BUDGET
        assert cache.flush_pending  # the missed invalidation is remembered
        assert await rename_job(http, owner, job["id"], "Renamed while Redis is down") < REQUEST_BUDGET
        assert await read_job(http, job["id"], "BYPASS", "Renamed while Redis is down") < REQUEST_BUDGET
        assert backend.calls == calls  # the open breaker never let a request reach Redis
        assert backend_errors(app) == threshold


async def test_a_hung_redis_costs_each_request_at_most_a_few_timeouts_and_opens_the_breaker(
    client: AsyncClient, settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner, title="Hung but answered")
    async with hung_server() as port:
        sick = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        async with cache_app(sick, engine, sessionmaker) as (app, http, backend):
            cache: Cache = app_state(app).cache
            assert cache.timeout == sick.cache_timeout_ms / 1000 <= 0.1  # ~100 ms extra at most per operation
            # A write whose invalidation hangs still succeeds, within its budget, and schedules a flush.
            elapsed = await rename_job(http, owner, job["id"], "Renamed while Redis hangs")
            assert 0.9 * cache.timeout <= elapsed < REQUEST_BUDGET  # it did wait on the hung server, boundedly
            assert cache.flush_pending
            while not cache.breaker.is_open:
                assert backend_errors(app) < sick.cache_breaker_threshold
                assert await read_job(http, job["id"], "BYPASS", "Renamed while Redis hangs") < REQUEST_BUDGET
            assert backend_errors(app) == sick.cache_breaker_threshold

            calls, started = backend.calls, time.perf_counter()
            for _ in range(20):
                assert await read_job(http, job["id"], "BYPASS", "Renamed while Redis hangs") < REQUEST_BUDGET
            # Each of these would wait two timeouts (2 s in all) if the open breaker still tried Redis.
            assert time.perf_counter() - started < 20 * cache.timeout
            assert backend.calls == calls
            assert backend_errors(app) == sick.cache_breaker_threshold


@pytest.mark.committing
async def test_concurrent_requests_against_a_hung_redis_all_answer_from_the_database_within_the_budget(
    settings: Settings, engine: AsyncEngine
) -> None:
    try:
        async with hung_server() as port:
            sick = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
            async with cache_app(sick, engine, committing_sessionmaker(engine)) as (app, http, _):
                owner = await register(http, "client")
                job = await post_job(http, owner, title="Many readers, no Redis")
                results = await asyncio.gather(*(timed(http.get(f"{API}/jobs/{job['id']}")) for _ in range(20)))
                for response, elapsed in results:
                    assert response.status_code == 200, response.text
                    assert response.json()["title"] == "Many readers, no Redis"
                    assert response.headers["X-Cache"] == "BYPASS"
                    assert elapsed < 3 * REQUEST_BUDGET  # 20 at once on a small machine: still far from a hang
                assert app_state(app).cache.breaker.is_open
    finally:
        await empty_tables(engine)


async def test_a_redis_stopped_mid_run_serves_from_the_database_and_opens_the_breaker(
    client: AsyncClient,
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[UnitOfWork],
    own_redis: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, process = own_redis
    owner = await register(client, "client")
    job = await post_job(client, owner, title="Outlives its Redis")
    healthy = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    async with cache_app(healthy, engine, sessionmaker) as (app, http, _):
        cache: Cache = app_state(app).cache
        await read_job(http, job["id"], "MISS", "Outlives its Redis")
        await read_job(http, job["id"], "HIT", "Outlives its Redis")
        assert backend_errors(app) == 0

        process.kill()
        await asyncio.to_thread(process.wait)
        near = cache.near
        assert near is not None  # on by default with Redis: its subscription ends with Redis, and it empties
        await wait_until(lambda: not near.live)
        assert len(near) == 0
        for _ in range(healthy.cache_breaker_threshold):
            assert await read_job(http, job["id"], "BYPASS", "Outlives its Redis") < REQUEST_BUDGET
        assert cache.breaker.is_open
        assert backend_errors(app) == healthy.cache_breaker_threshold
        assert await rename_job(http, owner, job["id"], "Renamed after its Redis died") < REQUEST_BUDGET
        assert cache.flush_pending
        assert await read_job(http, job["id"], "BYPASS", "Renamed after its Redis died") < REQUEST_BUDGET


async def test_after_a_hang_the_missed_invalidations_are_applied_by_a_global_flush(
    client: AsyncClient,
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[UnitOfWork],
    own_redis: tuple[int, subprocess.Popen[bytes]],
) -> None:
    redis_port, _ = own_redis
    owner = await register(client, "client")
    job = await post_job(client, owner, title="Before the hang")
    proxy = SwitchableProxy(redis_port)
    proxied = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{await proxy.start()}/0", "cache_breaker_cooldown_seconds": 0.2}
    )
    direct = Redis(host="127.0.0.1", port=redis_port)
    try:
        async with cache_app(proxied, engine, sessionmaker) as (app, http, _):
            cache: Cache = app_state(app).cache
            await read_job(http, job["id"], "MISS", "Before the hang")
            await read_job(http, job["id"], "HIT", "Before the hang")

            proxy.hung = True
            assert await rename_job(http, owner, job["id"], "After the hang") < REQUEST_BUDGET
            assert cache.flush_pending
            for _ in range(proxied.cache_breaker_threshold):  # the stale entry is never served meanwhile
                assert await read_job(http, job["id"], "BYPASS", "After the hang") < REQUEST_BUDGET
            assert cache.breaker.is_open
            # The write's invalidation never reached Redis: the pre-write entry and its stamp are still there,
            # so only the global flush stands between them and the next read.
            assert await direct.exists(cache.stamp_key(t.job(job["id"]))) == 1
            assert len([key async for key in direct.scan_iter(match=cache.entry_key("*"))]) == 1

            proxy.hung = False
            await wait_until(cache.breaker.allows)
            await read_job(http, job["id"], "MISS", "After the hang")
            assert not cache.flush_pending
            assert not cache.breaker.is_open
            await read_job(http, job["id"], "HIT", "After the hang")
    finally:
        await direct.aclose()
        await proxy.stop()


# --- two processes ---------------------------------------------------------------------------------------


def open_log(path: Path) -> IO[bytes]:
    return path.open("wb")


def read_log(directory: Path) -> str:
    return "\n".join(path.read_text(errors="replace")[-2000:] for path in sorted(directory.glob("uvicorn-*.log")))


@pytest.fixture
async def two_servers(
    database_url: str, settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[list[str]]:
    """Two uvicorn processes of the app sharing the test database and the machine's Redis (one namespace)."""
    redis_url = os.environ.get("APP_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("APP_TEST_REDIS_URL is not set")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "APP_ENVIRONMENT": "test",
        "APP_DATABASE_URL": database_url,
        "APP_REDIS_URL": redis_url,
        "APP_CACHE_NAMESPACE": namespace,
        "APP_SECRET_KEY": settings.secret_key,
        "APP_ARGON2_MEMORY_KIB": "1024",
        "APP_DB_POOL_SIZE": "5",
        "APP_RATE_LIMIT_ENABLED": "false",
    }
    ports = free_ports(2)
    uvicorn = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1"]
    logs = [open_log(tmp_path / f"uvicorn-{port}.log") for port in ports]
    processes = [
        await asyncio.create_subprocess_exec(
            *uvicorn, "--port", str(port), "--log-level", "warning", cwd=ROOT, env=env, stderr=log
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            for url, process in zip(urls, processes, strict=True):
                deadline = time.monotonic() + 30
                while True:
                    assert process.returncode is None, f"uvicorn on {url} exited: {read_log(tmp_path)}"
                    try:
                        if (await http.get(f"{url}/health/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, f"uvicorn on {url} is not ready: {read_log(tmp_path)}"
                    await asyncio.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        for log in logs:
            log.close()
        await delete_namespace(redis_url, namespace)
        await empty_tables(engine)


@pytest.mark.committing
async def test_a_write_through_one_process_is_visible_through_the_other_on_the_next_read(
    two_servers: list[str],
) -> None:
    first_url, second_url = two_servers
    async with (
        AsyncClient(base_url=first_url, timeout=10) as first,
        AsyncClient(base_url=second_url, timeout=10) as second,
    ):
        owner = await register(first, "client")
        job = await post_job(first, owner, title="Posted through the first process")
        url = f"{API}/jobs/{job['id']}"

        await read_job(second, job["id"], "MISS", "Posted through the first process")
        from_second = await second.get(url)
        assert from_second.headers["X-Cache"] == "HIT"
        from_first = await first.get(url)
        assert from_first.headers["X-Cache"] == "HIT"  # one shared cache
        assert from_first.headers["ETag"] == from_second.headers["ETag"]  # the same ETag in every process
        assert from_first.content == from_second.content
        revalidated = await first.get(url, headers={"If-None-Match": from_second.headers["ETag"]})
        assert revalidated.status_code == 304

        await rename_job(first, owner, job["id"], "Renamed through the first process")
        await read_job(second, job["id"], "MISS", "Renamed through the first process")
        renamed = await second.get(url)
        assert renamed.headers["X-Cache"] == "HIT"
        assert renamed.headers["ETag"] != from_second.headers["ETag"]
        stale = await second.get(url, headers={"If-None-Match": from_second.headers["ETag"]})
        assert stale.status_code == 200
        assert stale.json()["title"] == "Renamed through the first process"
