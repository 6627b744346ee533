"""The response cache's contract, run against both backends (in-process and Redis): keys, HTTP semantics,
no cross-user leaks, the startup scope check, stampede control, no stale write-back, and /metrics.

Most tests take `cache_client` / `cache_settings`, which are parametrized over [memory, redis]: the same
suite passing twice is the "one behaviour everywhere" property.
"""

import asyncio
import os
import re
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from httpx import AsyncClient, Response
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app.main
from app.cache import cached
from app.cache.decorator import api_routes, scope_errors
from app.db import UnitOfWork
from app.deps import CurrentPrincipal, OptionalPrincipal, SessionDep, get_optional_principal, get_principal
from app.main import create_app
from app.repositories.jobs import JobRepository
from app.settings import Settings
from app.state import app_state
from tests.conftest import app_client, committing_sessionmaker, empty_tables
from tests.factories import API, Actor, apply, completed_job, make_admin, post_job, register

# --- helpers ------------------------------------------------------------------------------------------

PRINCIPALS: dict[str, Callable[..., Any]] = {"optional": get_optional_principal, "required": get_principal}


def as_(actor: Actor | None, **headers: str) -> dict[str, str]:
    return {**(actor.headers if actor else {}), **headers}


def x_cache(response: Response) -> str | None:
    value: str | None = response.headers.get("x-cache")
    return value


async def miss_then_hit(http: AsyncClient, url: str, actor: Actor | None = None) -> Response:
    """GET twice: the first computes (MISS), the second is served from the cache with the same bytes."""
    first = await http.get(url, headers=as_(actor))
    assert first.status_code == 200, first.text
    assert x_cache(first) == "MISS", (url, first.headers)
    second = await http.get(url, headers=as_(actor))
    assert second.status_code == 200, second.text
    assert x_cache(second) == "HIT", (url, second.headers)
    assert second.content == first.content
    return first


def is_redis(settings: Settings) -> bool:
    return bool(settings.redis_url)


def app_of(http: AsyncClient) -> FastAPI:
    """The app behind a test client (the conftest builds it with ASGITransport)."""
    application: FastAPI = http._transport.app  # type: ignore[attr-defined]
    return application


