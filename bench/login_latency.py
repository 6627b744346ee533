"""/health latency while 20 wrong-password logins hash (docs/security.md, "Authentication").

Starts the service the production way (uvicorn, uvloop, httptools, 1 worker, argon2 at its production cost)
on the given database, makes one account, then fires N concurrent wrong-password logins and probes
GET /health back to back until they are all answered. Rate limits are off for the run (they would
refuse the burst: that is their job, not what is measured here).

    python -m bench.login_latency --database-url postgresql://postgres@127.0.0.1/marketplace_bench
"""

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.cli import migrate
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("the server did not start")


def summary(latencies_ms: list[float]) -> str:
    ordered = sorted(latencies_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"n={len(ordered)} median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"


async def measure(base: str, logins: int) -> None:
    limits = httpx.Limits(max_connections=logins + 5)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        email = f"latency-{secrets.token_hex(4)}@bench.example"
        account = {"email": email, "password": "a long bench password", "full_name": "Bench", "role": "worker"}
        assert (await http.post("/api/v1/auth/register", json=account)).status_code == 201

        idle = []
        for _ in range(50):
            started = time.perf_counter()
            await http.get("/health")
            idle.append((time.perf_counter() - started) * 1000)

        async def login() -> float:
            started = time.perf_counter()
            response = await http.post("/api/v1/auth/token", data={"username": email, "password": "wrong password!"})
            assert response.status_code == 401, response.text
            return (time.perf_counter() - started) * 1000

        burst_started = time.perf_counter()
        tasks = [asyncio.create_task(login()) for _ in range(logins)]
        during = []
        while not all(task.done() for task in tasks):
            started = time.perf_counter()
            assert (await http.get("/health")).status_code == 200
            during.append((time.perf_counter() - started) * 1000)
        login_ms = await asyncio.gather(*tasks)
        burst_ms = (time.perf_counter() - burst_started) * 1000

    print(f"/health, idle:                       {summary(idle)}")
    print(f"/health, during {logins} logins:          {summary(during)}")
    print(f"the {logins} logins (401 each):          {summary(list(login_ms))}; all answered in {burst_ms:.0f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="APP_PASSWORD_HASH_CONCURRENCY of the server")
    args = parser.parse_args(argv)
    if urlsplit(args.database_url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("only loopback targets")
    settings = Settings(environment="test", database_url=args.database_url)
    migrate(settings.database_url)
    port = free_port()
    env = {
        **os.environ,
        "APP_ENVIRONMENT": "production",
        "APP_SECRET_KEY": secrets.token_urlsafe(48),
        "APP_DATABASE_URL": args.database_url,
        "APP_REDIS_URL": "",
        "APP_RATE_LIMIT_ENABLED": "false",
        "APP_PASSWORD_HASH_CONCURRENCY": str(args.concurrency),
        "APP_ARGON2_MEMORY_KIB": "65536",  # the production cost
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-server-header", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"

        async def run() -> None:
            async with httpx.AsyncClient(base_url=base) as http:
                await wait_ready(http, process)
            await measure(base, args.logins)

        print(f"argon2 65536 KiB, APP_PASSWORD_HASH_CONCURRENCY={args.concurrency}, {os.cpu_count()} cores")
        asyncio.run(run())
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
