"""HAProxy in front of several `marketplace serve` processes: its generated configuration and its process.

The Debian package's binary (`apt-get install -y haproxy`), run in the foreground with a configuration of the
benchmark's own (never /etc/haproxy): HTTP mode, round robin, keep-alive on both sides, and a health check of
`GET /health` every second on each server. Used by `bench.load` (2 instances vs 1) and tests/test_instances.py.
"""

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

HAPROXY = "/usr/sbin/haproxy"
# Long enough for a notification stream (SSE) held through the balancer; the app sends keep-alive comments.
TUNNEL_TIMEOUT = "1h"


def haproxy_binary() -> str | None:
    """The haproxy executable, if installed."""
    return shutil.which("haproxy") or (HAPROXY if Path(HAPROXY).exists() else None)


def haproxy_config(port: int, backends: Sequence[int], threads: int = 1) -> str:
    """HTTP mode, round robin over `backends` (loopback ports), keep-alive, health checks on /health.

    One thread: on the benchmark's 2 cores the balancer shares the machine with the load generator, the
    servers, PostgreSQL and Redis; more threads would only add context switches."""
    servers = "\n".join(
        f"    server app{index} 127.0.0.1:{backend} check inter 1s fall 2 rise 1"
        for index, backend in enumerate(backends)
    )
    return f"""global
    nbthread {threads}
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    timeout tunnel {TUNNEL_TIMEOUT}

frontend bench
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    http-reuse safe
{servers}
"""


@contextmanager
def balanced(backends: Sequence[int], workdir: Path, port: int | None = None) -> Iterator[str]:
    """HAProxy on a free loopback port in front of `backends`, until every server passes its health check;
    yields its base URL."""
    from bench.server import free_port, http_get, process_on

    binary = haproxy_binary()
    if binary is None:
        raise SystemExit("haproxy not found: install with `apt-get install -y haproxy`")
    port = port or free_port()
    config = workdir / "haproxy.cfg"
    config.write_text(haproxy_config(port, backends))
    check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise SystemExit(f"haproxy rejected {config}:\n{check.stdout}{check.stderr}")
    base = f"http://127.0.0.1:{port}"
    with process_on([binary, "-db", "-f", str(config)], {}, workdir / "haproxy.log", base + "/health", None):
        # Round robin reaches every server only once each has passed a check (rise 1, every second).
        for _ in range(4 * len(backends)):
            http_get(base + "/health", timeout=5)
        yield base
