"""The server under test: `marketplace serve` started the production way, its log, its cache namespace."""

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from bench.metrics import Samples
from bench.tools import WRK_CONNECTIONS

BENCH_SECRET = "bench-only-secret-0123456789abcdefghijklm"  # 40 characters, for the bench server only
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 5.0, headers: dict[str, str] | None = None) -> bytes:
    """GET a loopback URL (the only kind this benchmark talks to)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not a loopback URL: {url}")
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
        return bytes(response.read())


def pool_size(workers: int) -> int:
    """Connections per process so that pool + overflow (as many again) covers its share of wrk's connections."""
    return max(4, math.ceil(WRK_CONNECTIONS / workers / 2))


@contextmanager
def serve(
    database_url: str, redis_url: str, workers: int, cache: bool, namespace: str, log_path: Path
) -> Iterator[str]:
    """Run `marketplace serve` with production settings; yield its base URL; stop it (SIGTERM, then SIGKILL)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("APP_")}
    env.update(
        APP_ENVIRONMENT="production",
        APP_SECRET_KEY=BENCH_SECRET,
        APP_DATABASE_URL=database_url,
        APP_CACHE_ENABLED="true" if cache else "false",
        APP_REDIS_URL=redis_url,
        APP_CACHE_NAMESPACE=namespace,
        APP_DB_POOL_SIZE=str(pool_size(workers)),
    )
    command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--no-demo"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(base, process, workers, log_path)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this command started for the server
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


def wait_ready(base: str, process: subprocess.Popen[bytes], workers: int, log_path: Path) -> None:
    """Until every worker has started and /health/ready answers 200 (bounded by READY_TIMEOUT_SECONDS)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        started = log_path.read_text().count("Application startup complete.")
        if started >= workers:
            try:
                http_get(base + "/health/ready", timeout=2)
                return
            except OSError:
                pass
        time.sleep(0.25)
    raise SystemExit(f"the server was not ready in {READY_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-3000:]}")


def server_problems(log_path: Path) -> dict[str, Any]:
    """Errors in the server's log: tracebacks, error lines, pool timeouts (no access log is written)."""
    lines = log_path.read_text(errors="replace").splitlines()
    errors = [text for text in lines if re.search(r"ERROR|Traceback|Exception|QueuePool limit|TimeoutError", text)]
    return {"error_lines": len(errors), "examples": errors[:5]}


def drop_namespace(redis_url: str, namespace: str) -> int:
    """Delete this run's cache keys from the shared Redis (SCAN + UNLINK of its own prefix only)."""
    client = Redis.from_url(redis_url, socket_timeout=5)
    deleted = 0
    cursor = 0
    try:
        for _ in range(100_000):  # bounded: a SCAN pass over any realistic keyspace takes far fewer steps
            cursor, keys = client.scan(cursor=cursor, match="{" + namespace + "}:*", count=1000)
            if keys:
                deleted += int(client.unlink(*keys))
            if cursor == 0:
                break
    finally:
        client.close()
    return deleted


def fill_cache(base: str, lines: Sequence[str], seconds: int) -> int:
    """Send every (GET) request of a scenario once, 8 at a time, so that its measured run starts with every
    key cached; gives up after `seconds`. Returns how many answered 200."""
    deadline = time.monotonic() + seconds

    def send(entry: str) -> bool:
        if time.monotonic() >= deadline:
            return False
        _, path, token, _ = entry.split("\t")
        try:
            http_get(base + path, timeout=10, headers={"Authorization": f"Bearer {token}"} if token != "-" else {})
        except OSError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(pool.map(send, lines))


def scrape(base: str) -> Samples:
    """Every sample of GET /metrics, keyed by (name, sorted labels)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(http_get(base + "/metrics").decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples
