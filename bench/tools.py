"""The load generators: wrk at saturation (with bench/mix.lua), hey at a fixed rate, and a cache filler."""

import json
import math
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.balancer import haproxy_binary
from bench.metrics import hit_rate

LUA_SCRIPT = Path(__file__).resolve().parent / "mix.lua"
WRK_THREADS, WRK_CONNECTIONS = 2, 32
FIXED_WORKERS, FIXED_QPS_PER_WORKER = 5, 10  # 5 hey processes x 10 requests/s = 50 requests/s


def run_wrk(base: str, request_file: Path, seconds: int) -> dict[str, Any]:
    """wrk at saturation with bench/mix.lua; its JSON summary plus requests/s and the cache hit rate."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["-s", str(LUA_SCRIPT), base, "--", str(request_file), str(WRK_THREADS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    summary = next((text for text in done.stdout.splitlines() if text.startswith("BENCH_JSON ")), None)
    if summary is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(summary.removeprefix("BENCH_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["latency_ms"] = {key: value / 1000 for key, value in result.pop("latency_us").items()}
    result["hit_rate"] = hit_rate(result["x_cache"])
    return result


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def run_hey(url: str, headers: dict[str, str], seconds: int) -> dict[str, Any]:
    """50 requests/s, evenly spaced: FIXED_WORKERS hey processes of one closed-loop worker at
    FIXED_QPS_PER_WORKER requests/s each, started 1/50 s apart. (One `hey -c 5 -q 10` fires its five workers
    in lockstep: bursts of five simultaneous requests every 100 ms, which queue behind each other.)
    Returns the achieved rate, status counts and latency percentiles in ms."""
    command = ["hey", "-z", f"{seconds}s", "-c", "1", "-q", str(FIXED_QPS_PER_WORKER), "-t", "10", "-o", "csv"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    rows: list[str] = []
    with ExitStack() as stack:
        outputs = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(FIXED_WORKERS)]
        processes: list[subprocess.Popen[str]] = []
        stack.callback(lambda: [process.kill() for process in processes if process.poll() is None])
        for output in outputs:
            processes.append(subprocess.Popen([*command, url], stdout=output, stderr=subprocess.DEVNULL, text=True))
            time.sleep(1 / (FIXED_WORKERS * FIXED_QPS_PER_WORKER))
        for process, output in zip(processes, outputs, strict=True):
            process.wait(timeout=seconds + 60)
            output.seek(0)
            rows += output.read().splitlines()[1:]  # response-time,DNS+dialup,DNS,...,status-code,offset
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    for row in rows:
        fields = row.split(",")
        if len(fields) == 8:
            latencies.append(float(fields[0]) * 1000)
            statuses[fields[6]] += 1
    latencies.sort()
    if not latencies:
        raise RuntimeError(f"hey recorded no response for {url}")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "statuses": dict(statuses),
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": latencies[-1],
    }


def tool_versions() -> dict[str, str]:
    """wrk's banner; hey has no version flag, so its Debian package version when dpkg knows it."""
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    hey = "hey"
    if shutil.which("dpkg-query"):
        package = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "hey"], capture_output=True, text=True, timeout=10
        )
        hey += f" {package.stdout.strip()}" if package.returncode == 0 else ""
    versions = {"wrk": (wrk.stdout + wrk.stderr).splitlines()[0].strip(), "hey": hey}
    binary = haproxy_binary()
    if binary:
        banner = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()
        versions["haproxy"] = " ".join(banner[0].split()[:3]) if banner else "haproxy"
    return versions


def check_tools(haproxy: bool = False) -> None:
    """Stop with the install command if wrk, hey or (when wanted) haproxy is missing (nothing is installed
    silently)."""
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if haproxy and haproxy_binary() is None:
        missing.append("haproxy")
    if missing:
        raise SystemExit(f"{' and '.join(missing)} not found: install with `apt-get install -y {' '.join(missing)}`")
