"""Cache hygiene: keys from validated values, nothing left behind by a miss that stores nothing, every key
expiring, correctness under eviction, and one namespace per database (docs/caching.md, issue #9).

Keys are counted in the test's own namespace (Redis) or in the in-process backend's two tables.
"""

import os
import random
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from prometheus_client import CollectorRegistry
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.cache import Metrics, namespace_of
from app.cache import tags as t
from app.cache.backends import (
    SEQUENCE_TTL_SECONDS,
    STAMP_PENDING_SECONDS,
    CacheBackend,
    MemoryBackend,
    RedisBackend,
    sequence_key,
)
from app.cache.core import Cache
from app.db import UnitOfWork, create_engine, create_sessionmaker, database_identity
from app.settings import Settings
from app.state import app_state
from tests.conftest import _server_url, app_client, delete_namespace, scratch_database, started_app
from tests.factories import API, Actor, post_job, register
from tests.test_cache_contract import build_world, cached_samples, x_cache

REDIS_URL_ENV = "APP_TEST_REDIS_URL"


def app_of(http: AsyncClient) -> FastAPI:
    application: FastAPI = http._transport.app  # type: ignore[attr-defined]
    return application


async def cache_keys(http: AsyncClient) -> dict[str, int]:
    """Every entry and stamp the app's cache holds -> its remaining TTL in seconds (the invalidation
    sequence counter, which lives a day, is checked on its own)."""
    cache = app_state(app_of(http)).cache
    backend = cache.backend
    if isinstance(backend, MemoryBackend):
        now = time.monotonic()
        tables = (backend._entries, backend._stamps)
        return {key: round(expires - now) for table in tables for key, (expires, _) in table.items() if expires > now}
    assert isinstance(backend, RedisBackend)
    keys = [k async for k in backend.client.scan_iter(match=f"{cache.prefix}:[et]:*", count=1000)]
    return {key.decode(): int(await backend.client.ttl(key)) for key in keys}


async def cache_client_keys(http: AsyncClient) -> set[str]:
    return set(await cache_keys(http))


def stamps(keys: dict[str, int]) -> dict[str, int]:
    return {key: ttl for key, ttl in keys.items() if ":t:" in key}


def entries(keys: dict[str, int]) -> dict[str, int]:
    return {key: ttl for key, ttl in keys.items() if ":e:" in key}


def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        pytest.skip(f"{REDIS_URL_ENV} is not set")
    return url


# --- keys and tags from validated values ------------------------------------------------------------------


async def test_a_path_id_and_its_zero_padded_spelling_are_one_entry(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner, title="Padded")
    plain, padded = f"{API}/jobs/{job['id']}", f"{API}/jobs/0{job['id']}"

    first = await cache_client.get(plain)
    assert (first.status_code, x_cache(first)) == (200, "MISS")
    held = await cache_client_keys(cache_client)
    for url in (padded, f"{API}/jobs/00{job['id']}", plain):
        response = await cache_client.get(url)
        assert (response.status_code, x_cache(response), response.content) == (200, "HIT", first.content), url
    assert await cache_client_keys(cache_client) == held  # no second entry, no second stamp

    # a path id that a loader validates (the owner's applicant pages) keys the same way
    applicants = f"{API}/jobs/{job['id']}/applications"
    assert x_cache(await cache_client.get(applicants, headers=owner.headers)) == "MISS"
    again = await cache_client.get(f"{API}/jobs/0{job['id']}/applications", headers=owner.headers)
    assert (again.status_code, x_cache(again)) == (200, "HIT")
    assert x_cache(await cache_client.get(f"{API}/users/0{owner.id}")) == "MISS"
    assert x_cache(await cache_client.get(f"{API}/users/{owner.id}")) == "HIT"

    # the tag is the validated id too: a write busts the entry however the read spelled the id
    renamed = await cache_client.patch(plain, json={"title": "Renamed"}, headers=owner.headers)
    assert renamed.status_code == 200, renamed.text
    response = await cache_client.get(padded)
    assert (x_cache(response), response.json()["title"]) == ("MISS", "Renamed")


# --- a miss that stores nothing leaves nothing behind -----------------------------------------------------


