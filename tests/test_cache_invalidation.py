"""Read-your-writes for everybody: every write busts exactly the cached reads it affects, before it answers.

`CASES` is the table: one row per write endpoint (by operation id, several rows where one write has several
shapes). A row arranges a scenario, names the write, the reads the write must invalidate (each with a check
that is false on the old body and true on the new one) and reads it must leave cached. The test warms every
read, performs the write, and checks the very next read of each, with no sleep in between: an affected read
is a MISS showing the new data, an unaffected one is still a HIT with the same bytes.

Reads that share a coarse tag with an affected read (a job's applicant list when only its title changed) may
be invalidated too; rows list them in neither column. Adding a write endpoint means adding a row here:
`test_every_write_has_a_row` fails until it has one.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.cache.decorator import api_routes
from app.db import UnitOfWork
from app.main import create_app
from app.models import User
from app.models.enums import AccountTokenPurpose
from app.security import hash_password
from app.services.accounts import AccountService
from app.settings import Settings
from app.state import AppState, app_state
from tests.conftest import started_app
from tests.factories import (
    API,
    PASSWORD,
    Actor,
    RegisterFactory,
    account_link_token,
    apply,
    completed_job,
    fund,
    hire,
    login,
    post_job,
    register,
)
from tests.shiftwork import AT_BERLIN, schedule

BERLIN = {"city": "Berlin", "lat": 52.52, "lng": 13.405}

# --- the scenario a row arranges --------------------------------------------------------------------------


@dataclass
class World:
    """The actors and ids of a scenario; read paths and writes name them, e.g. "/jobs/{j}", "{a_w}"."""

    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, actor: Actor) -> Actor:
        self.actors[name] = actor
        self.ids[name] = actor.id
        return actor

    def headers(self, who: str | None) -> dict[str, str]:
        return self.actors[who].headers if who else {}

    def url(self, path: str) -> str:
        return API + path.format(**self.ids)


Arrange = Callable[[AsyncClient], Awaitable[World]]
Write = Callable[[AsyncClient, World], Awaitable[Response]]
Check = Callable[[Any, World], Any]


@dataclass(frozen=True)
class Read:
    """A cached GET as `who` (an actor's name; None = anonymous). `shows` is for affected reads."""

    path: str
    who: str | None = None
    shows: Check | None = None

    def __str__(self) -> str:
        return f"GET {self.path} as {self.who or 'anonymous'}"


@dataclass(frozen=True)
class Case:
    name: str
    op: str  # the write's operation id
    arrange: Arrange
    write: Write
    affected: tuple[Read, ...]
    unaffected: tuple[Read, ...]
    xfail: str | None = None  # a known bug outside the cache package: the row must fail until it is fixed


async def bystander(http: AsyncClient) -> World:
    """Another client's job with its own applicant: no row's write may touch any of it."""
    w = World()
    c2 = w.add("c2", await register(http, "client", full_name="Bystander Client"))
    b = w.add("b", await register(http, "worker", full_name="Bystander Worker"))
    w.ids["k"] = (await post_job(http, c2, title="Bystander listing"))["id"]
    await apply(http, b, w.ids["k"])
    return w


BYSTANDER = (
    Read("/jobs/{k}"),
    Read("/jobs/{k}/applications", "c2"),
    Read("/jobs/{k}/best-applicants", "c2"),
    Read("/users/{c2}"),
    Read("/users/{c2}/jobs"),
    Read("/users/{b}"),
    Read("/users/me/applications", "b"),
    Read("/categories"),
    Read("/skills"),
)


async def open_job(
    http: AsyncClient,
    *,
    workers: tuple[str, ...] = ("w",),
    applied: tuple[str, ...] = ("w",),
    openings: int = 1,
    funded: bool = False,
) -> World:
    """Client `c` with open job `j` (skill: plumbing); `workers` registered, `applied` applied (`a_<name>`)."""
    w = await bystander(http)
    c = w.add("c", await register(http, "client", full_name="Carla Client"))
    posted = await post_job(http, c, title="Original listing", openings=openings)
    w.ids["j"], w.ids["cost"] = posted["id"], posted["total_cost_minor"]
    if funded:
        await fund(http, c, posted)
    for name in workers:
        worker = w.add(name, await register(http, "worker", full_name=f"Worker {name.upper()}"))
        if name in applied:
            w.ids[f"a_{name}"] = (await apply(http, worker, posted["id"]))["id"]
    return w


async def hired_job(http: AsyncClient) -> World:
    """Job `j` funded and in progress with worker `w` hired; `w` also applied to the client's open job `j2`."""
    w = await open_job(http, funded=True)
    await hire(http, w.actors["c"], w.ids["a_w"])
    w.ids["j2"] = (await post_job(http, w.actors["c"], title="Second listing"))["id"]
    w.ids["a2_w"] = (await apply(http, w.actors["w"], w.ids["j2"]))["id"]
    return w


async def after_job(http: AsyncClient, *, reviews: tuple[tuple[str, str], ...] = ()) -> World:
    """Job `j` completed by client `c` and worker `w`, with `reviews` (reviewer, reviewee) as `r_<x>_<y>`;
    `c` has open job `j2` in Berlin (skill: plumbing) that `w` applied to (`a2_w`)."""
    w = await bystander(http)
    c = w.add("c", await register(http, "client", full_name="Carla Client"))
    worker = w.add("w", await register(http, "worker", full_name="Walter Worker"))
    w.ids["j"] = (await completed_job(http, c, [worker], title="Finished listing"))["id"]
    for reviewer, reviewee in reviews:
        response = await http.post(
            w.url("/jobs/{j}/reviews"),
            json={"reviewee_id": w.ids[reviewee], "rating": 3, "comment": "fine"},
            headers=w.headers(reviewer),
        )
        assert response.status_code == 201, response.text
        w.ids[f"r_{reviewer}_{reviewee}"] = response.json()["id"]
    job2 = await post_job(http, c, title="Open listing", location=BERLIN)
    w.ids["j2"] = job2["id"]
    w.ids["a2_w"] = (await apply(http, worker, job2["id"]))["id"]
    return w


marketplace = partial(after_job, reviews=(("c", "w"),))

# Every cached read of the `marketplace` world (and the bystander's): for writes that must change nothing.
EVERYTHING = (
    Read("/jobs"),
    Read("/jobs/{j}"),
    Read("/jobs/{j2}"),
    Read("/jobs/{j}/applications", "c"),
    Read("/jobs/{j2}/applications", "c"),
    Read("/jobs/{j2}/best-applicants", "c"),
    Read("/users/{c}"),
    Read("/users/{c}", "c"),
    Read("/users/{w}"),
    Read("/users/{c}/jobs"),
    Read("/users/{c}/jobs", "c"),
    Read("/users/{w}/reviews"),
    Read("/users/{w}/reviews?filter=unread", "w"),
    Read("/users/{w}/reviews/given"),
    Read("/users/{c}/reviews"),
    Read("/users/{c}/reviews/given"),
    Read("/users/me/applications", "w"),
    *BYSTANDER,
)

# --- writes --------------------------------------------------------------------------------------------------

Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None


def send(method: str, path: str, who: str | None, body: Body = None, **headers: str) -> Write:
    async def write(http: AsyncClient, w: World) -> Response:
        payload = body(w) if callable(body) else body
        return await http.request(method, w.url(path), json=payload, headers={**w.headers(who), **headers})

    return write


post = partial(send, "POST")
patch = partial(send, "PATCH")


async def register_someone(http: AsyncClient, w: World) -> Response:
    return await http.post(f"{API}/auth/register", json=RegisterFactory.build(role="worker").model_dump(mode="json"))


async def log_in_again(http: AsyncClient, w: World) -> Response:
    return await http.post(f"{API}/auth/token", data={"username": w.actors["w"].email, "password": PASSWORD})


def refresh_token_of(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"refresh_token": w.actors[name].refresh_token}


def with_session_cookie(path: str) -> Write:
    """Sign `w` in through the cookie endpoint, then call `path` with the session cookie."""

    async def write(http: AsyncClient, w: World) -> Response:
        login = {"email": w.actors["w"].email, "password": PASSWORD}
        signed_in = await http.post(f"{API}/auth/session", json=login)
        assert signed_in.status_code == 200, signed_in.text
        cookie = signed_in.headers["set-cookie"].split(";")[0]
        return await http.post(f"{API}{path}", json={}, headers={"Cookie": cookie})

    return write


def email_of(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"email": w.actors[name].email}


async def read_first_notification(http: AsyncClient, w: World) -> Response:
    listed = await http.get(f"{API}/notifications", headers=w.headers("c"))
    first = listed.json()["items"][0]["id"]
    return await http.post(f"{API}/notifications/{first}/read", headers=w.headers("c"))


def _state(http: AsyncClient) -> AppState:
    return app_state(http._transport.app)  # type: ignore[attr-defined]  # the ASGITransport's app


async def reset_password(http: AsyncClient, w: World) -> Response:
    """A reset link issued (the worker's part of a request, done here), then used."""
    state = _state(http)
    async with state.database.sessionmaker() as db:
        await AccountService(db, state.settings).send_link(w.ids["w"], AccountTokenPurpose.password_reset)
        await db.commit()
        token = await account_link_token(db, state.settings, w.ids["w"], AccountTokenPurpose.password_reset)
    return await http.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "a-new-pass-42"})


async def verify_address(http: AsyncClient, w: World) -> Response:
    state = _state(http)
    async with state.database.sessionmaker() as db:
        token = await account_link_token(db, state.settings, w.ids["w"], AccountTokenPurpose.verify_email)
    return await http.post(f"{API}/auth/verify-email", json={"token": token})


# --- checks on response bodies -------------------------------------------------------------------------------


def items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


def item(body: Any, item_id: int) -> dict[str, Any]:
    """The list item with this id (KeyError if absent: the check is then false)."""
    return {i["id"]: i for i in items(body)}[item_id]


def ids(body: Any) -> set[int]:
    return {i["id"] for i in items(body)}


def of_worker(body: Any, worker_id: int) -> dict[str, Any] | None:
    """The worker's entry in an applicant list or a ranking (whose entries wrap the application)."""
    return next((i for i in items(body) if i.get("application", i)["worker_id"] == worker_id), None)


def of_job(body: Any, job_id: int) -> dict[str, Any]:
    """The caller's application to this job in GET /users/me/applications."""
    return next(i for i in items(body) if i["job_id"] == job_id)


def job(body: Any, w: World, key: str = "j") -> dict[str, Any]:
    """Job `key` in a list of jobs."""
    return item(body, w.ids[key])


def applicant(body: Any, w: World, who: str = "w") -> Any:
    """Worker `who`'s entry in an applicant list or ranking (None if absent)."""
    return of_worker(body, w.ids[who])


def mine(body: Any, w: World, key: str = "j") -> dict[str, Any]:
    """The caller's application to job `key` in GET /users/me/applications."""
    return of_job(body, w.ids[key])


def names(body: Any, side: str) -> set[str]:
    """Reviewer or reviewee names on a page of reviews."""
    return {i[side]["full_name"] for i in items(body)}


NEW_TITLE = "A brand-new listing"

# --- shift work: the scenarios a shift's writes start from -----------------------------------------------------


async def database(http: AsyncClient, sql: str, **params: Any) -> None:
    """Arrange what no request can (a shift already started): SQL in the test's transaction, via the app."""
    transport = http._transport
    assert isinstance(transport, ASGITransport)
    async with app_state(transport.app).database.sessionmaker() as session:  # type: ignore[arg-type]
        await session.execute(text(sql), params)
        await session.commit()


