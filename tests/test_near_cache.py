"""The near tier (app/cache/near.py) and its guarantee, on the real Redis of APP_TEST_REDIS_URL.

- A near HIT serves without a Redis round trip.
- An invalidation in one process reaches another process's near tier (well) within 100 ms.
- A client that wrote sees its write on its next read through any instance, even one whose broadcast
  subscriber is stalled: the write's consistency token sends that read to Redis.
- A lost subscription empties the tier and bypasses it until it is back.
- Private and viewer-scoped entries never enter it; a fill (or a Redis HIT) raced by a broadcast is not
  stored in it.

Two "processes" are two apps with their own Cache objects on one namespace of one Redis (one event loop);
the last test runs two real uvicorn processes (the fixture of tests/test_cache_resilience.py).
"""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.cache.backends import Lookup
from app.cache.consistency import TOKEN_COOKIE, TOKEN_HEADER
from app.cache.core import Cache
from app.cache.near import NearCache
from app.db import UnitOfWork
from app.deps import get_session
from app.settings import Settings
from app.state import app_state
from tests.conftest import committing_sessionmaker, delete_namespace, empty_tables, started_app
from tests.factories import API, Actor, RegisterFactory, apply, post_job, register
from tests.test_cache_resilience import CountingBackend, two_servers  # noqa: F401 - two_servers: a fixture

PROPAGATION_BUDGET = 0.1  # seconds: "everyone else sees the write within 100 ms"


@pytest.fixture
async def near_settings(settings: Settings) -> AsyncIterator[Settings]:
    """Settings on the test Redis, with a namespace of this test's own (deleted afterwards)."""
    url = os.environ.get("APP_TEST_REDIS_URL")
    if not url:
        pytest.skip("APP_TEST_REDIS_URL is not set")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield settings.model_copy(update={"redis_url": url, "cache_namespace": namespace})
    await delete_namespace(url, namespace)


@asynccontextmanager
async def instance(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """One app (one "process": its own cache and near tier), subscribed, and its client."""
    async with (
        started_app(settings, engine, sessionmaker) as app,
        AsyncClient(transport=ASGITransport(app=app), base_url="https://test") as http,
    ):
        await wait_until(lambda: near_of(app).live)
        yield app, http


def cache_of(app: FastAPI) -> Cache:
    return app_state(app).cache


def near_of(app: FastAPI) -> NearCache:
    near = cache_of(app).near
    assert near is not None, "the near tier is on by default with Redis"
    return near


def counter(app: FastAPI, name: str, **labels: str) -> float:
    """The sum of a cache counter's samples whose labels include `labels`."""
    return sum(
        sample.value
        for metric in cache_of(app).metrics.registry.collect()
        if metric.name == name
        for sample in metric.samples
        if sample.name == f"{name}_total" and labels.items() <= sample.labels.items()
    )


def gauge(app: FastAPI, name: str) -> float:
    return next(s.value for m in cache_of(app).metrics.registry.collect() for s in m.samples if s.name == name)


def near_hits(app: FastAPI) -> float:
    return counter(app, "cache_near_lookups", result="hit")


async def wait_until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


async def get(http: AsyncClient, url: str, **headers: str) -> Response:
    response = await http.get(url, headers=headers)
    assert response.status_code in (200, 304), response.text
    return response


async def rename(http: AsyncClient, owner: Actor, job_id: int, title: str) -> Response:
    response = await http.patch(f"{API}/jobs/{job_id}", json={"title": title}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response


async def warm(app: FastAPI, http: AsyncClient, url: str) -> Response:
    """Read `url` until it is served from the near tier of `app`; return that response."""
    for _ in range(3):
        before = near_hits(app)
        response = await get(http, url)
        if near_hits(app) > before:
            assert response.headers["X-Cache"] == "HIT"
            return response
    raise AssertionError(f"{url} never came from the near tier")


# --- a near HIT costs no Redis round trip ---------------------------------------------------------------


async def test_a_near_hit_makes_no_redis_round_trip(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with instance(near_settings, engine, sessionmaker) as (app, http):
        cache = cache_of(app)
        assert cache.backend is not None
        backend = cache.backend = CountingBackend(cache.backend)
        owner = await register(http, "client")
        job = await post_job(http, owner, title="Served from the process")
        url = f"{API}/jobs/{job['id']}"

        miss = await get(http, url)
        assert miss.headers["X-Cache"] == "MISS"
        assert len(near_of(app)) == 1  # the fill Redis stored went to the near tier too
        calls = backend.calls
        for _ in range(3):
            hit = await get(http, url)
            assert (hit.headers["X-Cache"], hit.content, hit.headers["ETag"]) == (
                "HIT",
                miss.content,
                miss.headers["ETag"],
            )
            assert hit.headers["Cache-Control"] == miss.headers["Cache-Control"]
        revalidated = await get(http, url, **{"If-None-Match": miss.headers["ETag"]})
        assert (revalidated.status_code, revalidated.headers["ETag"]) == (304, miss.headers["ETag"])
        assert backend.calls == calls  # not one Redis operation for four requests
        assert near_hits(app) == 4
        assert counter(app, "cache_lookups", result="hit") == 4  # near hits are hits for the hit rate

        # the gauges: what the tier holds and the last broadcast it applied
        assert gauge(app, "cache_near_entries") == 1
        assert gauge(app, "cache_near_applied_sequence") == near_of(app).applied > 0
        assert gauge(app, "cache_near_subscribed") == 1


async def test_a_near_hit_of_a_url_seen_before_is_served_before_routing_and_dependencies(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    """NearDoor: a URL the route answered before is served from the near tier without running the route's
    dependencies; a URL it has not answered (another query string) still goes through them."""
    async with instance(near_settings, engine, sessionmaker) as (app, http):
        owner = await register(http, "client")
        job = await post_job(http, owner, title="At the door")
        url = f"{API}/jobs/{job['id']}"
        served = await warm(app, http, url)

        async def no_session() -> AsyncIterator[None]:
            raise RuntimeError("the route's dependencies ran")
            yield

        app.dependency_overrides[get_session] = no_session
        try:
            hit = await get(http, url)
            assert (hit.headers["X-Cache"], hit.content, hit.headers["ETag"]) == (
                "HIT",
                served.content,
                served.headers["ETag"],
            )
            assert hit.headers["X-Request-ID"] and hit.headers["X-Content-Type-Options"] == "nosniff"
            unseen = await http.get(f"{url}?unseen=1")  # not answered before: routed, so the override runs
            assert unseen.status_code == 500
        finally:
            app.dependency_overrides.clear()

        # the door never serves what an invalidation dropped, nor past a newer consistency token
        written = await rename(http, owner, job["id"], "Renamed at the door")
        after = await get(http, url)
        assert (after.headers["X-Cache"], after.json()["title"]) != ("HIT", "At the door")
        assert after.json()["title"] == "Renamed at the door"
        await warm(app, http, url)
        hits = near_hits(app)
        newer = str(int(written.headers[TOKEN_HEADER]) + 1_000)
        assert (await get(http, url, **{TOKEN_HEADER: newer})).json()["title"] == "Renamed at the door"
        assert near_hits(app) == hits


async def test_without_redis_there_is_no_near_tier(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    assert settings.cache_near  # on by default ...
    async with started_app(settings.model_copy(update={"redis_url": ""}), engine, sessionmaker) as app:
        assert cache_of(app).near is None  # ... where its guarantee holds: it needs the Redis broadcast


# --- the broadcast ---------------------------------------------------------------------------------------


async def test_an_invalidation_in_one_process_reaches_the_other_near_tier_within_100_ms(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with (
        instance(near_settings, engine, sessionmaker) as (_a, via_a),
        instance(near_settings, engine, sessionmaker) as (b, via_b),
    ):
        owner = await register(via_a, "client")
        job = await post_job(via_a, owner, title="Before")
        url = f"{API}/jobs/{job['id']}"
        delays = []
        for round_ in range(1, 6):
            old = await warm(b, via_b, url)
            assert old.json()["title"] == ("Before" if round_ == 1 else f"After {round_ - 1}")
            entries = len(near_of(b))

            written = await rename(via_a, owner, job["id"], f"After {round_}")
            token = int(written.headers[TOKEN_HEADER])
            sent = time.perf_counter()
            await wait_until(lambda: near_of(b).applied >= token, within=1.0)  # noqa: B023 - awaited here
            delays.append(time.perf_counter() - sent)
            assert len(near_of(b)) == entries - 1  # B dropped the job's entry

            fresh = await get(via_b, url)  # no token: B's own knowledge is current now
            assert fresh.json()["title"] == f"After {round_}"
        assert max(delays) < PROPAGATION_BUDGET, delays


async def test_a_process_drops_its_own_near_entries_before_the_write_answers(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with instance(near_settings, engine, sessionmaker) as (app, http):
        near = near_of(app)
        near.apply = lambda seq, names: None  # type: ignore[method-assign] # the broadcast never arrives
        owner = await register(http, "client")
        job = await post_job(http, owner, title="Mine")
        url = f"{API}/jobs/{job['id']}"
        http.cookies.clear()  # a reader without a token (the writer's would send its reads to Redis)
        await warm(app, http, url)
        await rename(http, owner, job["id"], "Mine, renamed")
        assert len(near) == 0
        http.cookies.clear()
        response = await get(http, url)
        assert response.json()["title"] == "Mine, renamed"


# --- read-your-writes through any instance ---------------------------------------------------------------


async def test_a_writer_reads_its_write_through_an_instance_whose_subscriber_is_stalled(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with (
        instance(near_settings, engine, sessionmaker) as (_a, via_a),
        instance(near_settings, engine, sessionmaker) as (b, via_b),
    ):
        owner = await register(via_a, "client")
        job = await post_job(via_a, owner, title="Before the write")
        url = f"{API}/jobs/{job['id']}"
        await warm(b, via_b, url)

        near_b = near_of(b)
        stalled: list[tuple[int, set[str] | frozenset[str]]] = []
        apply = near_b.apply
        near_b.apply = lambda seq, names: stalled.append((seq, names))  # type: ignore[method-assign]

        written = await rename(via_a, owner, job["id"], "After the write")
        token = written.headers[TOKEN_HEADER]
        assert int(token) > near_b.applied
        cookie = written.headers["set-cookie"]
        assert cookie.startswith(f"{TOKEN_COOKIE}={token};")
        assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= {part.strip() for part in cookie.split(";")}
        await wait_until(lambda: stalled)  # the broadcast reached B, which has not applied it

        # Anybody else may still read the old answer from B's near tier for a moment ...
        assert (await get(via_b, url)).json()["title"] == "Before the write"
        # ... the writer never: with the token (header, or the cookie its client keeps) B reads Redis.
        hits = near_hits(b)
        assert (await get(via_b, url, **{TOKEN_HEADER: token})).json()["title"] == "After the write"
        assert (await get(via_b, url, Cookie=f"{TOKEN_COOKIE}={token}")).json()["title"] == "After the write"
        via_b.cookies.set(TOKEN_COOKIE, token)  # what a browser does with the Set-Cookie
        assert (await get(via_b, url)).json()["title"] == "After the write"
        assert near_hits(b) == hits
        assert counter(b, "cache_near_lookups", result="skip") >= 3
        via_b.cookies.clear()

        near_b.apply = apply  # type: ignore[method-assign]
        for seq, names in stalled:
            apply(seq, names)
        assert near_b.applied >= int(token)
        assert (await get(via_b, url)).json()["title"] == "After the write"
        # an old token (already applied) no longer keeps its client away from the near tier
        await warm(b, via_b, url)
        hits = near_hits(b)
        assert (await get(via_b, url, **{TOKEN_HEADER: token})).json()["title"] == "After the write"
        assert near_hits(b) == hits + 1


async def test_a_read_carries_no_token_and_a_write_without_invalidation_sets_none(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with instance(near_settings, engine, sessionmaker) as (_, http):
        payload = RegisterFactory.build(role="client").model_dump(mode="json")
        registered = await http.post(f"{API}/auth/register", json=payload)  # a write that invalidates nothing
        assert registered.status_code == 201, registered.text
        assert TOKEN_HEADER not in registered.headers and TOKEN_COOKIE not in registered.headers.get("set-cookie", "")
        owner = await register(http, "client")
        job = await post_job(http, owner)
        read = await get(http, f"{API}/jobs/{job['id']}")
        assert TOKEN_HEADER not in read.headers and "set-cookie" not in read.headers


# --- a lost subscription ---------------------------------------------------------------------------------


async def test_a_lost_subscription_empties_the_near_tier_and_bypasses_it_until_it_is_back(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    direct = Redis.from_url(near_settings.redis_url)
    try:
        async with (
            instance(near_settings, engine, sessionmaker) as (_a, via_a),
            instance(near_settings, engine, sessionmaker) as (b, via_b),
        ):
            owner = await register(via_a, "client")
            job = await post_job(via_a, owner, title="Before the outage")
            url = f"{API}/jobs/{job['id']}"
            await warm(b, via_b, url)
            subscriber = cache_of(b).subscriber
            assert subscriber is not None
            subscriber.retry_delay = 0.5  # long enough to watch the tier while it is down

            name = f"near:{subscriber.channel}"
            ids = [c["id"] for c in await direct.client_list(_type="pubsub") if c["name"] == name]
            assert len(ids) == 2  # A's and B's subscriptions (same namespace, same channel)
            await direct.execute_command("CLIENT", "KILL", "ID", max(ids, key=int))  # type: ignore[no-untyped-call] # B: the later
            near_b = near_of(b)
            await wait_until(lambda: not near_b.live, within=1.0)
            assert len(near_b) == 0

            # While B is deaf, A's write is broadcast to nobody in B; B reads Redis, which is current.
            await rename(via_a, owner, job["id"], "During the outage")
            hits = near_hits(b)
            for _ in range(3):
                response = await get(via_b, url)
                assert response.json()["title"] == "During the outage"
            assert response.headers["X-Cache"] == "HIT"  # from Redis
            assert near_hits(b) == hits and len(near_b) == 0  # neither served from nor stored in the tier

            await wait_until(lambda: near_b.live, within=3.0)
            assert near_b.applied >= int((await direct.get(cache_of(b).prefix + ":seq")) or 0)
            again = await warm(b, via_b, url)
            assert again.json()["title"] == "During the outage"
            await rename(via_a, owner, job["id"], "After the outage")
            await wait_until(lambda: len(near_b) == 0, within=1.0)  # the resumed subscription works
            assert (await get(via_b, url)).json()["title"] == "After the outage"
    finally:
        await direct.aclose()


# --- what never enters ----------------------------------------------------------------------------------


async def test_private_and_viewer_entries_never_enter_the_near_tier(
    near_settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with instance(near_settings, engine, sessionmaker) as (app, http):
        owner, worker = await register(http, "client"), await register(http, "worker")
        job = await post_job(http, owner)
        await apply(http, worker, job["id"])
        personal = [
            (f"{API}/users/{owner.id}", owner),  # viewer
            (f"{API}/users/{owner.id}", None),  # viewer, the public class
            (f"{API}/users/{owner.id}/jobs", owner),  # viewer
            (f"{API}/users/{worker.id}/reviews", None),  # viewer
            (f"{API}/jobs/{job['id']}/applications", owner),  # private
            (f"{API}/jobs/{job['id']}/best-applicants", owner),  # private
            (f"{API}/users/me/applications", worker),  # private
        ]
        for url, actor in personal:
            for _ in range(3):
                response = await http.get(url, headers=actor.headers if actor else {})
                assert response.status_code == 200, (url, response.text)
            assert response.headers["X-Cache"] == "HIT", url  # cached, in Redis
        near = near_of(app)
        assert len(near) == 0
        assert counter(app, "cache_near_lookups") == 0  # not even looked up
        await warm(app, http, f"{API}/jobs/{job['id']}")  # while a public entry does enter
        assert len(near) == 1


@pytest.mark.committing
@pytest.mark.parametrize("path", ["fill", "lookup"])
async def test_an_entry_raced_by_a_broadcast_is_not_stored_in_the_near_tier(
    near_settings: Settings, engine: AsyncEngine, path: str
) -> None:
    """Redis accepted the fill (or served the HIT), then a write elsewhere invalidated it and its broadcast
    reached this process before the entry went into the near tier: the entry is stale and stays out."""
    committing = committing_sessionmaker(engine)
    # The write runs inside A's backend call: give that call time (it is about the race, not timeouts).
    patient = near_settings.model_copy(update={"cache_timeout_ms": 5000})
    try:
        async with (
            instance(patient, engine, committing) as (a, via_a),
            instance(patient, engine, committing) as (_b, via_b),
        ):
            owner = await register(via_b, "client")
            job = await post_job(via_b, owner, title="Read before the write")
            url = f"{API}/jobs/{job['id']}"
            if path == "lookup":
                assert (await get(via_b, url)).headers["X-Cache"] == "MISS"  # in Redis, not in A's tier
            cache_a = cache_of(a)
            assert cache_a.backend is not None
            inner = cache_a.backend
            near_a = near_of(a)
            raced = []

            async def write_elsewhere() -> None:
                applied = near_a.applied
                await rename(via_b, owner, job["id"], "Written meanwhile")
                await wait_until(lambda: near_a.applied > applied, within=1.0)  # A heard of it
                raced.append(True)

            class Racing(CountingBackend):
                async def fill(self, *args: Any) -> bool:
                    stored = await inner.fill(*args)
                    if stored and not raced:
                        await write_elsewhere()
                    return stored

                async def lookup(self, entry_key: str, stamp_keys: list[str]) -> Lookup:
                    found = await inner.lookup(entry_key, stamp_keys)
                    if found.entry is not None and not raced:
                        await write_elsewhere()
                    return found

            cache_a.backend = Racing(inner)
            first = await get(via_a, url)
            assert raced
            assert first.json()["title"] == "Read before the write"  # read before the write: fine to answer
            assert len(near_a) == 0  # but not to keep
            after = await get(via_a, url)
            assert after.json()["title"] == "Written meanwhile"
            assert near_hits(a) == 0
    finally:
        await empty_tables(engine)


# --- two real processes ------------------------------------------------------------------------------------


def metric_value(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


@pytest.mark.committing
async def test_two_processes_the_writer_reads_its_write_and_everyone_else_within_100_ms(
    two_servers: list[str],  # noqa: F811 - the imported fixture
) -> None:
    first_url, second_url = two_servers
    async with (
        AsyncClient(base_url=first_url, timeout=10) as first,
        AsyncClient(base_url=second_url, timeout=10) as second,
    ):
        owner = await register(first, "client")
        job = await post_job(first, owner, title="Round 0")
        url = f"{API}/jobs/{job['id']}"
        delays = []
        for round_ in range(1, 6):
            for _ in range(3):  # the second process serves it from its near tier by now
                assert (await second.get(url)).json()["title"] == f"Round {round_ - 1}"
            written = await first.patch(url, json={"title": f"Round {round_}"}, headers=owner.headers)
            assert written.status_code == 200, written.text
            sent = time.perf_counter()
            token = written.headers[TOKEN_HEADER]
            # the writer, through the other process, at once
            mine = await second.get(url, headers={TOKEN_HEADER: token})
            assert mine.json()["title"] == f"Round {round_}"
            # everybody else: poll the other process without the token until the write shows
            while (await second.get(url)).json()["title"] != f"Round {round_}":
                assert time.perf_counter() - sent < 2.0
            delays.append(time.perf_counter() - sent)
        text = (await second.get("/metrics")).text
        assert metric_value(text, "cache_near_lookups_total", result="hit") > 0  # the near tier did serve
        assert metric_value(text, "cache_near_subscribed") == 1
    assert max(delays) < PROPAGATION_BUDGET, delays