def refused_reads(missing: int) -> list[str]:
    """Cached routes answered 404 (the id does not exist) or 422 (raised by the handler, after the snapshot)."""
    u = f"{API}/users/{missing}"
    return [
        f"{API}/jobs/{missing}",
        u,
        f"{u}/reviews",
        f"{u}/reviews/given",
        f"{u}/jobs",
        f"{API}/jobs?sort=distance",  # needs near: the handler refuses it
    ]


async def test_anonymous_404s_and_refusals_on_cached_routes_leave_no_key(cache_client: AsyncClient) -> None:
    assert await cache_keys(cache_client) == {}  # a fresh namespace
    for url in refused_reads(999_999_999):
        for _ in range(3):
            response = await cache_client.get(url)
            assert response.status_code in (404, 422), (url, response.text)
    assert await cache_keys(cache_client) == {}

    # with entries and stamps already there, refusals neither add keys nor take any away
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    for url in (f"{API}/jobs", f"{API}/jobs/{job['id']}", f"{API}/users/{owner.id}"):
        assert (await cache_client.get(url)).status_code == 200
    held = await cache_keys(cache_client)
    assert len(entries(held)) == 3
    for url in refused_reads(job["id"] + 1000):
        assert (await cache_client.get(url)).status_code in (404, 422), url
    assert set(await cache_keys(cache_client)) == set(held)
    assert x_cache(await cache_client.get(f"{API}/jobs/{job['id']}")) == "HIT"