async def shift_world(http: AsyncClient, *, step: str = "hired") -> World:
    """Client `c`'s funded job `j` in Berlin with one shift `s` starting in 20 minutes (check-in is open) and
    worker `w` hired, who also applied to `c`'s open job `j2`; then the worker's timesheet `t` taken to `step`
    (hired, checked_in, checked_out, submitted, overdue: the shift started two hours ago)."""
    w = await bystander(http)
    c = w.add("c", await register(http, "client", full_name="Carla Client"))
    worker = w.add("w", await register(http, "worker", full_name="Walter Worker"))
    location = {"city": "Berlin", **AT_BERLIN}
    job = await post_job(
        http, c, title="Shift listing", location=location, shifts=schedule(1, first_in=timedelta(minutes=20))
    )
    w.ids["j"], w.ids["s"] = job["id"], job["shifts"][0]["id"]
    await fund(http, c, job)
    w.ids["a_w"] = (await hire(http, c, (await apply(http, worker, job["id"]))["id"]))["id"]
    w.ids["j2"] = (await post_job(http, c, title="Open listing", location=location))["id"]
    w.ids["a2_w"] = (await apply(http, worker, w.ids["j2"]))["id"]
    (timesheet,) = (await http.get(w.url("/jobs/{j}/timesheets"), headers=c.headers)).json()["items"]
    w.ids["t"] = timesheet["id"]
    if step == "overdue":
        await database(http, "UPDATE shifts SET starts_at = now() - interval '2 hours', ends_at = now() WHERE id = :s",
                       s=w.ids["s"])  # fmt: skip
    for done, path, body in (
        ("checked_in", "/shifts/{s}/check-in", AT_BERLIN),
        ("checked_out", "/shifts/{s}/check-out", AT_BERLIN),
        ("submitted", "/timesheets/{t}/submit", {"minutes": 60}),
    ):
        if step in ("hired", "overdue"):
            break
        response = await http.post(w.url(path), json=body, headers=worker.headers)
        assert response.status_code == 200, response.text
        if step == done:
            break
    return w


async def with_admin(w: World, http: AsyncClient) -> World:
    """Admin `adm` (admins exist only through the CLI: inserted directly)."""
    transport = http._transport
    assert isinstance(transport, ASGITransport)
    state = app_state(transport.app)  # type: ignore[arg-type]
    email = f"admin-{w.ids['c']}@test.example"
    async with state.database.sessionmaker() as session:
        session.add(
            User(email=email, password_hash=hash_password(PASSWORD, state.settings), full_name="A", role="admin")
        )
        await session.commit()
    tokens = await login(http, email)
    w.add("adm", Actor(0, email, "admin", {"Authorization": f"Bearer {tokens['access_token']}"}, ""))
    return w


async def work_dispute_world(http: AsyncClient) -> World:
    """`shift_world` with an open work dispute `d` about `w`, and an admin `adm`."""
    w = await with_admin(await shift_world(http), http)
    response = await http.post(
        w.url("/jobs/{j}/disputes"), json={"worker_id": w.ids["w"], "reason": "Sloppy"}, headers=w.headers("c")
    )
    assert response.status_code == 201, response.text
    w.ids["d"] = response.json()["id"]
    return w


def reliability(body: Any, w: World) -> dict[str, Any]:
    """Worker `w`'s reliability: on their profile, or on their row of a ranking."""
    return dict(body["reliability"] if "reliability" in body else applicant(body, w)["reliability"])


# Reads a timesheet's or a dispute's write must leave cached: neither is shown by any cached read.
SHIFT_READS = (
    Read("/jobs/{j}"),
    Read("/jobs/{j2}"),
    Read("/users/{w}"),
    Read("/users/{c}"),
    Read("/users/{c}/jobs", "c"),
    Read("/jobs/{j2}/best-applicants", "c"),
    Read("/users/me/applications", "w"),
    *BYSTANDER,
)

# --- the table -----------------------------------------------------------------------------------------------

