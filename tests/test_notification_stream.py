"""The live stream (GET /api/v1/notifications/stream) over real HTTP servers, on a database of this module's
own (streams and writers see only committed rows):

- across processes: a uvicorn subprocess holds the stream, this process writes through its own app, Redis
  pub/sub (APP_TEST_REDIS_URL) carries the event; it arrives within a second;
- in one process without Redis (an in-process uvicorn): delivery, no database connection while idle,
  heartbeats, `Last-Event-ID` replay, the end of the stream when the access token expires.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from httpx import AsyncClient

from app.cli import ROOT
from app.main import create_app
from app.security import create_access_token
from app.settings import Settings
from app.state import app_state
from tests.conftest import _server_url, delete_namespace, own_app_client, scratch_database
from tests.factories import API, Actor, apply, post_job, register

SECRET = "test-secret-key-0123456789abcdef0123456789"
STREAM = f"{API}/notifications/stream"


@pytest.fixture(scope="module")
def stream_url() -> Iterator[str]:
    with scratch_database(_server_url(), "marketplace_stream") as url:
        yield url


@pytest.fixture
def stream_settings(stream_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=stream_url,
        secret_key=SECRET,
        argon2_memory_kib=1024,
        db_pool_size=2,
        rate_limit_enabled=False,
        notifications_heartbeat_seconds=0.5,
        data_dir=tmp_path,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a real HTTP server in this process (streaming needs one); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no start event)
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Line:
    text: str
    at: float  # time.monotonic() when it arrived


class Stream:
    """An open stream: its lines as they arrive, and the SSE events they form."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next_line(self, within: float = 5) -> Line:
        async with asyncio.timeout(within):
            return Line(await anext(self.lines), time.monotonic())

    async def until(self, prefix: str, within: float = 5) -> list[Line]:
        """Lines up to and including the first that starts with `prefix`."""
        seen: list[Line] = []
        async with asyncio.timeout(within):
            while not seen or not seen[-1].text.startswith(prefix):
                seen.append(await self.next_line(within))
        return seen

    async def event(self, within: float = 5) -> tuple[int, dict[str, Any], float]:
        """The next event's (id, data, arrival time), skipping comments."""
        lines = await self.until("data: ", within)
        ids = [int(line.text.removeprefix("id: ")) for line in lines if line.text.startswith("id: ")]
        assert ids and any(line.text == "event: notification" for line in lines), lines
        return ids[-1], json.loads(lines[-1].text.removeprefix("data: ")), lines[-1].at


