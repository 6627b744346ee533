"""Browser tests: Debian's Chromium driven by Playwright against a real server on a fresh database.

Each pytest process starts its own uvicorn (the built app in app/web/ served by the API) on a free port,
on its own database made by `scratch_database`. Without /usr/bin/chromium the tests skip with that reason,
unless E2E_REQUIRED=1 (set by .ci/run): then a missing browser is a failure.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import _server_url, scratch_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-key-0123456789abcdef0123456789"
SHORT_TTL_SECONDS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    environment: dict[str, str]  # what it runs with: a task worker started with it shares its database and outbox

    @property
    def outbox(self) -> Path:
        """Where its e-mails are written (no APP_SMTP_URL), once a task worker sent them."""
        return Path(self.environment["APP_DATA_DIR"]) / "outbox"

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"{self.url}/api/v1", timeout=10)


def _start_server(database_url: str, log: Path, **env: str) -> Server:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "APP_DATABASE_URL": database_url,
        "APP_DATA_DIR": str(log.parent / "data"),
        "APP_PUBLIC_URL": url,  # the links in its e-mails lead to it
        "APP_ENVIRONMENT": "test",
        "APP_SECRET_KEY": SECRET,
        "APP_ARGON2_MEMORY_KIB": "1024",
        "APP_REDIS_URL": "",
        "APP_RATE_LIMIT_ENABLED": "false",  # the tests sign many accounts in from one address
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return Server(url, process, environment)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the server did not become ready: {log.read_text()[-2000:]}")


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def e2e_database() -> Iterator[str]:
    if not (ROOT / "app" / "web" / "index.html").is_file():
        pytest.fail("app/web/ has no build: run scripts/build-web")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with scratch_database(_server_url(), f"marketplace_e2e_{worker}") as url:
        yield url


@pytest.fixture(scope="session")
def server(e2e_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = _start_server(e2e_database, tmp_path_factory.mktemp("server") / "uvicorn.log")
    yield started
    _stop(started)


@pytest.fixture(scope="session")
def short_ttl_server(e2e_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The same service and database, but access tokens expire after SHORT_TTL_SECONDS."""
    log = tmp_path_factory.mktemp("short-ttl") / "uvicorn.log"
    started = _start_server(e2e_database, log, APP_ACCESS_TOKEN_TTL_SECONDS=str(SHORT_TTL_SECONDS))
    yield started
    _stop(started)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(f"{CHROMIUM} is missing and E2E_REQUIRED=1 (CI installs it: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); the browser tests need it")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    # Playwright's async API, on the suite's one event loop: its sync API would keep a loop running in this
    # thread and break every async test after it.
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Recorder:
    """Every request a browser context made, every console error and page error."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self, origin: str) -> list[str]:
        return [u for u in self.requests if not u.startswith(origin + "/") and u != origin]


@pytest.fixture
async def new_context(server: Server, browser: Any) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Open a browser context (one per actor); at the end, none may have asked another origin for anything,
    and no page may have hit a Content Security Policy violation or a script error."""
    opened: list[tuple[Any, Recorder, str]] = []

    async def open_context(on: Server = server) -> Any:
        context = await browser.new_context(base_url=on.url, geolocation={"latitude": 52.52, "longitude": 13.405},
                                            permissions=["geolocation"])  # fmt: skip
        recorder = Recorder()
        context.on("request", lambda request: recorder.requests.append(request.url))
        context.on("page", lambda page: _watch(page, recorder))
        context.set_default_timeout(10_000)
        opened.append((context, recorder, on.url))
        return context

    yield open_context
    for context, recorder, origin in opened:
        await context.close()
        assert recorder.foreign(origin) == [], "requests to another origin"
        broken = [e for e in recorder.errors if "Content Security Policy" in e or e.startswith("pageerror")]
        assert broken == [], broken


def _watch(page: Any, recorder: Recorder) -> None:
    page.on("console", lambda m: recorder.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: recorder.errors.append(f"pageerror: {e}"))
    page.on("dialog", lambda dialog: dialog.accept())