CASES = [
    Case(
        "create_job",
        op="create_job",
        arrange=open_job,
        write=post(
            "/jobs", "c", {"title": NEW_TITLE, "category": "handyman", "pay_type": "fixed", "pay_rate_minor": 5000}
        ),
        affected=(
            Read("/jobs", shows=lambda b, w: NEW_TITLE in {i["title"] for i in items(b)}),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: NEW_TITLE in {i["title"] for i in items(b)}),
            Read("/users/{c}/jobs", shows=lambda b, w: NEW_TITLE in {i["title"] for i in items(b)}),
        ),
        unaffected=(
            Read("/jobs/{j}"),
            Read("/jobs/{j}/applications", "c"),
            Read("/users/{c}"),
            Read("/users/me/applications", "w"),
            *BYSTANDER,
        ),
    ),
    Case(
        "update_job",
        op="update_job",
        arrange=open_job,
        write=patch("/jobs/{j}", "c", {"title": "Renamed listing", "skills": []}),
        affected=(
            Read("/jobs", shows=lambda b, w: job(b, w)["title"] == "Renamed listing"),
            Read("/jobs/{j}", shows=lambda b, w: b["title"] == "Renamed listing" and b["skills"] == []),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["title"] == "Renamed listing"),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["title"] == "Renamed listing"),
            # a job without skills scores every applicant 1 on skills (w has none: 0 before)
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: applicant(b, w)["parts"]["skills"] == 1),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["job"]["title"] == "Renamed listing"),
        ),
        unaffected=(Read("/users/{c}"), Read("/users/{w}"), *BYSTANDER),
    ),
    Case(
        "cancel_job",
        op="cancel_job",
        arrange=partial(open_job, funded=True),
        write=post("/jobs/{j}/cancel", "c"),
        affected=(
            Read("/jobs", shows=lambda b, w: w.ids["j"] not in ids(b)),
            Read("/jobs/{j}", shows=lambda b, w: (b["status"], b["escrow_status"]) == ("cancelled", "refunded")),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "rejected"),
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: b == []),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["status"] == "cancelled"),
            Read("/users/{c}/jobs", shows=lambda b, w: w.ids["j"] not in ids(b)),  # cancelled: owner and admins only
            Read(
                "/users/me/applications",
                "w",
                shows=lambda b, w: (mine(b, w)["status"], mine(b, w)["job"]["status"]) == ("rejected", "cancelled"),
            ),
        ),
        unaffected=(Read("/users/{c}"), Read("/users/{w}"), *BYSTANDER),
    ),
    Case(
        "complete_job",
        op="complete_job",
        arrange=hired_job,
        write=post("/jobs/{j}/complete", "c"),
        affected=(
            Read("/jobs/{j}", shows=lambda b, w: (b["status"], b["escrow_status"]) == ("completed", "released")),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["status"] == "completed"),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["status"] == "completed"),
            Read("/users/{c}", shows=lambda b, w: b["completed_jobs"] == 1),
            Read("/users/{c}", "c", shows=lambda b, w: b["completed_jobs"] == 1),
            Read("/users/{w}", shows=lambda b, w: b["completed_jobs"] == 1),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["job"]["status"] == "completed"),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["worker"]["completed_jobs"] == 1),
            # the worker's other applications embed their completed_jobs too
            Read("/jobs/{j2}/applications", "c", shows=lambda b, w: applicant(b, w)["worker"]["completed_jobs"] == 1),
            Read("/jobs/{j2}/best-applicants", "c", shows=lambda b, w: applicant(b, w)["parts"]["experience"] == 0.05),
        ),
        unaffected=(
            Read("/users/{c}/reviews"),
            Read("/users/{w}/reviews"),
            Read("/users/{w}/reviews/given"),
            *BYSTANDER,
        ),
    ),
    Case(
        "fund_job",
        op="fund_job",
        arrange=open_job,
        write=post("/jobs/{j}/payments", "c", lambda w: {"amount_minor": w.ids["cost"]}, **{"Idempotency-Key": "k1"}),
        affected=(
            Read("/jobs/{j}", shows=lambda b, w: (b["funded"], b["escrow_status"]) == (True, "held")),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["funded"] is True),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["funded"] is True),
        ),
        unaffected=(
            Read("/jobs"),
            Read("/users/me/applications", "w"),
            Read("/users/{c}"),
            Read("/users/{w}"),
            *BYSTANDER,
        ),
    ),
    Case(
        "create_application",
        op="create_application",
        arrange=partial(open_job, applied=()),
        write=post("/jobs/{j}/applications", "w", {"cover_letter": "Hire me"}),
        affected=(
            Read("/jobs/{j}", shows=lambda b, w: b["applications_count"] == 1),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["applications_count"] == 1),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["applications_count"] == 1),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "pending"),
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: applicant(b, w) is not None),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "pending"),
        ),
        unaffected=(Read("/jobs"), Read("/users/{w}"), Read("/users/{c}"), *BYSTANDER),
    ),
    Case(
        "withdraw_application",
        op="withdraw_application",
        arrange=open_job,
        write=post("/applications/{a_w}/withdraw", "w"),
        affected=(
            Read("/jobs/{j}", shows=lambda b, w: b["applications_count"] == 0),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["applications_count"] == 0),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["applications_count"] == 0),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "withdrawn"),
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: applicant(b, w) is None),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "withdrawn"),
        ),
        unaffected=(Read("/jobs"), Read("/users/{w}"), Read("/users/{c}"), *BYSTANDER),
    ),
    Case(
        "accept_application (an opening is left)",
        op="accept_application",
        arrange=partial(open_job, workers=("w", "w2"), applied=("w", "w2"), openings=2),
        write=post("/applications/{a_w}/accept", "c"),
        affected=(
            Read("/jobs/{j}", shows=lambda b, w: (b["hired_count"], b["status"]) == (1, "open")),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["hired_count"] == 1),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["hired_count"] == 1),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "accepted"),
            Read(
                "/jobs/{j}/best-applicants",
                "c",
                shows=lambda b, w: applicant(b, w) is None and applicant(b, w, "w2") is not None,
            ),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "accepted"),
        ),
        unaffected=(
            Read("/jobs"),
            Read("/users/me/applications", "w2"),
            Read("/users/{w}"),
            Read("/users/{c}"),
            *BYSTANDER,
        ),
    ),
    Case(
        "accept_application (the last opening: the others are rejected)",
        op="accept_application",
        arrange=partial(open_job, workers=("w", "w2"), applied=("w", "w2"), openings=1),
        write=post("/applications/{a_w}/accept", "c"),
        affected=(
            Read("/jobs", shows=lambda b, w: w.ids["j"] not in ids(b)),
            Read("/jobs/{j}", shows=lambda b, w: (b["hired_count"], b["status"]) == (1, "in_progress")),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["status"] == "in_progress"),
            Read("/users/{c}/jobs", shows=lambda b, w: job(b, w)["status"] == "in_progress"),
            Read(
                "/jobs/{j}/applications",
                "c",
                shows=lambda b, w: (
                    (applicant(b, w)["status"], applicant(b, w, "w2")["status"]) == ("accepted", "rejected")
                ),
            ),
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: b == []),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "accepted"),
            Read(
                "/users/me/applications",
                "w2",
                shows=lambda b, w: (mine(b, w)["status"], mine(b, w)["job"]["status"]) == ("rejected", "in_progress"),
            ),
        ),
        unaffected=(Read("/users/{w}"), Read("/users/{w2}"), Read("/users/{c}"), *BYSTANDER),
    ),
    Case(
        "reject_application",
        op="reject_application",
        arrange=partial(open_job, workers=("w", "w2"), applied=("w", "w2")),
        write=post("/applications/{a_w}/reject", "c"),
        affected=(
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "rejected"),
            Read("/jobs/{j}/best-applicants", "c", shows=lambda b, w: applicant(b, w) is None),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "rejected"),
        ),
        unaffected=(Read("/users/me/applications", "w2"), Read("/users/{w}"), Read("/users/{c}"), *BYSTANDER),
    ),
    Case(
        "create_review (the client reviews the worker)",
        op="create_review",
        arrange=after_job,
        write=post("/jobs/{j}/reviews", "c", lambda w: {"reviewee_id": w.ids["w"], "rating": 5}),
        affected=(
            Read("/users/{w}/reviews", shows=lambda b, w: (len(b["items"]), b["rating_avg"]) == (1, 5)),
            Read("/users/{w}/reviews?filter=unread", "w", shows=lambda b, w: len(b["items"]) == 1),
            Read("/users/{c}/reviews/given", shows=lambda b, w: len(b["items"]) == 1),
            Read("/users/{w}", shows=lambda b, w: (b["rating_avg"], b["rating_count"]) == (5, 1)),
            Read("/users/{w}", "w", shows=lambda b, w: b["rating_avg"] == 5),
            # the worker's rating is embedded in the applicant lists and rankings of every job they applied to
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["worker"]["rating_avg"] == 5),
            Read("/jobs/{j2}/applications", "c", shows=lambda b, w: applicant(b, w)["worker"]["rating_avg"] == 5),
            Read("/jobs/{j2}/best-applicants", "c", shows=lambda b, w: applicant(b, w)["parts"]["rating"] > 0.5),
        ),
        unaffected=(
            Read("/users/{c}"),
            Read("/users/{c}/reviews"),
            Read("/users/{c}/reviews?filter=unread", "c"),
            Read("/users/{w}/reviews/given"),
            Read("/users/{c}/jobs", "c"),
            Read("/users/me/applications", "w"),
            *BYSTANDER,
        ),
    ),
    Case(
        "create_review (the worker reviews the client)",
        op="create_review",
        arrange=after_job,
        write=post("/jobs/{j}/reviews", "w", lambda w: {"reviewee_id": w.ids["c"], "rating": 4}),
        affected=(
            Read("/users/{c}/reviews", shows=lambda b, w: (len(b["items"]), b["rating_avg"]) == (1, 4)),
            Read("/users/{c}/reviews?filter=unread", "c", shows=lambda b, w: len(b["items"]) == 1),
            Read("/users/{w}/reviews/given", shows=lambda b, w: len(b["items"]) == 1),
            Read("/users/{c}", shows=lambda b, w: (b["rating_avg"], b["rating_count"]) == (4, 1)),
            # the client's rating is embedded in the detail and the client's list of their jobs (search
            # cards show no ratings, so search pages stay cached)
            Read("/jobs/{j2}", shows=lambda b, w: b["client"]["rating_avg"] == 4),
            Read("/jobs/{j}", shows=lambda b, w: b["client"]["rating_avg"] == 4),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: {i["client"]["rating_avg"] for i in items(b)} == {4}),
            Read("/users/{c}/jobs", shows=lambda b, w: {i["client"]["rating_avg"] for i in items(b)} == {4}),
        ),
        unaffected=(
            Read("/jobs"),
            Read("/users/{w}"),
            Read("/users/{w}/reviews"),
            Read("/users/{c}/reviews/given"),
            Read("/users/me/applications", "w"),
            *BYSTANDER,
        ),
    ),
    Case(
        "mark_review_read",
        op="mark_review_read",
        arrange=partial(after_job, reviews=(("c", "w"),)),
        write=post("/reviews/{r_c_w}/read", "w"),
        affected=(
            Read("/users/{w}/reviews", shows=lambda b, w: item(b, w.ids["r_c_w"])["read_at"] is not None),
            Read("/users/{w}/reviews?filter=unread", "w", shows=lambda b, w: b["items"] == []),
            Read("/users/{c}/reviews/given", shows=lambda b, w: item(b, w.ids["r_c_w"])["read_at"] is not None),
        ),
        unaffected=(
            Read("/users/{c}/reviews"),
            Read("/users/{c}"),
            Read("/jobs/{j}"),
            Read("/users/{c}/jobs", "c"),
            *BYSTANDER,
        ),
    ),
    Case(
        "update_me (a client renames themself)",
        op="update_me",
        arrange=partial(after_job, reviews=(("c", "w"), ("w", "c"))),
        write=patch("/users/me", "c", {"full_name": "Carla Renamed"}),
        affected=(
            Read("/users/{c}", shows=lambda b, w: b["full_name"] == "Carla Renamed"),
            Read("/users/{c}", "c", shows=lambda b, w: b["full_name"] == "Carla Renamed"),
            Read("/jobs", shows=lambda b, w: job(b, w, "j2")["client"]["full_name"] == "Carla Renamed"),
            Read("/jobs/{j2}", shows=lambda b, w: b["client"]["full_name"] == "Carla Renamed"),
            Read("/jobs/{j}", shows=lambda b, w: b["client"]["full_name"] == "Carla Renamed"),
            Read(
                "/users/{c}/jobs",
                "c",
                shows=lambda b, w: {i["client"]["full_name"] for i in items(b)} == {"Carla Renamed"},
            ),
            Read(
                "/users/{c}/jobs", shows=lambda b, w: {i["client"]["full_name"] for i in items(b)} == {"Carla Renamed"}
            ),
            Read("/users/{w}/reviews", shows=lambda b, w: names(b, "reviewer") == {"Carla Renamed"}),
            Read("/users/{w}/reviews?filter=unread", "w", shows=lambda b, w: names(b, "reviewer") == {"Carla Renamed"}),
            Read("/users/{w}/reviews/given", shows=lambda b, w: names(b, "reviewee") == {"Carla Renamed"}),
            Read("/users/{c}/reviews", shows=lambda b, w: names(b, "reviewee") == {"Carla Renamed"}),
            Read("/users/{c}/reviews/given", shows=lambda b, w: names(b, "reviewer") == {"Carla Renamed"}),
        ),
        unaffected=(Read("/users/{w}"), Read("/users/me/applications", "w"), *BYSTANDER),
    ),
    Case(
        "update_me (a worker changes name, skills and location)",
        op="update_me",
        arrange=partial(after_job, reviews=(("c", "w"), ("w", "c"))),
        write=patch("/users/me", "w", {"full_name": "Walter Renamed", "skills": ["plumbing"], "location": BERLIN}),
        affected=(
            Read(
                "/users/{w}",
                shows=lambda b, w: (
                    (b["full_name"], [s["slug"] for s in b["skills"]], b["city"])
                    == ("Walter Renamed", ["plumbing"], "Berlin")
                ),
            ),
            Read("/users/{w}", "w", shows=lambda b, w: b["full_name"] == "Walter Renamed"),
            Read(
                "/jobs/{j2}/applications",
                "c",
                shows=lambda b, w: (
                    (applicant(b, w)["worker"]["full_name"], applicant(b, w)["worker"]["city"])
                    == ("Walter Renamed", "Berlin")
                ),
            ),
            Read(
                "/jobs/{j}/applications",
                "c",
                shows=lambda b, w: applicant(b, w)["worker"]["full_name"] == "Walter Renamed",
            ),
            # the job is in Berlin and wants plumbing: both parts of the score go from 0 / 0.5 to 1
            Read(
                "/jobs/{j2}/best-applicants",
                "c",
                shows=lambda b, w: (applicant(b, w)["parts"]["skills"], applicant(b, w)["parts"]["distance"]) == (1, 1),
            ),
            Read("/users/{c}/reviews", shows=lambda b, w: names(b, "reviewer") == {"Walter Renamed"}),
            Read("/users/{c}/reviews/given", shows=lambda b, w: names(b, "reviewee") == {"Walter Renamed"}),
            Read("/users/{w}/reviews", shows=lambda b, w: names(b, "reviewee") == {"Walter Renamed"}),
            Read("/users/{w}/reviews/given", shows=lambda b, w: names(b, "reviewer") == {"Walter Renamed"}),
        ),
        unaffected=(
            Read("/users/{c}"),
            Read("/users/{c}/jobs", "c"),
            Read("/users/{c}/jobs"),
            Read("/users/me/applications", "w"),
            *BYSTANDER,
        ),
    ),
    # Shift work: attendance moves the worker's reliability (profile, rankings); timesheets and disputes
    # themselves are not cached.
    Case(
        "check_in",
        op="check_in",
        arrange=shift_world,
        write=post("/shifts/{s}/check-in", "w", AT_BERLIN),
        affected=(
            Read("/users/{w}", shows=lambda b, w: reliability(b, w)["attended"] == 1),
            Read("/users/{w}", "w", shows=lambda b, w: reliability(b, w)["attended"] == 1),
            Read("/jobs/{j2}/best-applicants", "c", shows=lambda b, w: reliability(b, w)["attended"] == 1),
        ),
        unaffected=(
            Read("/jobs/{j}"),
            Read("/jobs/{j2}"),
            Read("/users/{c}"),
            Read("/users/{c}/jobs", "c"),
            *BYSTANDER,
        ),
    ),
    Case(
        "check_out",
        op="check_out",
        arrange=partial(shift_world, step="checked_in"),
        write=post("/shifts/{s}/check-out", "w", AT_BERLIN),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    Case(
        "submit_timesheet",
        op="submit_timesheet",
        arrange=partial(shift_world, step="checked_out"),
        write=post("/timesheets/{t}/submit", "w", {"minutes": 45}),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    Case(
        "approve_timesheet",
        op="approve_timesheet",
        arrange=partial(shift_world, step="submitted"),
        write=post("/timesheets/{t}/approve", "c"),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    Case(
        "dispute_timesheet",
        op="dispute_timesheet",
        arrange=partial(shift_world, step="submitted"),
        write=post("/timesheets/{t}/dispute", "c", {"proposed_minutes": 30, "reason": "Came late"}),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    Case(
        "mark_no_show",
        op="mark_no_show",
        arrange=partial(shift_world, step="overdue"),
        write=post("/timesheets/{t}/no-show", "c"),
        affected=(
            Read("/users/{w}", shows=lambda b, w: reliability(b, w)["no_shows"] == 1),
            Read("/jobs/{j2}/best-applicants", "c", shows=lambda b, w: reliability(b, w)["no_shows"] == 1),
        ),
        unaffected=(Read("/jobs/{j}"), Read("/users/{c}"), Read("/users/me/applications", "w"), *BYSTANDER),
    ),
    Case(
        "cancel_application (late: the job reopens, the worker's reliability drops)",
        op="cancel_application",
        arrange=shift_world,
        write=post("/applications/{a_w}/cancel", "w"),
        affected=(
            Read("/jobs", shows=lambda b, w: w.ids["j"] in ids(b)),
            Read("/jobs/{j}", shows=lambda b, w: (b["status"], b["hired_count"]) == ("open", 0)),
            Read("/users/{c}/jobs", "c", shows=lambda b, w: job(b, w)["status"] == "open"),
            Read("/jobs/{j}/applications", "c", shows=lambda b, w: applicant(b, w)["status"] == "cancelled"),
            Read("/users/me/applications", "w", shows=lambda b, w: mine(b, w)["status"] == "cancelled"),
            Read("/users/{w}", shows=lambda b, w: reliability(b, w)["late_cancellations"] == 1),
            Read("/jobs/{j2}/best-applicants", "c", shows=lambda b, w: reliability(b, w)["late_cancellations"] == 1),
        ),
        unaffected=(Read("/users/{c}"), Read("/jobs/{j2}"), *BYSTANDER),
    ),
    Case(
        "create_work_dispute",
        op="create_work_dispute",
        arrange=shift_world,
        write=post("/jobs/{j}/disputes", "c", lambda w: {"worker_id": w.ids["w"], "reason": "Sloppy"}),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    Case(
        "resolve_dispute",
        op="resolve_dispute",
        arrange=work_dispute_world,
        write=post("/disputes/{d}/resolve", "adm", {"worker_amount_minor": 100}),
        affected=(),
        unaffected=SHIFT_READS,
    ),
    # Writes that change nothing any cached read shows.
    Case("register", op="register", arrange=marketplace, write=register_someone, affected=(), unaffected=EVERYTHING),
    Case(
        "create_token", op="create_token", arrange=marketplace, write=log_in_again, affected=(), unaffected=EVERYTHING
    ),
    Case(
        "refresh_token",
        op="refresh_token",
        arrange=marketplace,
        write=post("/auth/refresh", None, refresh_token_of("w")),
        affected=(),
        unaffected=EVERYTHING,
    ),
    Case(
        "logout",
        op="logout",
        arrange=marketplace,
        write=post("/auth/logout", None, refresh_token_of("w")),
        affected=(),
        unaffected=EVERYTHING,
    ),
    Case(
        "create_session",
        op="create_session",
        arrange=marketplace,
        write=post("/auth/session", None, lambda w: {"email": w.actors["w"].email, "password": PASSWORD}),
        affected=(),
        unaffected=EVERYTHING,
    ),
    Case(
        "refresh_session",
        op="refresh_session",
        arrange=marketplace,
        write=with_session_cookie("/auth/session/refresh"),
        affected=(),
        unaffected=EVERYTHING,
    ),
    Case(
        "end_session",
        op="end_session",
        arrange=marketplace,
        write=with_session_cookie("/auth/session/logout"),
        affected=(),
        unaffected=EVERYTHING,
    ),
    # Account e-mails, notifications and messages: private, uncached, shown by no cached read.
    *(
        Case(op, op=op, arrange=marketplace, write=write, affected=(), unaffected=EVERYTHING)
        for op, write in [
            ("request_password_reset", post("/auth/password-reset", None, email_of("w"))),
            ("confirm_password_reset", reset_password),
            ("verify_email", verify_address),
            ("create_message", post("/applications/{a2_w}/messages", "c", {"body": "When can you start?"})),
            ("mark_notification_read", read_first_notification),
            ("mark_all_notifications_read", post("/notifications/read-all", "w")),
            (
                "update_notification_settings",
                patch("/users/me/notification-settings", "w", {"job_funded": {"email": True}}),
            ),
        ]
    ),
]


def table(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [])
        for c in cases
    ]


# --- helpers -------------------------------------------------------------------------------------------------


async def fetch(http: AsyncClient, w: World, read: Read) -> Response:
    response = await http.get(w.url(read.path), headers=w.headers(read.who))
    assert response.status_code == 200, f"{read}: {response.status_code} {response.text}"
    return response


def shows(read: Read, body: Any, w: World) -> bool:
    assert read.shows is not None
    try:
        return bool(read.shows(body, w))
    except (KeyError, IndexError, TypeError, StopIteration):  # the item the check looks for is not there
        return False


async def warm(http: AsyncClient, w: World, reads: tuple[Read, ...]) -> dict[Read, bytes]:
    """Request each read twice; the second must be a HIT with the same bytes. Returns the cached bytes."""
    cached = {}
    for read in reads:
        first = await fetch(http, w, read)
        second = await fetch(http, w, read)
        assert second.headers["x-cache"] == "HIT", f"{read} is not cached: {second.headers['x-cache']}"
        assert second.content == first.content, f"{read}: HIT bytes differ from MISS bytes"
        cached[read] = second.content
    return cached


async def still_cached(http: AsyncClient, w: World, warmed: dict[Read, bytes]) -> list[str]:
    """Problems with reads that must still be HITs with their warmed bytes."""
    problems = []
    for read, content in warmed.items():
        response = await fetch(http, w, read)
        if response.headers["x-cache"] != "HIT" or response.content != content:
            problems.append(f"{read} should still be cached but is {response.headers['x-cache']}")
    return problems


# --- read-your-writes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", table(CASES))
async def test_a_write_busts_exactly_the_reads_it_affects(cache_client: AsyncClient, case: Case) -> None:
    http = cache_client
    w = await case.arrange(http)
    await warm(http, w, case.affected)
    for read in case.affected:
        before = (await fetch(http, w, read)).json()
        assert not shows(read, before, w), f"{read}: the check cannot tell the new data from the old: {before}"
    warmed = await warm(http, w, case.unaffected)

    response = await case.write(http, w)
    assert response.is_success, response.text

    # The very next reads, no sleep: invalidation must be complete when the write's response arrives.
    problems = []
    for read in case.affected:
        after = await fetch(http, w, read)
        if after.headers["x-cache"] != "MISS":
            problems.append(f"{read} was not invalidated (X-Cache: {after.headers['x-cache']})")
        elif not shows(read, after.json(), w):
            problems.append(f"{read} does not show the new data: {after.text}")
    problems += await still_cached(http, w, warmed)
    assert not problems, f"{case.name}:\n" + "\n".join(problems)


# --- a write that fails invalidates nothing ------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    name: str
    write: Write
    status: int


FAILURES = [
    Failure("apply twice (409)", post("/jobs/{j2}/applications", "w", {"cover_letter": "again"}), 409),
    Failure(
        "an hourly job without hours (422 from the service)", patch("/jobs/{j2}", "c", {"pay_type": "hourly"}), 422
    ),
    Failure(
        "fund with the wrong amount (422 after the idempotency key was claimed)",
        post("/jobs/{j2}/payments", "c", {"amount_minor": 1}, **{"Idempotency-Key": "k1"}),
        422,
    ),
    Failure(
        "review twice (409 at the insert)",
        post("/jobs/{j}/reviews", "c", lambda w: {"reviewee_id": w.ids["w"], "rating": 1}),
        409,
    ),
    Failure("a profile field nobody may set (422)", patch("/users/me", "w", {"role": "admin"}), 422),
    Failure("a stranger accepts (404)", post("/applications/{a2_w}/accept", "c2"), 404),
]


@pytest.mark.parametrize("failure", [pytest.param(f, id=f.name) for f in FAILURES])
async def test_a_failed_write_invalidates_nothing(cache_client: AsyncClient, failure: Failure) -> None:
    w = await marketplace(cache_client)
    warmed = await warm(cache_client, w, EVERYTHING)
    response = await failure.write(cache_client, w)
    assert response.status_code == failure.status, response.text
    assert not await still_cached(cache_client, w, warmed)


def failing_commits(connection: AsyncConnection) -> tuple[async_sessionmaker[UnitOfWork], type[AsyncSession]]:
    """Sessions in the test's transaction whose commit fails once `cls.failing` is set (after arranging)."""

    class CommitFailsSession(UnitOfWork):
        failing = False

        async def commit(self) -> None:
            if type(self).failing:
                raise RuntimeError("simulated commit failure")
            await super().commit()

    maker: async_sessionmaker[UnitOfWork] = async_sessionmaker(
        bind=connection,
        class_=CommitFailsSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )
    return maker, CommitFailsSession


@asynccontextmanager
async def serving_500s(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    """Like conftest's app_client, but an unhandled error is the client's 500 instead of raising in the test."""
    async with started_app(settings, engine, sessionmaker) as app:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(post("/jobs/{j2}/cancel", "c"), id="cancel_job"),
        pytest.param(patch("/users/me", "c", {"full_name": "Never Saved"}), id="update_me"),
        pytest.param(
            post("/jobs/{j}/reviews", "w", lambda w: {"reviewee_id": w.ids["c"], "rating": 1}), id="create_review"
        ),
    ],
)
async def test_a_write_whose_commit_fails_invalidates_nothing(
    cache_settings: Settings, engine: AsyncEngine, connection: AsyncConnection, write: Write
) -> None:
    """The handler ran and recorded its tags (including the services' fan-out), but the commit failed."""
    maker, session_class = failing_commits(connection)
    async with serving_500s(cache_settings, engine, maker) as http:
        w = await marketplace(http)
        warmed = await warm(http, w, EVERYTHING)
        session_class.failing = True  # type: ignore[attr-defined]
        response = await write(http, w)
        session_class.failing = False  # type: ignore[attr-defined]
        assert response.status_code == 500, response.text
        assert not await still_cached(http, w, warmed)
        # ...and the HITs are right: nothing was saved (an uncached read of the database)
        me = await http.get(f"{API}/users/me", headers=w.headers("c"))
        assert (me.json()["full_name"], me.json()["rating_count"]) == ("Carla Client", 0)
        cancelled = await http.get(f"{API}/users/{w.ids['c']}/jobs?status=cancelled", headers=w.headers("c"))
        assert cancelled.headers["x-cache"] == "MISS" and cancelled.json()["items"] == []


# --- invalidation is complete before the response starts ------------------------------------------------------


async def test_invalidation_finishes_before_the_response_starts(
    cache_settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[UnitOfWork],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read-your-writes must not depend on how fast a client reads: the tags are gone before the first byte."""
    events: list[str] = []
    async with started_app(cache_settings, engine, sessionmaker) as app:
        await _record_invalidation_order(app, events, monkeypatch)
    route = f"{API}/jobs/{{job_id}}/applications"
    assert events == [f"invalidated after {route}", f"response to POST {route}"]


async def _record_invalidation_order(app: Any, events: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = app_state(app).cache
    invalidate = cache.invalidate

    async def recording_invalidate(route: str, names: set[str]) -> None:
        await invalidate(route, names)
        events.append(f"invalidated after {route}")

    monkeypatch.setattr(cache, "invalidate", recording_invalidate)

    async def recording_app(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                events.append(f"response to {scope['method']} {scope['route'].path}")
            await send(message)

        await app(scope, receive, recording_send)

    async with AsyncClient(transport=ASGITransport(app=recording_app), base_url="http://test") as http:
        w = await open_job(http, applied=())
        events.clear()
        response = await post("/jobs/{j}/applications", "w", {"cover_letter": "now"})(http, w)
        assert response.status_code == 201, response.text


# --- the table covers every write ----------------------------------------------------------------------------

APP_ROUTES = api_routes(create_app(Settings(environment="test", _env_file=None)).routes)
WRITE_ROUTES = [r for r in APP_ROUTES if r.path.startswith(API) and (r.methods or set()) - {"GET", "HEAD"}]


@pytest.mark.parametrize("route", [pytest.param(r, id=r.operation_id) for r in WRITE_ROUTES])
def test_every_write_route_carries_invalidates(route: APIRoute) -> None:
    assert callable(getattr(route.endpoint, "write_tags", None)), (
        f"{route.path} ({route.operation_id}) writes without @invalidates"
    )


def test_every_write_has_a_row() -> None:
    rows = {c.op for c in CASES}
    writes = {r.operation_id for r in WRITE_ROUTES}
    assert writes - rows == set(), "write endpoints without a row in CASES"
    assert rows - writes == set(), "rows in CASES for operations that are not writes"
