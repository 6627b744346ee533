"""The authorization matrix (tests/authz_matrix.py): each route x each actor answers exactly its status, every
route of the app has a row, and docs/security.md prints the same table."""

import asyncio
import contextlib
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.cache.decorator import api_routes
from app.main import create_app
from app.settings import Settings
from tests.authz_matrix import ACTORS, ROWS, Row, World, markdown
from tests.factories import (
    API,
    PASSWORD,
    Actor,
    apply,
    completed_job,
    fund,
    hire,
    make_admin,
    post_job,
    register,
)
from tests.shiftwork import act, check_in, check_out, place_shift, schedule, sheet, shift_job, worked

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"


async def build_world(client: AsyncClient, db: AsyncSession, settings: Settings) -> tuple[World, dict[str, Actor]]:
    owner = await register(client, "client")
    actors = {
        "owner": owner,
        "other_client": await register(client, "client"),
        "hired_worker": await register(client, "worker"),
        "other_worker": await register(client, "worker"),
        "admin": await make_admin(client, db, settings),
    }
    hired = actors["hired_worker"]
    done = await completed_job(client, owner, [hired])
    review = await client.post(
        f"{API}/jobs/{done['id']}/reviews", json={"reviewee_id": hired.id, "rating": 4}, headers=owner.headers
    )
    assert review.status_code == 201, review.text
    payments = await client.get(f"{API}/users/{hired.id}/payments", headers=hired.headers)
    [payout] = [p for p in payments.json()["items"] if p["payee_id"] == hired.id]
    job = await post_job(client, owner, openings=1)
    await fund(client, owner, job)
    application = await apply(client, hired, job["id"])
    await hire(client, owner, application["id"])
    shifts = await shift_job(client, owner, [hired], shifts=schedule(6))
    to_check_in, checked_in, checked_out, submitted, due_no_show, disputed = shifts["shifts"]
    for shift in (to_check_in, checked_in, checked_out):
        await place_shift(db, shift["id"], started_minutes_ago=10)
    await place_shift(db, due_no_show["id"], started_minutes_ago=120)
    for shift in (checked_in, checked_out):
        assert (await check_in(client, hired, shift["id"])).status_code == 200
    assert (await check_out(client, hired, checked_out["id"])).status_code == 200
    await worked(client, db, owner, shifts, submitted, hired, 60)
    await worked(client, db, owner, shifts, disputed, hired, 60)
    disputed_sheet = await sheet(client, owner, shifts["id"], disputed["id"], hired)
    dispute = await act(client, owner, disputed_sheet["id"], "dispute", proposed_minutes=30, reason="Late.")
    assert dispute.status_code == 201, dispute.text
    world = World(
        owner=owner.id,
        hired_worker=hired.id,
        job=job["id"],
        done_job=done["id"],
        application=application["id"],
        payment=payout["id"],
        review=review.json()["id"],
        shift_job=shifts["id"],
        shift_to_check_in=to_check_in["id"],
        shift_checked_in=checked_in["id"],
        timesheet_checked_out=(await sheet(client, owner, shifts["id"], checked_out["id"], hired))["id"],
        timesheet_submitted=(await sheet(client, owner, shifts["id"], submitted["id"], hired))["id"],
        timesheet_due_no_show=(await sheet(client, owner, shifts["id"], due_no_show["id"], hired))["id"],
        dispute=dispute.json()["id"],
        notification=(await client.get(f"{API}/notifications?limit=1", headers=owner.headers)).json()["items"][0]["id"],
        owner_email=owner.email,
        owner_password=PASSWORD,
        nonce=uuid.uuid4().hex[:12],
    )
    return world, actors


async def first_status(client: AsyncClient, method: str, url: str, headers: dict[str, str]) -> int:
    """The status a long-lived answer (server-sent events) starts with: httpx's ASGI transport waits for the
    whole body, so call the app directly and stop it once the response has started."""
    app = client._transport.app  # type: ignore[attr-defined]  # the ASGITransport's app
    path, _, query = url.partition("?")
    scope = {
        "type": "http", "http_version": "1.1", "method": method, "scheme": "http", "server": ("test", 80),
        "client": ("127.0.0.1", 50000), "root_path": "", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client never sends a body, and never leaves first
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message["status"])

    task = asyncio.create_task(app(scope, receive, send))
    try:
        return await asyncio.wait_for(started, timeout=30)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
async def test_each_actor_gets_exactly_its_status(
    client: AsyncClient, connection: AsyncConnection, db: AsyncSession, settings: Settings, row: Row
) -> None:
    world, actors = await build_world(client, db, settings)
    answered = {}
    for actor in ACTORS:
        # Each actor meets the same world: what one actor's request wrote is rolled back before the next.
        savepoint = await connection.begin_nested()
        try:
            headers = {**row.headers, **(actors[actor].headers if actor in actors else {})}
            if row.stream:
                answered[actor] = (await first_status(client, row.method, row.url(world), headers), "(a stream)")
                continue
            response = await client.request(
                row.method,
                row.url(world),
                headers=headers,
                json=row.json(world) if row.json else None,
                data=row.form(world) if row.form else None,
            )
        finally:
            await savepoint.rollback()
        answered[actor] = (response.status_code, response.text[:200])
    assert tuple(status for status, _ in answered.values()) == row.expect, answered


def test_every_route_of_the_app_has_a_row(settings: Settings) -> None:
    app_routes = api_routes(create_app(settings).routes)
    routes = {(method, route.path) for route in app_routes for method in route.methods or ()}
    covered = {row.route for row in ROWS}
    assert routes - covered == set(), "routes without a row in tests/authz_matrix.py"
    assert covered - routes == set(), "rows of routes the app does not have"


def test_the_docs_print_the_matrix() -> None:
    found = re.search(r"<!-- authz-matrix -->\n(.*?)\n<!-- /authz-matrix -->", DOC.read_text(), re.DOTALL)
    assert found, "docs/security.md has no <!-- authz-matrix --> block"
    assert found.group(1).strip() == markdown(), "regenerate it: python -m tests.authz_matrix"


def test_the_owasp_map_names_only_tests_that_exist() -> None:
    """`tests/x.py::test_y` (and `::test_z` after it, same file) in docs/security.md name real tests."""
    section = DOC.read_text().split("## OWASP API Security Top 10 (2023)")[1]
    missing, current = [], ""
    for file, name in re.findall(r"`(tests/[a-z_]+\.py)?(?:::(test_[a-z0-9_]+))?", section):
        current = file or current
        if name and f"def {name}(" not in (DOC.parent.parent / current).read_text():
            missing.append(f"{current}::{name}")
    assert missing == []