async def metrics_text(http: AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


def samples(text: str) -> list[Any]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
    return float(sum(s.value for s in samples(text) if s.name == name and labels.items() <= s.labels.items()))


@dataclass
class World:
    """A small marketplace: a client with two open jobs (worker A applied to one, worker B to the other), a
    cancelled job and a completed one (A hired; a review each way); a stranger client; an admin."""

    owner: Actor
    stranger: Actor
    worker_a: Actor
    worker_b: Actor
    admin: Actor
    job: dict[str, Any]  # open, owner's, worker_a applied
    job_b: dict[str, Any]  # open, owner's, worker_b applied
    cancelled: dict[str, Any]
    completed: dict[str, Any]  # worker_a hired; owner reviewed worker_a (unread), worker_a reviewed owner


async def build_world(http: AsyncClient, db: AsyncSession, settings: Settings) -> World:
    owner, stranger = await register(http, "client"), await register(http, "client")
    worker_a, worker_b = await register(http, "worker"), await register(http, "worker")
    admin = await make_admin(http, db, settings)
    for actor, phone in ((owner, "+49 30 1234567"), (worker_a, "+49 30 7654321"), (worker_b, "+49 30 1111111")):
        response = await http.patch(f"{API}/users/me", json={"phone": phone}, headers=actor.headers)
        assert response.status_code == 200, response.text
    job = await post_job(http, owner, title="Paint the fence")
    job_b = await post_job(http, owner, title="Mow the lawn")
    await apply(http, worker_a, job["id"])
    await apply(http, worker_b, job_b["id"])
    cancelled = await post_job(http, owner, title="Cancelled gig")
    response = await http.post(f"{API}/jobs/{cancelled['id']}/cancel", headers=owner.headers)
    assert response.status_code == 200, response.text
    completed = await completed_job(http, owner, [worker_a], title="Finished gig")
    for reviewer, reviewee in ((owner, worker_a), (worker_a, owner)):
        response = await http.post(
            f"{API}/jobs/{completed['id']}/reviews",
            json={"reviewee_id": reviewee.id, "rating": 5, "comment": "Great."},
            headers=reviewer.headers,
        )
        assert response.status_code == 201, response.text
    return World(owner, stranger, worker_a, worker_b, admin, job, job_b, cancelled, completed)


def job_ids(response: Response) -> set[int]:
    return {item["job"]["id"] if "job" in item else item["id"] for item in response.json()["items"]}


# --- 1. keys ------------------------------------------------------------------------------------------


async def test_query_parameter_order_does_not_change_the_key(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    await post_job(cache_client, owner, pay_rate_minor=5_000)
    await post_job(cache_client, owner, pay_rate_minor=9_000)

    first = await cache_client.get(f"{API}/jobs?sort=pay&limit=5")
    assert (first.status_code, x_cache(first)) == (200, "MISS")
    again = await cache_client.get(f"{API}/jobs?limit=5&sort=pay")

    assert (again.status_code, x_cache(again)) == (200, "HIT")
    assert again.content == first.content


async def test_unknown_query_parameters_do_not_change_the_key(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    await post_job(cache_client, owner)
    first = await cache_client.get(f"{API}/jobs?limit=5")
    assert x_cache(first) == "MISS"

    for url in (f"{API}/jobs?limit=5&foo=1", f"{API}/jobs?foo=2&limit=5&utm_source=x"):
        response = await cache_client.get(url)
        assert (response.status_code, x_cache(response)) == (200, "HIT"), url
        assert response.content == first.content


async def test_the_key_holds_validated_values_not_their_spelling(cache_client: AsyncClient) -> None:
    """`limit=05` is `limit=5`, and an omitted parameter is its default."""
    owner = await register(cache_client, "client")
    await post_job(cache_client, owner)
    assert x_cache(await cache_client.get(f"{API}/jobs?limit=5")) == "MISS"
    assert x_cache(await cache_client.get(f"{API}/jobs?limit=05")) == "HIT"
    assert x_cache(await cache_client.get(f"{API}/jobs")) == "MISS"
    assert x_cache(await cache_client.get(f"{API}/jobs?limit=20&sort=newest")) == "HIT"


async def test_declared_parameter_values_change_the_key(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    fence = await post_job(cache_client, owner, title="Paint the garden fence")
    roof = await post_job(cache_client, owner, title="Repair the roof tiles")

    one = await miss_then_hit(cache_client, f"{API}/jobs?limit=1")
    two = await cache_client.get(f"{API}/jobs?limit=2")
    assert x_cache(two) == "MISS"
    assert len(one.json()["items"]) == 1 and len(two.json()["items"]) == 2

    by_fence = await miss_then_hit(cache_client, f"{API}/jobs?q=fence")
    by_roof = await cache_client.get(f"{API}/jobs?q=roof")
    assert x_cache(by_roof) == "MISS"
    assert job_ids(by_fence) == {fence["id"]} and job_ids(by_roof) == {roof["id"]}

    # path parameters are declared values too
    assert x_cache(await cache_client.get(f"{API}/jobs/{fence['id']}")) == "MISS"
    other = await cache_client.get(f"{API}/jobs/{roof['id']}")
    assert x_cache(other) == "MISS" and other.json()["id"] == roof["id"]


# --- 2. HTTP ------------------------------------------------------------------------------------------

ETAG = re.compile(r'^"[^"\s]+"$')


def cached_samples(w: World) -> list[tuple[str, str, Actor | None, str]]:
    """One URL per cached route template: (template, url, caller, scope as seen in the headers)."""
    u = f"{API}/users"
    return [
        (f"{API}/jobs", f"{API}/jobs", None, "public"),
        (f"{API}/jobs/{{job_id}}", f"{API}/jobs/{w.job['id']}", None, "public"),
        (f"{u}/{{user_id}}", f"{u}/{w.worker_a.id}", w.worker_a, "private"),
        (f"{u}/{{user_id}}/reviews", f"{u}/{w.worker_a.id}/reviews", None, "private"),
        (f"{u}/{{user_id}}/reviews", f"{u}/{w.worker_a.id}/reviews?filter=unread", w.worker_a, "private"),
        (f"{u}/{{user_id}}/reviews/given", f"{u}/{w.owner.id}/reviews/given", None, "public"),
        (f"{u}/{{user_id}}/jobs", f"{u}/{w.owner.id}/jobs", w.owner, "private"),
        (f"{API}/jobs/{{job_id}}/applications", f"{API}/jobs/{w.job['id']}/applications", w.owner, "private"),
        (f"{API}/jobs/{{job_id}}/best-applicants", f"{API}/jobs/{w.job['id']}/best-applicants", w.owner, "private"),
        (f"{u}/me/applications", f"{u}/me/applications", w.worker_a, "private"),
        (f"{API}/categories", f"{API}/categories", None, "public"),
        (f"{API}/skills", f"{API}/skills", None, "public"),
    ]


def cached_templates(application: FastAPI) -> dict[str, str]:
    """Route template -> declared scope, for every route carrying @cached."""
    return {
        route.path: route.endpoint.cache_spec.scope
        for route in api_routes(application.routes)
        if hasattr(route.endpoint, "cache_spec")
    }


async def test_every_cached_route_answers_miss_then_hit_with_its_cache_headers(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    table = cached_samples(w)
    assert {template for template, *_ in table} == set(cached_templates(app_of(cache_client)))

    for _, url, caller, scope in table:
        miss = await cache_client.get(url, headers=as_(caller))
        hit = await cache_client.get(url, headers=as_(caller))
        assert (miss.status_code, x_cache(miss), x_cache(hit)) == (200, "MISS", "HIT"), url
        assert hit.content == miss.content, url
        for name in ("etag", "cache-control", "vary", "content-type"):
            assert hit.headers.get(name) == miss.headers.get(name), (url, name)
        cache_control = {d.strip() for d in miss.headers["cache-control"].split(",")}
        vary = {v.strip().lower() for v in miss.headers.get("vary", "").split(",") if v.strip()}
        if scope == "public":
            assert "public" in cache_control and "private" not in cache_control, url
            assert "authorization" not in vary, url
        else:
            assert "private" in cache_control and "public" not in cache_control, url
            assert "authorization" in vary, url


async def test_the_etag_is_a_strong_validator_of_the_bytes_equal_in_every_app_instance(
    cache_client: AsyncClient,
    cache_settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[UnitOfWork],
) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    url = f"{API}/jobs/{job['id']}"
    first = await cache_client.get(url)
    etag = first.headers["etag"]
    assert ETAG.match(etag), etag  # quoted, and not W/

    async with app_client(cache_settings, engine, sessionmaker) as other:
        response = await other.get(url)
    # Redis: the second app shares the entry; in-process: it computes its own, and the ETag still agrees.
    assert x_cache(response) == ("HIT" if is_redis(cache_settings) else "MISS")
    assert response.content == first.content
    assert response.headers["etag"] == etag

    # ... and so does a separate Python process (a hash() or id() based tag would differ there).
    script = "import sys; from app.cache.decorator import strong_etag; print(strong_etag(sys.stdin.buffer.read()))"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdin=PIPE, stdout=PIPE, env={**os.environ, "PYTHONHASHSEED": "random"}
    )
    out, _ = await asyncio.wait_for(process.communicate(first.content), 60)
    assert process.returncode == 0
    assert out.decode().strip() == etag


IF_NONE_MATCH: dict[str, Callable[[str], str]] = {
    "exact": lambda etag: etag,
    "in a list": lambda etag: f'"nope", {etag} ,"other"',
    "star": lambda etag: "*",
    "weak form": lambda etag: f"W/{etag}",
    "weak form in a list": lambda etag: f'W/"nope", W/{etag}',
}


@pytest.mark.parametrize("form", list(IF_NONE_MATCH))
async def test_a_matching_if_none_match_is_a_304_with_the_validators(cache_client: AsyncClient, form: str) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    for url, caller in ((f"{API}/jobs/{job['id']}", None), (f"{API}/users/{owner.id}", owner)):
        fresh = await cache_client.get(url, headers=as_(caller))
        etag = fresh.headers["etag"]
        for _ in range(2):  # the entry is cached now: both are answered from it
            response = await cache_client.get(url, headers=as_(caller, **{"If-None-Match": IF_NONE_MATCH[form](etag)}))
            assert response.status_code == 304, (url, response.status_code)
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers["cache-control"] == fresh.headers["cache-control"]
            assert response.headers.get("vary") == fresh.headers.get("vary")
        if caller is not None:
            assert "Authorization" in response.headers["vary"]


async def test_a_different_etag_is_a_full_200(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    url = f"{API}/jobs/{job['id']}"
    fresh = await cache_client.get(url)
    etag = fresh.headers["etag"]
    for header in ('"0123456789abcdef"', f'W/"x{etag[1:]}', f'{etag[:-1]}x"', ""):
        response = await cache_client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 200, header
        assert response.content == fresh.content


async def test_a_304_is_based_on_the_current_bytes(cache_client: AsyncClient) -> None:
    """After a write the old ETag no longer matches: the client gets the new body."""
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner, title="Old title")
    url = f"{API}/jobs/{job['id']}"
    etag = (await cache_client.get(url)).headers["etag"]
    response = await cache_client.patch(url, json={"title": "New title"}, headers=owner.headers)
    assert response.status_code == 200, response.text

    response = await cache_client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["title"] == "New title" and response.headers["etag"] != etag


async def test_a_404_is_never_cached(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    latest = await post_job(cache_client, owner)
    missing_job = latest["id"] + 1  # ids increase: the next job posted gets this one
    missing_user = (await register(cache_client, "worker")).id + 1

    # Registering a user invalidates nothing, so a cached 404 on these would outlive the user's creation.
    urls = [f"{API}/jobs/{missing_job}", f"{API}/users/{missing_user}", f"{API}/users/{missing_user}/reviews/given"]
    for url in urls:
        for _ in range(2):
            response = await cache_client.get(url)
            assert response.status_code == 404, url
            assert x_cache(response) != "HIT", url

    created = await post_job(cache_client, owner, title="Now it exists")
    newcomer = await register(cache_client, "worker")
    assert (created["id"], newcomer.id) == (missing_job, missing_user)

    response = await cache_client.get(urls[0])
    assert response.status_code == 200 and response.json()["title"] == "Now it exists"
    for url in urls[1:]:
        response = await cache_client.get(url)
        assert response.status_code == 200, (url, response.text)


async def test_a_refusal_is_never_cached_for_the_authorized_user_or_the_other_way_round(
    cache_client: AsyncClient,
) -> None:
    owner, stranger = await register(cache_client, "client"), await register(cache_client, "client")
    worker = await register(cache_client, "worker")
    job = await post_job(cache_client, owner)
    await apply(cache_client, worker, job["id"])
    url = f"{API}/jobs/{job['id']}/applications"

    # refusals first ...
    for actor, status in ((stranger, 403), (None, 401), (stranger, 403), (None, 401)):
        response = await cache_client.get(url, headers=as_(actor))
        assert response.status_code == status and x_cache(response) != "HIT"
    # ... then the owner gets the real list, computed, then cached
    allowed = await miss_then_hit(cache_client, url, owner)
    assert [a["worker"]["id"] for a in allowed.json()["items"]] == [worker.id]
    # ... and the refusals stay refusals after the owner's list is cached
    for actor, status in ((stranger, 403), (None, 401), (worker, 403)):
        response = await cache_client.get(url, headers=as_(actor))
        assert response.status_code == status and x_cache(response) != "HIT"
        assert "items" not in response.json()

    # the same on a viewer route: the reviewee's unread list against everybody else
    unread = f"{API}/users/{worker.id}/reviews?filter=unread"
    for actor, status in ((owner, 403), (None, 401)):
        assert (await cache_client.get(unread, headers=as_(actor))).status_code == status
    await miss_then_hit(cache_client, unread, worker)
    for actor, status in ((owner, 403), (None, 401)):
        response = await cache_client.get(unread, headers=as_(actor))
        assert response.status_code == status and x_cache(response) != "HIT"


# --- 3. no cross-user leak ----------------------------------------------------------------------------


async def test_my_applications_are_only_ever_my_own(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    url = f"{API}/users/me/applications"

    mine = await miss_then_hit(cache_client, url, w.worker_a)
    assert job_ids(mine) == {w.job["id"], w.completed["id"]}

    theirs = await cache_client.get(url, headers=w.worker_b.headers)
    assert (theirs.status_code, x_cache(theirs)) == (200, "MISS")
    assert job_ids(theirs) == {w.job_b["id"]}
    assert (await cache_client.get(url)).status_code == 401
    assert (await cache_client.get(url, headers=w.owner.headers)).status_code == 403

    again = await cache_client.get(url, headers=w.worker_a.headers)
    assert (x_cache(again), again.content) == ("HIT", mine.content)


@pytest.mark.parametrize("route", ["applications", "best-applicants"])
async def test_a_jobs_applicants_are_only_for_its_owner_and_admins(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings, route: str
) -> None:
    w = await build_world(cache_client, db, settings)
    url = f"{API}/jobs/{w.job['id']}/{route}"

    def workers(response: Response) -> list[int]:
        body = response.json()
        items = body["items"] if isinstance(body, dict) else [row["application"] for row in body]
        return [a["worker"]["id"] for a in items]

    # owner first, then everybody else on the same URL
    owner_view = await miss_then_hit(cache_client, url, w.owner)
    assert workers(owner_view) == [w.worker_a.id]
    for actor, status in ((w.stranger, 403), (w.worker_a, 403), (w.worker_b, 403), (None, 401)):
        response = await cache_client.get(url, headers=as_(actor))
        assert response.status_code == status, actor
    admin_view = await cache_client.get(url, headers=w.admin.headers)
    assert (admin_view.status_code, x_cache(admin_view)) == (200, "MISS")
    assert workers(admin_view) == [w.worker_a.id]

    # and the other way round on the owner's second job: the admin warms it, the owner is not served it
    url_b = f"{API}/jobs/{w.job_b['id']}/{route}"
    assert workers(await miss_then_hit(cache_client, url_b, w.admin)) == [w.worker_b.id]
    owner_b = await cache_client.get(url_b, headers=w.owner.headers)
    assert (owner_b.status_code, x_cache(owner_b)) == (200, "MISS")
    for actor, status in ((w.stranger, 403), (None, 401)):
        assert (await cache_client.get(url_b, headers=as_(actor))).status_code == status


async def test_a_profiles_contact_details_are_only_for_the_user_and_admins(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    url = f"{API}/users/{w.worker_a.id}"

    own = await miss_then_hit(cache_client, url, w.worker_a)
    assert own.json()["email"] == w.worker_a.email and own.json()["phone"] == "+49 30 7654321"
    for actor in (w.worker_b, w.owner, None):
        other = await cache_client.get(url, headers=as_(actor))
        assert other.status_code == 200
        assert (other.json()["email"], other.json()["phone"]) == (None, None), actor
        assert w.worker_a.email not in other.text and "7654321" not in other.text
    admin_view = await cache_client.get(url, headers=w.admin.headers)
    assert admin_view.json()["email"] == w.worker_a.email

    # the other way round: anonymous first, then the user themself and an admin
    url_b = f"{API}/users/{w.worker_b.id}"
    public = await miss_then_hit(cache_client, url_b)
    assert public.json()["email"] is None
    for actor in (w.worker_b, w.admin):
        response = await cache_client.get(url_b, headers=actor.headers)
        assert response.json()["email"] == w.worker_b.email, actor
        assert response.json()["phone"] == "+49 30 1111111"
    for actor in (w.worker_a, None):
        assert (await cache_client.get(url_b, headers=as_(actor))).json()["email"] is None


async def test_a_clients_cancelled_jobs_are_only_for_them_and_admins(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    url = f"{API}/users/{w.owner.id}/jobs"
    everything = {w.job["id"], w.job_b["id"], w.cancelled["id"], w.completed["id"]}

    assert job_ids(await miss_then_hit(cache_client, url, w.owner)) == everything
    for actor in (w.stranger, w.worker_a, None):
        response = await cache_client.get(url, headers=as_(actor))
        assert job_ids(response) == everything - {w.cancelled["id"]}, actor
    assert job_ids(await cache_client.get(url, headers=w.admin.headers)) == everything

    # the other way round, filtered: anonymous sees no cancelled job, then the owner and admin do
    cancelled_url = f"{url}?status=cancelled"
    assert job_ids(await miss_then_hit(cache_client, cancelled_url)) == set()
    for actor in (w.owner, w.admin):
        assert job_ids(await cache_client.get(cancelled_url, headers=actor.headers)) == {w.cancelled["id"]}
    assert job_ids(await cache_client.get(cancelled_url, headers=w.stranger.headers)) == set()


async def test_unread_reviews_are_only_for_the_reviewee(
    cache_client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await build_world(cache_client, db, settings)
    unread = f"{API}/users/{w.worker_a.id}/reviews?filter=unread"

    own = await miss_then_hit(cache_client, unread, w.worker_a)
    assert [r["reviewer"]["id"] for r in own.json()["items"]] == [w.owner.id]
    for actor, status in ((w.owner, 403), (w.worker_b, 403), (w.admin, 403), (None, 401)):
        response = await cache_client.get(unread, headers=as_(actor))
        assert response.status_code == status, actor
        assert "items" not in response.json()

    # the unfiltered list is the same for everybody, whoever warmed it
    everyone = f"{API}/users/{w.worker_a.id}/reviews"
    shared = await miss_then_hit(cache_client, everyone, w.worker_a)
    for actor in (w.worker_b, w.admin, None):
        response = await cache_client.get(everyone, headers=as_(actor))
        assert response.status_code == 200 and response.content == shared.content

    # the other way round: the reviewee's own unread list of another user, after strangers were refused
    owner_unread = f"{API}/users/{w.owner.id}/reviews?filter=unread"
    assert (await cache_client.get(owner_unread, headers=w.worker_a.headers)).status_code == 403
    response = await cache_client.get(owner_unread, headers=w.owner.headers)
    assert (response.status_code, x_cache(response)) == (200, "MISS")
    assert [r["reviewer"]["id"] for r in response.json()["items"]] == [w.worker_a.id]


# --- 3b. the structural scope check -------------------------------------------------------------------

EXPECTED_SCOPES: dict[str, set[str]] = {
    f"{API}/jobs": {"public"},
    f"{API}/jobs/{{job_id}}": {"public"},
    f"{API}/users/{{user_id}}/reviews/given": {"public"},
    f"{API}/categories": {"public"},
    f"{API}/skills": {"public"},
    f"{API}/users/{{user_id}}": {"viewer"},
    f"{API}/users/{{user_id}}/jobs": {"viewer"},
    f"{API}/users/{{user_id}}/reviews": {"viewer"},  # public for all/recent, the user only for unread
    f"{API}/jobs/{{job_id}}/applications": {"private", "viewer"},
    f"{API}/jobs/{{job_id}}/best-applicants": {"private", "viewer"},
    f"{API}/users/me/applications": {"private"},
}


def test_the_real_app_caches_exactly_the_contracted_routes_with_consistent_scopes(settings: Settings) -> None:
    application = create_app(settings)
    assert scope_errors(application.routes, **PRINCIPALS) == []

    scopes = cached_templates(application)
    assert set(scopes) == set(EXPECTED_SCOPES)
    for path, scope in scopes.items():
        assert scope in EXPECTED_SCOPES[path], (path, scope)
    for route in api_routes(application.routes):
        if hasattr(route.endpoint, "cache_spec"):
            assert route.methods == {"GET"}, route.path


def _bad_router() -> APIRouter:
    router = APIRouter(prefix="/bad")

    def nested_guard(principal: CurrentPrincipal) -> int:
        return principal.id

    @router.get("/public-but-asks-who")
    @cached(scope="public", ttl=60, tags=lambda p, _: ["x"])
    async def public_but_asks_who(principal: CurrentPrincipal) -> dict[str, int]:
        return {"id": principal.id}

    @router.get("/public-but-asks-who-indirectly")
    @cached(scope="public", ttl=60, tags=lambda p, _: ["x"])
    async def public_but_asks_indirectly(who: Annotated[int, Depends(nested_guard)]) -> dict[str, int]:
        return {"id": who}

    @router.get("/private-but-anonymous")
    @cached(scope="private", ttl=60, tags=lambda p, _: ["x"])
    async def private_but_anonymous(session: SessionDep) -> dict[str, int]:
        return {}

    @router.get("/viewer-but-blind")
    @cached(scope="viewer", ttl=60, tags=lambda p, _: ["x"], viewer=lambda p, _: "public")
    async def viewer_but_blind(session: SessionDep) -> dict[str, int]:
        return {}

    @router.get("/fine-private")
    @cached(scope="private", ttl=60, tags=lambda p, _: ["x"])
    async def fine_private(principal: CurrentPrincipal) -> dict[str, int]:
        return {"id": principal.id}

    @router.get("/fine-viewer")
    @cached(scope="viewer", ttl=60, tags=lambda p, _: ["x"], viewer=lambda p, who: "in" if who else "out")
    async def fine_viewer(principal: OptionalPrincipal) -> dict[str, bool]:
        return {"in": principal is not None}

    @router.get("/fine-public")
    @cached(scope="public", ttl=60, tags=lambda p, _: ["x"])
    async def fine_public(session: SessionDep) -> dict[str, int]:
        return {}

    return router


def test_the_scope_check_reports_routes_that_contradict_their_dependencies() -> None:
    router = _bad_router()
    errors = scope_errors(router.routes, **PRINCIPALS)
    flagged = {e.split(":")[0] for e in errors}
    assert flagged == {
        "/bad/public-but-asks-who",
        "/bad/public-but-asks-who-indirectly",
        "/bad/private-but-anonymous",
        "/bad/viewer-but-blind",
    }, errors

    # through an app, as create_app checks it (included routers sit behind a wrapper)
    application = FastAPI()
    application.include_router(router)
    assert {e.split(":")[0] for e in scope_errors(application.routes, **PRINCIPALS)} == flagged


def test_startup_refuses_an_app_with_a_contradicting_cache_scope(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.main, "catalog", SimpleNamespace(router=_bad_router()))
    with pytest.raises(RuntimeError, match="cache scopes contradict") as refused:
        create_app(settings)
    assert "/bad/public-but-asks-who" in str(refused.value)
    assert "/bad/fine-public" not in str(refused.value)


# --- 4. stampede --------------------------------------------------------------------------------------


@asynccontextmanager
async def committing(settings: Settings, engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """A client whose requests commit on their own connections, with the given cache backend."""
    try:
        async with app_client(settings, engine, committing_sessionmaker(engine)) as http:
            yield http
    finally:
        await empty_tables(engine)


@pytest.mark.committing
async def test_a_hundred_concurrent_cold_requests_run_the_handler_once(
    cache_settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A generous operation timeout: this is about single-flight, not about a slow, shared CI machine.
    settings = cache_settings.model_copy(update={"cache_timeout_ms": 2000})
    async with committing(settings, engine) as http:
        owner = await register(http, "client")
        job = await post_job(http, owner)
        calls = 0
        detail = JobRepository.get_detail_row

        async def counted(self: JobRepository, job_id: int) -> Any:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.1)  # the leader stays in flight while all 100 lookups answer
            return await detail(self, job_id)

        monkeypatch.setattr(JobRepository, "get_detail_row", counted)
        responses = await asyncio.gather(*(http.get(f"{API}/jobs/{job['id']}") for _ in range(100)))
        text = await metrics_text(http)

    assert metric(text, "cache_backend_errors_total") == 0
    assert calls == 1
    assert [r.status_code for r in responses] == [200] * 100
    assert len({r.content for r in responses}) == 1
    assert len({r.headers["etag"] for r in responses}) == 1
    assert [x_cache(r) for r in responses].count("MISS") == 1
    assert metric(text, "cache_fills_total", route=f"{API}/jobs/{{job_id}}", outcome="stored") == 1


# --- 5. no stale write-back ---------------------------------------------------------------------------


@pytest.mark.committing
@pytest.mark.parametrize("between", ["nothing", "a read that recreates the tag's stamp"])
async def test_a_fill_computed_before_a_concurrent_write_is_not_stored(
    cache_settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, between: str
) -> None:
    """A handler paused mid-read while a write commits and invalidates: its fill is rejected as stale.

    In the second case another route with the same tag (the job's applications) runs between the write and
    the fill, so the tag's stamp exists again, with a new value: only the compare-and-set catches that.
    """
    route = f"{API}/jobs/{{job_id}}"
    async with committing(cache_settings, engine) as http:
        owner = await register(http, "client")
        job = await post_job(http, owner, title="Before the write")
        url = f"{API}/jobs/{job['id']}"
        read, release = asyncio.Event(), asyncio.Event()
        detail = JobRepository.get_detail_row

        async def paused(self: JobRepository, job_id: int) -> Any:
            row = await detail(self, job_id)
            if not read.is_set():  # only the first read pauses
                read.set()
                await release.wait()
            return row

        monkeypatch.setattr(JobRepository, "get_detail_row", paused)
        reader = asyncio.create_task(http.get(url))
        await asyncio.wait_for(read.wait(), 10)

        write = await http.patch(url, json={"title": "After the write"}, headers=owner.headers)
        assert write.status_code == 200, write.text
        if between != "nothing":
            other = await http.get(f"{url}/applications", headers=owner.headers)
            assert (other.status_code, x_cache(other)) == (200, "MISS")
        before = await metrics_text(http)
        release.set()
        old = await asyncio.wait_for(reader, 10)
        after = await metrics_text(http)

        # the paused read began before the write, so its old answer is fine; storing it is not
        assert (old.status_code, old.json()["title"]) == (200, "Before the write")
        assert metric(before, "cache_fills_total", route=route, outcome="stale") == 0
        assert metric(after, "cache_fills_total", route=route, outcome="stale") == 1
        assert metric(after, "cache_fills_total", route=route, outcome="stored") == 0

        fresh = await http.get(url)
        assert (x_cache(fresh), fresh.json()["title"]) == ("MISS", "After the write")
        again = await http.get(url)
        assert (x_cache(again), again.content) == ("HIT", fresh.content)


# --- 6. /metrics --------------------------------------------------------------------------------------


async def test_metrics_expose_lookups_fills_invalidations_and_requests_by_route_template(
    cache_client: AsyncClient,
    cache_settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[UnitOfWork],
) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    job_route, user_route = f"{API}/jobs/{{job_id}}", f"{API}/users/{{user_id}}"
    for _ in range(3):  # 1 miss, 2 hits
        assert (await cache_client.get(f"{API}/jobs/{job['id']}")).status_code == 200
    for _ in range(4):  # 1 miss, 3 hits
        assert (await cache_client.get(f"{API}/users/{owner.id}", headers=owner.headers)).status_code == 200
    assert (await cache_client.get(f"{API}/jobs/{job['id'] + 1000}")).status_code == 404  # a miss, not filled
    assert (await cache_client.get(f"{API}/no/such/{owner.id}/{owner.email}")).status_code == 404
    response = await cache_client.patch(f"{API}/jobs/{job['id']}", json={"title": "Renamed"}, headers=owner.headers)
    assert response.status_code == 200

    response = await cache_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text

    lookups = "cache_lookups_total"
    assert metric(text, lookups, route=job_route, result="hit") == 2
    assert metric(text, lookups, route=job_route, result="miss") == 2
    assert metric(text, lookups, route=user_route, result="hit") == 3
    assert metric(text, lookups, route=user_route, result="miss") == 1
    hit_rate = metric(text, lookups, route=user_route, result="hit") / (
        metric(text, lookups, route=user_route, result="hit") + metric(text, lookups, route=user_route, result="miss")
    )
    assert hit_rate == 0.75
    assert metric(text, "cache_fills_total", route=job_route, outcome="stored") == 1
    assert metric(text, "cache_fills_total", route=user_route, outcome="stored") == 1
    assert metric(text, "cache_invalidations_total", route=job_route) >= 1
    assert metric(text, "http_requests_total", route=job_route, method="GET", status="200") == 3
    assert metric(text, "http_requests_total", route=job_route, method="GET", status="404") == 1
    assert metric(text, "http_requests_total", route=job_route, method="PATCH", status="200") == 1
    assert metric(text, "http_request_duration_seconds_count", route=user_route, method="GET") == 4
    assert metric(text, "http_request_duration_seconds_bucket", route=user_route, method="GET", le="+Inf") == 4

    # route templates only: no id, no email, no raw path in any label value
    ids = {str(owner.id), str(job["id"]), str(job["id"] + 1000)}
    for sample in samples(text):
        for name, value in sample.labels.items():
            if name in ("le", "status"):  # bucket bounds and HTTP status codes are numbers by design
                continue
            assert "@" not in value and owner.email not in value, sample
            assert not any(part in ids or part.isdigit() for part in value.split("/")), sample
    assert owner.email not in text

    # bypass: with the cache switched off every lookup is a BYPASS, counted as such
    off = cache_settings.model_copy(update={"cache_enabled": False})
    async with app_client(off, engine, sessionmaker) as uncached:
        for _ in range(2):
            response = await uncached.get(f"{API}/jobs/{job['id']}")
            assert (response.status_code, x_cache(response)) == (200, "BYPASS")
        bypassed = await metrics_text(uncached)
    assert metric(bypassed, lookups, route=job_route, result="bypass") == 2
    assert metric(bypassed, lookups, route=job_route, result="hit") == 0


async def test_an_open_breaker_counts_bypasses_per_route(cache_client: AsyncClient) -> None:
    owner = await register(cache_client, "client")
    job = await post_job(cache_client, owner)
    cache = app_state(app_of(cache_client)).cache
    cache.breaker.open_until = float("inf")

    response = await cache_client.get(f"{API}/jobs/{job['id']}")
    assert (response.status_code, x_cache(response)) == (200, "BYPASS")
    text = await metrics_text(cache_client)
    assert metric(text, "cache_lookups_total", route=f"{API}/jobs/{{job_id}}", result="bypass") == 1
