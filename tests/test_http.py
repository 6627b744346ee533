"""HTTP hardening (issue #9): body limit, security headers, no-store, docs CSP, 405 Allow, request ids,
JSON request logs, /metrics access, no server banner; and the cache package no longer imports app.db."""

import ast
import io
import json
import re
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.db import UnitOfWork
from app.main import create_app
from app.observability import configure_logging
from app.settings import Settings
from tests.conftest import app_client, started_app
from tests.factories import API, assert_problem, fund, post_job, register

ROOT = Path(__file__).resolve().parent.parent


# --- request bodies --------------------------------------------------------------------------------


async def test_a_declared_oversized_body_is_refused_before_it_is_read(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 1024}))
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 2048, "more_body": False}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{API}/auth/register",
        "raw_path": f"{API}/auth/register".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2048")],
        "client": ("203.0.113.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413 and reads == 0
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    assert headers["content-type"] == "application/problem+json" and "x-request-id" in headers
    assert json.loads(sent[1]["body"])["status"] == 413


async def test_a_streamed_body_is_cut_off_at_the_limit(client: AsyncClient) -> None:
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal chunks_sent
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far over the 1 MiB default
            chunks_sent += 1
            yield b" " * 65536

    response = await client.post(f"{API}/auth/register", content=body(), headers={"content-type": "application/json"})
    assert_problem(response, 413)
    assert chunks_sent <= 17  # read up to just past 1 MiB, then stopped


async def test_a_body_within_the_limit_is_served_as_usual(client: AsyncClient) -> None:
    payload = {"email": "big@test.example", "password": "correct-horse-battery", "role": "worker"}
    response = await client.post(f"{API}/auth/register", json={**payload, "full_name": "x" * 500_000})
    assert_problem(response, 422)  # read in full and validated (the name is too long), not a 413


# --- headers ---------------------------------------------------------------------------------------

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def assert_hardened(response: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.url)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_every_answer_carries_the_security_headers(client: AsyncClient) -> None:
    owner = await register(client, "client")
    for response in (
        await client.get("/health"),
        await client.get(f"{API}/users/me", headers=owner.headers),
        await client.get(f"{API}/jobs"),
        await client.get(f"{API}/no-such-route"),
        await client.get(f"{API}/users/me"),
        await client.get("/openapi.json"),
        await client.get("/docs"),
    ):
        assert_hardened(response)
    assert (await client.get(f"{API}/users/me", headers=owner.headers)).headers[
        "content-security-policy"
    ] == "default-src 'none'; frame-ancestors 'none'"


async def test_private_answers_are_no_store_and_cached_ones_keep_their_own_policy(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    payment = await fund(client, owner, job)
    form = {"username": owner.email, "password": "correct-horse-battery"}
    private = {
        "GET /users/me": await client.get(f"{API}/users/me", headers=owner.headers),
        "PATCH /users/me": await client.patch(f"{API}/users/me", json={"city": "Oslo"}, headers=owner.headers),
        "POST /auth/token": await client.post(f"{API}/auth/token", data=form),
        "POST /auth/refresh": await client.post(f"{API}/auth/refresh", json={"refresh_token": owner.refresh_token}),
        "GET /payments/{id}": await client.get(f"{API}/payments/{payment['id']}", headers=owner.headers),
        "401": await client.get(f"{API}/users/me"),
    }
    for name, response in private.items():
        assert response.headers["cache-control"] == "no-store", name
    cached = await client.get(f"{API}/jobs/{job['id']}")
    assert cached.headers["x-cache"] in {"MISS", "HIT"}
    assert cached.headers["cache-control"] == "public, no-cache"


async def test_405_names_the_allowed_methods(client: AsyncClient) -> None:
    response = await client.delete(f"{API}/users/me")
    assert_problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}


# --- the docs pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_docs_pages_load_nothing_from_outside_and_their_csp_allows_their_own_scripts(
    client: AsyncClient, path: str
) -> None:
    import base64
    import hashlib

    response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    csp = response.headers["content-security-policy"]
    urls = re.findall(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""", html)
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert not re.search(r"https?://", html) and not re.search(r"https?://", csp)
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    for script in re.findall(r"<script>(.*?)</script>", html, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    for url in urls:  # every asset the page names is served here
        assert (await client.get(url)).status_code == 200, url


# --- request ids and logs --------------------------------------------------------------------------


@pytest.fixture
async def failing_client(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> AsyncIterator[AsyncClient]:
    """The app with one extra route that fails unexpectedly (for the 500 path)."""
    async with app_client(settings, engine, sessionmaker) as http:
        app: FastAPI = http._transport.app  # type: ignore[attr-defined]

        @app.get("/test-boom")
        async def boom() -> None:
            raise RuntimeError("boom")

        yield http


async def test_every_answer_has_a_request_id_taken_from_the_client_when_well_formed(
    failing_client: AsyncClient,
) -> None:
    http = failing_client
    kept = await http.get("/health", headers={"X-Request-ID": "abc.DEF-123_x"})
    assert kept.headers["x-request-id"] == "abc.DEF-123_x"
    for bad in ("has space", "x" * 65, "semi;colon", ""):
        made = await http.get("/health", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"]), bad
    answers = [
        await http.get(f"{API}/users/me"),
        await http.get(f"{API}/nothing-here"),
        await http.delete(f"{API}/users/me"),
        await http.post(f"{API}/auth/register", json={}),
        await http.get("/test-boom"),
    ]
    assert [a.status_code for a in answers] == [401, 404, 405, 422, 500]
    for answer in answers:
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
        assert_hardened(answer)
    assert_problem(answers[-1], 500)
    assert len({a.headers["x-request-id"] for a in answers}) == len(answers)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", stream)
    yield stream
    configure_logging("json")


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_json_log_line_per_request_with_its_context(
    failing_client: AsyncClient, log_stream: io.StringIO
) -> None:
    http = failing_client
    actor = await register(http)
    log_stream.truncate(0), log_stream.seek(0)
    response = await http.get(f"{API}/users/{actor.id}", headers={**actor.headers, "X-Request-ID": "req-1"})
    failed = await http.get("/test-boom", headers={"X-Request-ID": "req-2"})
    assert response.status_code == 200 and failed.status_code == 500

    lines = json_lines(log_stream)
    requests = [line for line in lines if line["logger"] == "app.request" and "route" in line]
    assert len(requests) == 2
    first = requests[0]
    assert {k: first[k] for k in ("method", "route", "status", "request_id", "user_id")} == {
        "method": "GET",
        "route": f"{API}/users/{{user_id}}",
        "status": 200,
        "request_id": "req-1",
        "user_id": actor.id,
    }
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert requests[1]["status"] == 500 and requests[1]["user_id"] is None
    # Every line written during a request carries its id: here the traceback of the failure.
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == "req-2" and "RuntimeError: boom" in error["exc"]


async def test_text_logs_carry_the_request_id(client: AsyncClient) -> None:
    stream = io.StringIO()
    configure_logging("text", stream)
    try:
        await client.get("/health", headers={"X-Request-ID": "text-id-1"})
    finally:
        configure_logging("json")
    line = next(line for line in stream.getvalue().splitlines() if "app.request" in line)
    assert "[text-id-1]" in line and "GET /health 200" in line


# --- /metrics --------------------------------------------------------------------------------------


async def test_metrics_answer_loopback_only_without_a_token(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    async with started_app(settings, engine, sessionmaker) as app:
        for address, status in (("127.0.0.1", 200), ("::1", 200), ("203.0.113.9", 403), ("10.0.0.5", 403)):
            transport = ASGITransport(app=app, client=(address, 1234))
            async with AsyncClient(transport=transport, base_url="http://test") as http:
                response = await http.get("/metrics")
            assert response.status_code == status, address
            if status == 403:
                assert_problem(response, 403)


async def test_metrics_answer_only_the_token_when_one_is_set(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[UnitOfWork]
) -> None:
    token_settings = settings.model_copy(update={"metrics_token": "metrics-token-0123456789"})
    async with started_app(token_settings, engine, sessionmaker) as app:
        transport = ASGITransport(app=app, client=("127.0.0.1", 1234))  # loopback is not enough now
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            assert_problem(await http.get("/metrics"), 401)
            assert_problem(await http.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
            good = await http.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
    assert good.status_code == 200 and "http_requests_total" in good.text and "cache_lookups" in good.text


# --- serve, and the layering -----------------------------------------------------------------------


def test_serve_runs_uvicorn_without_a_server_banner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    import uvicorn

    from app import cli
    from app.settings import get_settings

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("APP_ENVIRONMENT", "test")
    monkeypatch.setenv("APP_DATABASE_URL", database_url)
    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        cli.main(["serve", "--no-demo"])
    finally:
        get_settings.cache_clear()
    assert calls and calls[0]["server_header"] is False
    assert calls[0]["log_config"] is None  # uvicorn's own records go through the app's handler


def test_nothing_under_app_cache_imports_app_db() -> None:
    offenders = []
    for path in sorted((ROOT / "app" / "cache").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n == "app.db" or n.startswith("app.db.")]
    assert offenders == []
