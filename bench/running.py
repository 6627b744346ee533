"""One configuration's run: start the server, fill the cache, drive wrk and hey, scrape /metrics, stop it."""

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.metrics import Samples, delta, fmt_rate, lookups_per_route, statements_per_route, statuses_per_route
from bench.scenarios import SATURATION, MixBuilder
from bench.server import drop_namespace, fill_cache, pool_size, scrape, serve, server_problems
from bench.tools import run_hey, run_wrk

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATIONS = ((1, False), (1, True), (2, False), (2, True))  # (uvicorn workers, cache enabled)


@dataclass(frozen=True)
class Timing:
    """How long each run lasts and how many requests the mix file holds."""

    saturation: int  # seconds per measured wrk run (and of the read-only warm-up before the mixes)
    warmup: int  # seconds of unmeasured wrk before each scenario
    fill: int  # at most this many seconds to request every key of a scenario once (cache on)
    fixed: int  # seconds per hey run at 50 requests/s
    mix_length: int  # requests in the mix file (each thread replays its share; writes are sent once a pass)


FULL = Timing(saturation=10, warmup=3, fill=90, fixed=10, mix_length=40_000)
QUICK = Timing(saturation=3, warmup=1, fill=30, fixed=3, mix_length=8_000)


def log(message: str) -> None:
    """Progress on stderr, with the time."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def run_configuration(
    workers: int,
    cache: bool,
    builder: MixBuilder,
    reviews: list[tuple[int, int, str, int]],
    args: argparse.Namespace,
    timing: Timing,
    workdir: Path,
) -> dict[str, Any]:
    """Start the server for (workers, cache), run every measurement against it, stop it."""
    label = f"{workers}w-{'on' if cache else 'off'}"
    namespace = f"bench-{int(time.time())}-{label}"
    log_path = workdir / f"server-{label}.log"
    result: dict[str, Any] = {"workers": workers, "cache": cache, "label": label, "namespace": namespace}
    result["code"] = code_version()  # the server runs the working tree as it is now
    scenarios, files, drawn = _request_files(builder, reviews, timing, workdir, label)
    result["mix_composition"] = dict(drawn)

    log(f"{label}: starting the server (pool {pool_size(workers)} + overflow per process)")
    with serve(args.database_url, args.redis_url, workers, cache, namespace, log_path) as base:
        one_process = workers == 1  # with 2 workers each process keeps its own /metrics counters
        start = scrape(base) if one_process else {}
        result["cache_filled"], result["saturation"], scrapes = _saturate(
            base, label, cache, scenarios, files, timing, one_process
        )
        result["fixed_rate"] = _fixed_rate(base, label, builder, timing)
        if one_process:
            result |= _counted(start, scrape(base), scrapes)
    result["server"] = server_problems(log_path)
    result["redis_keys_dropped"] = drop_namespace(args.redis_url, namespace)
    return result


def _request_files(
    builder: MixBuilder, reviews: list[tuple[int, int, str, int]], timing: Timing, workdir: Path, label: str
) -> tuple[dict[str, list[str]], dict[str, Path], Counter[str]]:
    """Each saturation scenario's requests, every request file wrk replays, and what the realistic mix drew."""

    def request_file(name: str, lines: list[str]) -> Path:
        path = workdir / f"{label}-{name}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path

    scenarios = {name: builder.scenario(name) for name in SATURATION}
    files = {name: request_file(name, lines) for name, lines in scenarios.items()}
    read_only, _ = builder.mix(timing.mix_length, [], writes=False)
    warm, _ = builder.mix(timing.mix_length // 4, [], writes=False)
    mix_lines, drawn = builder.mix(timing.mix_length, reviews, writes=True)
    # Every distinct read of both mixes, sent once before they run (with the cache on): a steady state.
    scenarios["mix_reads"] = sorted({x for x in [*read_only, *mix_lines] if x.startswith("GET\t")})
    files |= {
        "mix_warmup": request_file("mix-warmup", warm),
        "mix_read_only": request_file("mix-read-only", read_only),
        "mix": request_file("mix", mix_lines),
    }
    return scenarios, files, drawn


def _saturate(
    base: str,
    label: str,
    cache: bool,
    scenarios: dict[str, list[str]],
    files: dict[str, Path],
    timing: Timing,
    one_process: bool,
) -> tuple[dict[str, int], dict[str, Any], list[Samples]]:
    """wrk over each scenario (cache filled first when on), then the warm-up and the two mixes.

    Returns the requests that answered 200 while filling, the wrk results by scenario, and the /metrics scrapes
    around the mixes (empty with several processes)."""
    saturation: dict[str, Any] = {}
    filled = {}
    for name in SATURATION:
        if cache:
            filled[name] = fill_cache(base, scenarios[name], timing.fill)
        run_wrk(base, files[name], timing.warmup)
        run = saturation[name] = run_wrk(base, files[name], timing.saturation)
        log(f"{label}: {name:<16} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
    if cache:
        log(f"{label}: filling the mixes' {len(scenarios['mix_reads'])} read URLs")
        fill_cache(base, scenarios["mix_reads"], timing.fill)
    run_wrk(base, files["mix_warmup"], timing.saturation)
    scrapes = [scrape(base) if one_process else {}]
    for name in ("mix_read_only", "mix"):
        saturation[name] = run_wrk(base, files[name], timing.saturation)
        scrapes.append(scrape(base) if one_process else {})
    for name in ("mix_read_only", "mix"):
        run = saturation[name]
        log(f"{label}: {name:<16} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
    return filled, saturation, scrapes


def _fixed_rate(base: str, label: str, builder: MixBuilder, timing: Timing) -> list[dict[str, Any]]:
    """hey at 50 requests/s against every read endpoint's heaviest URL."""
    fixed = []
    for name, path, headers in builder.data.fixed_rate:
        run = run_hey(base + path, headers, timing.fixed)
        fixed.append({"name": name, "path": path, **run})
        log(f"{label}: 50/s {name:<24} p99 {run['p99']:7.1f} ms at {run['rps']:5.1f} req/s")
    return fixed


def _counted(start: Samples, end: Samples, scrapes: list[Samples]) -> dict[str, Any]:
    """What /metrics counted over the configuration (statements, statuses, backend errors) and over the mixes."""
    return {
        "statements": statements_per_route(start, end),
        "lookups": {
            "mix_read_only": lookups_per_route(scrapes[0], scrapes[1]),
            "mix": lookups_per_route(scrapes[1], scrapes[2]),
        },
        "mix_statuses": statuses_per_route(scrapes[1], scrapes[2]),
        "statuses": statuses_per_route(start, end),
        "cache_backend_errors": {
            dict(labels)["operation"]: int(n) for labels, n in delta(start, end, "cache_backend_errors_total").items()
        },
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return {
        "nproc": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def code_version() -> str:
    """The commit the server ran, and whether app/ or alembic/ had uncommitted changes."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "app", "alembic"], capture_output=True, text=True, timeout=10
    )
    return head.stdout.strip() + (" with uncommitted changes in app/ or alembic/" if dirty.stdout.strip() else "")