@asynccontextmanager
async def stream(base_url: str, token: str) -> AsyncIterator[Stream]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as http,
        http.stream("GET", STREAM, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        opened = Stream(response)
        await opened.until(": connected")  # subscribed (and replayed): what is written from now on arrives
        yield opened


def bearer(actor: Actor) -> str:
    return actor.headers["Authorization"].removeprefix("Bearer ")


async def job_of(http: AsyncClient) -> tuple[Actor, int]:
    owner = await register(http, "client", full_name="Stream Owner")
    return owner, (await post_job(http, owner, title="Stream test job"))["id"]


async def new_applicant(http: AsyncClient, job_id: int) -> int:
    """A worker applies to the job (a notification for its owner); the application id."""
    return int((await apply(http, await register(http, "worker"), job_id))["id"])


# --- across processes, through Redis ------------------------------------------------------------------------


@pytest.fixture
async def redis_settings(stream_settings: Settings) -> AsyncIterator[Settings]:
    """The settings with the real Redis, in a namespace (and so a channel) of this test's own."""
    url = os.environ.get("APP_TEST_REDIS_URL")
    if not url:
        pytest.skip("APP_TEST_REDIS_URL is not set")
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield stream_settings.model_copy(update={"redis_url": url, "cache_namespace": namespace})
    await delete_namespace(url, namespace)


@pytest.fixture
def api_process(redis_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`uvicorn app.main:app` in a process of its own, on the same database and Redis; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENVIRONMENT": "test",
        "APP_DATABASE_URL": redis_settings.database_url,
        "APP_REDIS_URL": redis_settings.redis_url,
        "APP_CACHE_NAMESPACE": redis_settings.cache_namespace,
        "APP_SECRET_KEY": SECRET,
        "APP_DB_POOL_SIZE": "2",
        "APP_NOTIFICATIONS_HEARTBEAT_SECONDS": "0.5",
        "APP_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "api.log").read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_an_event_written_by_another_process_reaches_the_stream_within_a_second(
    redis_settings: Settings, api_process: str
) -> None:
    async with own_app_client(redis_settings) as http:
        owner, job_id = await job_of(http)
        async with stream(api_process, bearer(owner)) as opened:
            written = time.monotonic()
            application_id = await new_applicant(http, job_id)
            event_id, data, arrived = await opened.event(within=5)
            assert arrived - written < 1.0, f"the event took {arrived - written:.2f} s"
        listed = (await http.get(f"{API}/notifications", headers=owner.headers)).json()["items"]
    assert event_id == listed[0]["id"] and data == listed[0]
    assert data["kind"] == "application_received" and data["data"]["application_id"] == application_id


# --- in one process, without Redis --------------------------------------------------------------------------


async def test_events_reach_the_callers_stream_only_and_no_connection_is_held_while_idle(
    stream_settings: Settings,
) -> None:
    app = create_app(stream_settings)
    async with served(app) as base, AsyncClient(base_url=base) as http:
        owner, job_id = await job_of(http)
        other, _ = await job_of(http)
        engine = app_state(app).database.engine
        async with stream(base, bearer(owner)) as mine, stream(base, bearer(other)) as theirs:
            await mine.until(": heartbeat")  # idle for a while
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            assert app_state(app).live.hub.open_streams == 2
            await new_applicant(http, job_id)
            event_id, data, _ = await mine.event()
            assert data["id"] == event_id and data["kind"] == "application_received"
            # the other stream saw heartbeats only
            lines = await theirs.until(": heartbeat", within=2)
            assert not [line for line in lines if line.text.startswith(("id:", "data:"))]
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_reconnect_with_last_event_id_replays_what_was_missed_in_order(stream_settings: Settings) -> None:
    app = create_app(stream_settings)
    async with served(app) as base, AsyncClient(base_url=base) as http:
        owner, job_id = await job_of(http)
        for _ in range(3):
            await new_applicant(http, job_id)
        ids = [n["id"] for n in (await http.get(f"{API}/notifications", headers=owner.headers)).json()["items"]]
        oldest = min(ids)
        headers = {"Authorization": f"Bearer {bearer(owner)}", "Last-Event-ID": str(oldest)}
        async with (
            httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=None)) as raw,
            raw.stream("GET", STREAM, headers=headers) as response,
        ):
            replay = Stream(response)
            replayed = [(await replay.event())[0], (await replay.event())[0]]
            await replay.until(": connected")
            assert replayed == sorted(ids)[1:]  # after the last one seen, oldest first
            await new_applicant(http, job_id)  # and then live
            assert (await replay.event())[0] > max(ids)


async def test_the_stream_ends_when_its_access_token_expires(stream_settings: Settings) -> None:
    app = create_app(stream_settings)
    async with served(app) as base, AsyncClient(base_url=base) as http:
        owner, _ = await job_of(http)
        short = stream_settings.model_copy(update={"access_token_ttl_seconds": 2})  # below the setting's bound
        token = create_access_token(owner.id, "client", short)
        started = time.monotonic()
        async with stream(base, token) as opened:
            lines = []
            async with asyncio.timeout(10):
                async for line in opened.lines:
                    lines.append(line)
            ended = time.monotonic() - started
        assert 1.0 <= ended < 3.5, f"the stream ended after {ended:.2f} s"
        assert ": heartbeat" in lines
        # an expired token cannot open a new one
        await asyncio.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
        response = await http.get(STREAM, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_the_stream_needs_a_token(stream_settings: Settings) -> None:
    app = create_app(stream_settings)
    async with served(app) as base, AsyncClient(base_url=base) as http:
        assert (await http.get(STREAM)).status_code == 401
        assert (await http.get(STREAM, headers={"Authorization": "Bearer nonsense"})).status_code == 401
