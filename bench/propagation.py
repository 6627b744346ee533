"""How long a write through one instance takes to reach another instance's near tier, under load.

    .venv/bin/python -m bench.propagation [--database-url URL] [--redis-url URL] [--writes N] [--no-load]

Starts two `marketplace serve` processes (A and B, near tier on, one namespace of one Redis) on the benchmark
database. Each round reads a job through B until B serves it from its near tier, renames it through A, and
then reads it through B (as another client: no consistency token) as fast as it can until B answers the new
title: the delay is from A's answer to the first answer of B with the new title. Meanwhile wrk keeps B busy
with near-tier HITs of other jobs (`--no-load`: idle). Prints the distribution; docs/caching.md records it.
"""

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import httpx

from app.security import create_access_token
from app.settings import Settings
from bench.server import BENCH_SECRET, app_env, drop_namespace, free_port, process_on, serve_command
from bench.tools import LUA_SCRIPT

API = "/api/v1"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/marketplace_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


async def jobs_and_owner(database_url: str) -> tuple[int, int, list[int]]:
    """An open job to rename, its owner, and 400 other open jobs for the background load."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id, client_id FROM jobs WHERE status = 'open' ORDER BY id LIMIT 401")
    finally:
        await conn.close()
    return rows[0]["id"], rows[0]["client_id"], [r["id"] for r in rows[1:]]


def near_hit(client: httpx.Client, url: str) -> None:
    for _ in range(20):
        if client.get(url).headers.get("x-cache") == "HIT":
            return
    raise SystemExit(f"{url} never became a HIT")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--no-load", action="store_true", help="B idle (no wrk) while measuring")
    args = parser.parse_args(argv)

    job, owner, others = asyncio.run(jobs_and_owner(args.database_url))
    settings = Settings(environment="production", secret_key=BENCH_SECRET, database_url=args.database_url)
    token = create_access_token(owner, "client", settings)
    namespace = f"bench-propagation-{uuid.uuid4().hex[:8]}"
    env = app_env(args.database_url, args.redis_url, cache=True, near=True, namespace=namespace, pool=8)
    ports = [free_port(), free_port()]
    delays: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-propagation-") as tmp:
        servers = [
            process_on(
                serve_command(port),
                env,
                Path(tmp) / f"server-{port}.log",
                f"http://127.0.0.1:{port}/health/ready",
                "Application startup complete.",
            )
            for port in ports
        ]
        with servers[0], servers[1], httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}") as a:
            b_base = f"http://127.0.0.1:{ports[1]}"
            load = None
            if not args.no_load:
                requests = Path(tmp) / "load.tsv"
                requests.write_text("".join(f"GET\t{API}/jobs/{j}\t-\t-\n" for j in others))
                with httpx.Client(base_url=b_base) as warm:
                    for j in others:
                        warm.get(f"{API}/jobs/{j}")
                command = ["wrk", "-t1", "-c16", "-d3600s", "-s", str(LUA_SCRIPT), b_base, "--", str(requests), "1"]
                load = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                with httpx.Client(base_url=b_base) as b:
                    url = f"{API}/jobs/{job}"
                    for round_ in range(args.writes):
                        near_hit(b, url)
                        title = f"Propagation round {round_} {uuid.uuid4().hex[:6]}"
                        answer = a.patch(url, json={"title": title}, headers={"Authorization": f"Bearer {token}"})
                        written = time.perf_counter()
                        assert answer.status_code == 200, answer.text
                        while b.get(url).json()["title"] != title:
                            pass
                        delays.append((time.perf_counter() - written) * 1000)
            finally:
                if load is not None:
                    load.terminate()
                    load.wait()
    drop_namespace(args.redis_url, namespace)
    over = sum(d > 100 for d in delays)
    print(
        f"{len(delays)} writes through A, B {'idle' if args.no_load else 'under wrk -t1 -c16 of near HITs'}:"
        f" delay until B serves the write, ms: min {min(delays):.2f}, p50 {statistics.median(delays):.2f},"
        f" p90 {percentile(delays, 0.9):.2f}, p99 {percentile(delays, 0.99):.2f}, max {max(delays):.2f};"
        f" over 100 ms: {over}"
    )


if __name__ == "__main__":
    main()
