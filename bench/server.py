"""The servers under test: `marketplace serve` started the production way (alone, or several behind HAProxy),
the raw yardsticks (bench/raw.py) served the same way, their logs, the cache namespace."""

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
from contextlib import ExitStack, contextmanager
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


def pool_size(processes: int) -> int:
    """Connections per process so that pool + overflow (as many again) covers its share of wrk's connections."""
    return max(4, math.ceil(WRK_CONNECTIONS / processes / 2))


def app_env(database_url: str, redis_url: str, cache: bool, near: bool, namespace: str, pool: int) -> dict[str, str]:
    """The environment of a production `marketplace serve` for the benchmark (no APP_* of the caller's)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("APP_")}
    env.update(
        APP_ENVIRONMENT="production",
        APP_SECRET_KEY=BENCH_SECRET,
        APP_DATABASE_URL=database_url,
        APP_CACHE_ENABLED="true" if cache else "false",
        # The near-cache tier (issue #12); a build without it ignores the variable.
        APP_CACHE_NEAR="true" if near else "false",
        APP_REDIS_URL=redis_url,
        APP_CACHE_NAMESPACE=namespace,
        APP_DB_POOL_SIZE=str(pool),
    )
    return env


@contextmanager
def process_on(
    command: Sequence[str], env: dict[str, str], log_path: Path, ready: str, started_line: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` in its own process group until `ready` (a loopback URL) answers; stop it afterwards
    (SIGTERM, then SIGKILL of the group it started)."""
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            list(command), env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_ready(ready, process, log_path, started_line)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL of the process group this module started for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def serve_command(port: int, workers: int = 1) -> list[str]:
    """`marketplace serve` on the loopback interface, without the demo data."""
    command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--no-demo"]
    return [*command, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


@contextmanager
def serve(
    database_url: str, redis_url: str, cache: bool, near: bool, namespace: str, log_dir: Path, instances: int = 0
) -> Iterator[str]:
    """Run `marketplace serve` (1 worker) with production settings; yield the base URL to load.

    instances 0: one server, loaded directly; N >= 1: N servers behind HAProxy (bench/balancer.py), over the
    same database and Redis, each with its share of the connection pool."""
    count = max(1, instances)
    ports = [free_port() for _ in range(count)]
    env = app_env(database_url, redis_url, cache, near, namespace, pool_size(count))
    with ExitStack() as stack:
        for index, port in enumerate(ports):
            base = f"http://127.0.0.1:{port}"
            log_path = log_dir / f"server-{index}.log"
            stack.enter_context(
                process_on(serve_command(port), env, log_path, base + "/health/ready", "Application startup complete.")
            )
        if instances == 0:
            yield f"http://127.0.0.1:{ports[0]}"
            return
        from bench.balancer import balanced

        yield stack.enter_context(balanced(ports, log_dir))


@contextmanager
def serve_raw(database_url: str, redis_url: str, namespace: str, log_path: Path) -> Iterator[str]:
    """Run the raw yardsticks (bench/raw.py) as `marketplace serve` runs the project; yield the base URL."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("APP_", "RAW_"))}
    env.update(
        RAW_DATABASE_URL=database_url,
        RAW_REDIS_URL=redis_url,
        RAW_NAMESPACE=namespace,
        RAW_SECRET_KEY=BENCH_SECRET,
        RAW_POOL_SIZE=str(pool_size(1)),
    )
    command = [sys.executable, "-m", "bench.raw", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with process_on(command, env, log_path, base + "/noop", "Application startup complete."):
        yield base


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, started_line: str | None) -> None:
    """Until the log shows `started_line` (if given) and `url` answers 200 (bounded by READY_TIMEOUT_SECONDS)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{log_path.name}: exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if started_line is None or started_line in log_path.read_text(errors="replace"):
            try:
                http_get(url, timeout=2)
                return
            except OSError:
                pass
        time.sleep(0.25)
    raise SystemExit(f"{log_path.name}: not ready in {READY_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-3000:]}")


def server_problems(log_dir: Path) -> dict[str, Any]:
    """Errors in the servers' logs: tracebacks, error lines, pool timeouts (no access log is written)."""
    lines = [text for path in sorted(log_dir.glob("*.log")) for text in path.read_text(errors="replace").splitlines()]
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