@pytest.fixture(params=["memory", "redis"])
async def bare_cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    """A Cache on each backend, under a namespace of its own (deleted afterwards)."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    backend: CacheBackend
    if request.param == "memory":
        backend = MemoryBackend()
    else:
        url = redis_url()
        backend = RedisBackend(url, 1.0)
    cache = Cache(backend, Metrics(CollectorRegistry()), namespace=namespace, timeout=1.0)
    yield cache
    await cache.close()
    if request.param == "redis":
        await delete_namespace(url, namespace)


async def bare_keys(cache: Cache) -> set[str]:
    backend = cache.backend
    if isinstance(backend, MemoryBackend):
        return set(backend._entries) | set(backend._stamps)
    assert isinstance(backend, RedisBackend)
    return {k.decode() async for k in backend.client.scan_iter(match=f"{cache.prefix}:*", count=1000)}


async def test_a_handler_error_and_a_stale_fill_leave_no_key(bare_cache: Cache) -> None:
    cache = bare_cache
    stamp_keys = [cache.stamp_key(t.job(7)), cache.stamp_key(t.ALL)]
    entry = cache.entry_key("one")

    async def fails() -> bytes:
        raise RuntimeError("the handler broke")

    with pytest.raises(RuntimeError):
        await cache.compute("/r", entry, stamp_keys, 60, fails)
    assert await bare_keys(cache) == set()

    async def raced() -> bytes:  # a write commits and invalidates while the handler reads
        await cache.invalidate("/w", {t.job(7)})
        return b"old"

    assert await cache.compute("/r", entry, stamp_keys, 60, raced) == ("miss", b"old")
    assert await bare_keys(cache) == set()

    # a stamp that was there before the miss (other entries use it) is kept
    async def body() -> bytes:
        return b"kept"

    assert await cache.compute("/r", cache.entry_key("other"), [cache.stamp_key(t.ALL)], 60, body) == ("miss", b"kept")
    held = await bare_keys(cache)
    with pytest.raises(RuntimeError):
        await cache.compute("/r", entry, stamp_keys, 60, fails)
    assert await bare_keys(cache) == held


# --- every key expires ---------------------------------------------------------------------------------


async def test_distinct_searches_leave_only_entries_with_ttls(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    await post_job(cache_client, owner, title="Paint the fence")
    for i in range(25):
        response = await cache_client.get(f"{API}/jobs", params={"q": f"word{i}"})
        assert (response.status_code, x_cache(response)) == (200, "MISS")
    keys = await cache_keys(cache_client)
    prefix = app_state(app_of(cache_client)).cache.prefix
    # stamps: the search pages' one tag and the global one, whatever the number of searches
    assert set(stamps(keys)) == {f"{prefix}:t:{t.JOBS_LIST}", f"{prefix}:t:{t.ALL}"}
    assert len(entries(keys)) == 25
    assert all(0 < ttl <= 60 for ttl in keys.values()), keys  # search pages live 60 s, and so do their stamps


async def test_every_key_expires_and_no_stamp_outlives_its_longest_entry(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    for _, url, actor, _ in cached_samples(w):
        response = await cache_client.get(url, headers=actor.headers if actor else {})
        assert response.status_code == 200, (url, response.text)
    keys = await cache_keys(cache_client)
    assert len(entries(keys)) == len(cached_samples(w))
    assert all(ttl > 0 for ttl in keys.values()), keys
    assert max(stamps(keys).values()) <= 3600  # the longest entry TTL (the catalog)
    prefix = app_state(app_of(cache_client)).cache.prefix
    assert keys[f"{prefix}:t:{t.job(w.job['id'])}"] <= 300  # GET /jobs/{id}: 300 s
    assert keys[f"{prefix}:t:{t.user_applications(w.worker_a.id)}"] <= 60  # GET /users/me/applications: 60 s
    backend = app_state(app_of(cache_client)).cache.backend
    if isinstance(backend, RedisBackend):  # the invalidation sequence counter expires a day after its last use
        assert 0 < await backend.client.ttl(sequence_key(prefix)) <= SEQUENCE_TTL_SECONDS


async def test_a_stamp_made_by_a_miss_expires_on_its_own(bare_cache: Cache) -> None:
    """If the process dies between the snapshot and the fill, the new stamps still go."""
    assert cache_backend(bare_cache) is not None
    stamp_key = bare_cache.stamp_key(t.job(1))
    snapshot = await cache_backend(bare_cache).snapshot([stamp_key])
    assert set(snapshot.created) == {stamp_key}
    backend = cache_backend(bare_cache)
    if isinstance(backend, RedisBackend):
        assert 0 < await backend.client.ttl(stamp_key) <= STAMP_PENDING_SECONDS
    else:
        assert isinstance(backend, MemoryBackend)
        assert backend._stamps[stamp_key][0] - time.monotonic() <= STAMP_PENDING_SECONDS


def cache_backend(cache: Cache) -> CacheBackend:
    assert cache.backend is not None
    return cache.backend


# --- correct under eviction ----------------------------------------------------------------------------


async def read_all(http: AsyncClient, owner: Actor, job_id: int) -> list[Response]:
    return [
        await http.get(f"{API}/jobs/{job_id}"),
        await http.get(f"{API}/jobs", params={"q": "fence"}),
        await http.get(f"{API}/users/{owner.id}/jobs"),
        await http.get(f"{API}/users/{owner.id}/jobs", headers=owner.headers),
    ]


def titles(responses: list[Response]) -> set[str]:
    found = set()
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        found |= {item["title"] for item in body["items"]} if "items" in body else {body["title"]}
    return found


@pytest.mark.parametrize("cache_settings", ["redis"], indirect=True)  # eviction is Redis's
async def test_deleted_stamps_and_entries_never_serve_a_stale_read(cache_client: AsyncClient) -> None:
    """Eviction drops any key at any moment: delete random stamps and entries between writes and reads."""
    backend = app_state(app_of(cache_client)).cache.backend
    assert isinstance(backend, RedisBackend)
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner, title="fence 0")
    rng = random.Random(9)
    hits = deleted = 0
    for round_ in range(1, 41):
        for _ in range(2):  # the second read of each round can HIT unless its keys were evicted
            responses = await read_all(cache_client, owner, job["id"])
            assert titles(responses) == {f"fence {round_ - 1}"}, round_
            hits += sum(x_cache(r) == "HIT" for r in responses)
            keys = list(await cache_keys(cache_client))
            victims = rng.sample(keys, k=rng.randint(0, len(keys)))
            if victims:
                deleted += await backend.client.delete(*victims)
        renamed = await cache_client.patch(
            f"{API}/jobs/{job['id']}", json={"title": f"fence {round_}"}, headers=owner.headers
        )
        assert renamed.status_code == 200, renamed.text
    assert hits > 20 and deleted > 50, (hits, deleted)  # the run really mixed hits and evictions


@pytest.fixture
def small_redis(own_redis: tuple[int, subprocess.Popen[bytes]]) -> str:
    """The test's own redis-server with a small `maxmemory` and `allkeys-lru`, so filling the cache evicts."""
    port, _ = own_redis
    probe = SyncRedis(host="127.0.0.1", port=port, socket_timeout=1)
    used = int(probe.info("memory")["used_memory"])
    # 600 kB above an idle server: the app's connections and scripts take ~200 kB once they run (the
    # invalidation script's first PUBLISH alone ~120 kB, measured on Redis 7.0), the rest is for entries.
    probe.config_set("maxmemory", used + 600_000)
    probe.config_set("maxmemory-policy", "allkeys-lru")
    probe.close()
    return f"redis://127.0.0.1:{port}/0"


async def test_a_redis_evicting_under_maxmemory_serves_no_stale_read(
    small_redis: str, settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    shared = settings.model_copy(update={"redis_url": small_redis, "cache_namespace": "evict"})
    hits = 0
    async with app_client(shared, engine, sessionmaker) as http:
        owner = await register(http, "client")
        job = await post_job(http, owner, title="fence 0", description="x" * 4000)
        for extra in range(5):
            await post_job(http, owner, title=f"fence extra {extra}", description="y" * 4000)
        for round_ in range(1, 11):
            current, stale = f"fence {round_ - 1}", {f"fence {k}" for k in range(round_ - 1)}
            # many distinct pages, each a few tens of kB: more than maxmemory holds, so keys are evicted
            for i in range(20):
                await http.get(f"{API}/jobs/{job['id']}")  # kept hot: LRU keeps it, so some reads HIT
                response = await http.get(f"{API}/jobs", params={"q": "fence", "limit": 20 - (i % 19)})
                assert response.status_code == 200
                assert not {item["title"] for item in response.json()["items"]} & stale, round_
                await http.get(f"{API}/jobs", params={"q": f"fence {i} {round_}"})
            detail = await http.get(f"{API}/jobs/{job['id']}")
            assert detail.json()["title"] == current, round_
            hits += x_cache(detail) == "HIT"
            renamed = await http.patch(
                f"{API}/jobs/{job['id']}", json={"title": f"fence {round_}"}, headers=owner.headers
            )
            assert renamed.status_code == 200, renamed.text
        probe = Redis.from_url(small_redis)
        evicted = int((await probe.info("stats"))["evicted_keys"])
        await probe.aclose()
    assert evicted > 100, evicted  # the cache really ran under eviction
    assert hits >= 3, hits  # and still served entries


# --- one namespace per database -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_databases() -> Iterator[tuple[str, str]]:
    with (
        scratch_database(_server_url(), "marketplace_ns_a") as one,
        scratch_database(_server_url(), "marketplace_ns_b") as other,
    ):
        yield one, other


@asynccontextmanager
async def app_on(settings: Settings, url: str) -> AsyncIterator[AsyncClient]:
    engine = create_engine(url, settings)
    try:
        async with (
            started_app(settings, engine, create_sessionmaker(engine)) as app,
            AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
        ):
            yield http
    finally:
        await engine.dispose()


async def test_two_databases_sharing_one_redis_never_share_entries(
    two_databases: tuple[str, str], settings: Settings
) -> None:
    """The finding: user 3 of one database shown as user 3 of the other (both used the default namespace)."""
    url = redis_url()
    shared = settings.model_copy(update={"redis_url": url, "cache_namespace": ""})  # the default
    one, other = two_databases
    namespaces = []
    try:
        async with app_on(shared, one) as a, app_on(shared, other) as b, app_on(shared, one) as a_again:
            ada = await register(a, "worker", full_name="Ada of one")
            bob = await register(b, "worker", full_name="Bob of other")
            assert ada.id == bob.id  # the same id in two databases
            profile = f"{API}/users/{ada.id}"
            assert [x_cache(await a.get(profile)) for _ in range(2)] == ["MISS", "HIT"]

            answer = await b.get(profile)
            assert (x_cache(answer), answer.json()["full_name"]) == ("MISS", "Bob of other")
            # the same database keeps sharing: a second app on it reads the first one's entry
            again = await a_again.get(profile)
            assert (x_cache(again), again.json()["full_name"]) == ("HIT", "Ada of one")

            namespaces = [app_state(app_of(http)).settings.cache_namespace for http in (a, b, a_again)]
            engine = create_engine(one, settings)
            try:
                assert namespaces[0] == namespaces[2] == namespace_of(await database_identity(engine))
            finally:
                await engine.dispose()
            assert namespaces[0] != namespaces[1]
            # the limiter's counters follow the same namespace (app/limits.py keys by it)
            assert app_state(app_of(a)).cache.prefix == "{" + namespaces[0] + "}"
    finally:
        for namespace in namespaces:
            await delete_namespace(url, namespace)
