"""One configuration's run: start the server, fill the cache, drive wrk and hey, scrape /metrics, stop it."""

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.metrics import Samples, delta, fmt_rate, lookups_per_route, statements_per_route, statuses_per_route
from bench.scenarios import RAW_FIXED_RATE, RAW_SATURATION, SATURATION, MixBuilder
from bench.server import drop_namespace, fill_cache, pool_size, scrape, serve, serve_raw, server_problems
from bench.tools import run_hey, run_wrk

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"


@dataclass(frozen=True)
class Config:
    """One configuration of a run: what serves, with which cache, and what is measured on it."""

    label: str
    title: str
    cache: bool = False
    near: bool = False  # APP_CACHE_NEAR (the in-process tier in front of Redis)
    instances: int = 0  # 0: one `marketplace serve`, loaded directly; N: N of them behind HAProxy
    raw: bool = False  # the raw yardsticks (bench/raw.py) instead of the project
    scenarios: tuple[str, ...] = SATURATION
    mixes: bool = True  # the read-only and the realistic mix
    fixed: bool = False  # hey at 50 requests/s on every read endpoint (the raw ones: their four)
    # Raw yardstick scenarios measured beside this configuration: each right after the project's run of the
    # same scenario (the no-op after the project's first), so a ratio compares runs seconds apart.
    paired: tuple[str, ...] = ()
    raw_fixed: bool = False  # and the yardsticks' fixed-rate runs, after the project's

    @property
    def counted(self) -> bool:
        """One project process loaded directly: its /metrics counts everything the run sent."""
        return not self.raw and self.instances == 0


def configurations(instances: int) -> list[Config]:
    """The configurations of a run: the yardsticks, the project uncached, cached, cached with the near tier,
    and (instances >= 2) 1 vs `instances` servers behind HAProxy."""
    configs = [
        Config("off", "cache off", fixed=True, paired=RAW_SATURATION[:-1], raw_fixed=True),
        Config("on", "cache on, near off", cache=True, paired=("noop", "cached_job_detail")),
        Config(
            "near",
            "cache on, near on",
            cache=True,
            near=True,
            scenarios=("noop", "job_detail", "search", "reviews"),
            paired=("noop",),
        ),
    ]
    if instances >= 2:
        for count in (1, instances):
            configs.append(
                Config(
                    f"lb{count}",
                    f"{count} instance{'s' if count > 1 else ''} behind HAProxy, cache on, near on",
                    cache=True,
                    near=True,
                    instances=count,
                    scenarios=("job_detail",),
                )
            )
    return configs


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
    config: Config,
    builder: MixBuilder,
    reviews: list[tuple[int, int, str, int]],
    args: argparse.Namespace,
    timing: Timing,
    workdir: Path,
) -> list[dict[str, Any]]:
    """Start the server(s) of `config` (and the raw yardsticks beside them when paired), run every measurement,
    stop them. Returns the configuration's results, then those of the yardsticks measured beside it."""
    label = config.label
    namespace = f"bench-{int(time.time())}-{label}"
    log_dir = workdir / label
    log_dir.mkdir()
    result: dict[str, Any] = {**asdict(config), "namespace": namespace}
    result["code"] = code_version()  # the server runs the working tree as it is now
    scenarios, files, drawn = _request_files(builder, reviews, timing, log_dir, config)
    result["mix_composition"] = dict(drawn)
    raw_config = Config(
        f"raw@{label}",
        f"raw yardsticks, measured beside {label}",
        raw=True,
        scenarios=config.paired,
        mixes=False,
        fixed=config.raw_fixed,
    )
    raw_result: dict[str, Any] = {**asdict(raw_config), "namespace": namespace, "code": result["code"]}
    raw_dir = workdir / raw_config.label
    raw_dir.mkdir()
    raw_scenarios, raw_files, _ = _request_files(builder, [], timing, raw_dir, raw_config)

    count = max(1, config.instances)
    log(f"{label}: starting {config.title} ({count} process(es), pool {pool_size(count)} + overflow each)")
    with ExitStack() as stack:
        base = stack.enter_context(
            serve(args.database_url, args.redis_url, config.cache, config.near, namespace, log_dir, config.instances)
        )
        raw = None
        if config.paired:
            raw = Paired(
                stack.enter_context(serve_raw(args.database_url, args.redis_url, namespace, raw_dir / "raw.log"))
            )
            raw.config, raw.scenarios, raw.files = raw_config, raw_scenarios, raw_files
        start = scrape(base) if config.counted else {}
        result["cache_filled"], result["saturation"], scrapes = _saturate(base, config, scenarios, files, timing, raw)
        result["fixed_rate"] = _fixed_rate(base, config, builder, timing) if config.fixed else []
        if config.counted:
            result |= _counted(start, scrape(base), scrapes)
        if raw is not None:
            raw_result["saturation"], raw_result["cache_filled"] = raw.saturation, raw.filled
            raw_result["fixed_rate"] = _fixed_rate(raw.base, raw_config, builder, timing) if raw_config.fixed else []
    result["server"] = server_problems(log_dir)
    result["redis_keys_dropped"] = drop_namespace(args.redis_url, namespace)
    if not config.paired:
        return [result]
    raw_result["server"] = server_problems(raw_dir)
    return [result, raw_result]


@dataclass
class Paired:
    """The raw yardsticks running beside a configuration, and what was measured on them."""

    base: str
    config: Config | None = None
    scenarios: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    saturation: dict[str, Any] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)

    def measure(self, name: str, timing: Timing) -> None:
        """One yardstick scenario at saturation (the one-Redis-GET scenario filled first)."""
        if name == "cached_job_detail":
            self.filled[name] = fill_cache(self.base, self.scenarios[name], timing.fill)
        run_wrk(self.base, self.files[name], timing.warmup)
        run = self.saturation[name] = run_wrk(self.base, self.files[name], timing.saturation)
        log(f"{self.config.label if self.config else 'raw'}: {name:<18} {run['rps']:8.1f} req/s")


def _request_files(
    builder: MixBuilder, reviews: list[tuple[int, int, str, int]], timing: Timing, workdir: Path, config: Config
) -> tuple[dict[str, list[str]], dict[str, Path], Counter[str]]:
    """Each saturation scenario's requests, every request file wrk replays, and what the realistic mix drew."""

    def request_file(name: str, lines: list[str]) -> Path:
        path = workdir / f"{name}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path

    draw = builder.raw_scenario if config.raw else builder.scenario
    scenarios = {name: draw(name) for name in config.scenarios}
    files = {name: request_file(name, lines) for name, lines in scenarios.items()}
    drawn: Counter[str] = Counter()
    if config.mixes:
        read_only, _ = builder.mix(timing.mix_length, [], writes=False)
        warm, _ = builder.mix(timing.mix_length // 4, [], writes=False)
        mix_lines, drawn = builder.mix(timing.mix_length, reviews, writes=True)
        # Every distinct read of both mixes, sent once before they run (cache on): the steady state's hit rate.
        scenarios["mix_reads"] = sorted({x for x in [*read_only, *mix_lines] if x.startswith("GET\t")})
        files |= {
            "mix_warmup": request_file("mix-warmup", warm),
            "mix_read_only": request_file("mix-read-only", read_only),
            "mix": request_file("mix", mix_lines),
        }
    return scenarios, files, drawn


def _saturate(
    base: str,
    config: Config,
    scenarios: dict[str, list[str]],
    files: dict[str, Path],
    timing: Timing,
    raw: "Paired | None" = None,
) -> tuple[dict[str, int], dict[str, Any], list[Samples]]:
    """wrk over each scenario (cache filled first when on), then the warm-up and the two mixes.

    Returns the requests that answered 200 while filling, the wrk results by scenario, and the /metrics scrapes
    around the mixes (empty unless one process is loaded directly)."""
    saturation: dict[str, Any] = {}
    filled = {}
    for name in config.scenarios:
        if config.cache or name == "cached_job_detail":
            filled[name] = fill_cache(base, scenarios[name], timing.fill)
        run_wrk(base, files[name], timing.warmup)
        run = saturation[name] = run_wrk(base, files[name], timing.saturation)
        log(f"{config.label}: {name:<18} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
        if raw is not None:  # the yardstick right after: the same scenario, and one Redis GET after job detail
            for paired in config.paired:
                if (paired == "cached_job_detail" and name == "job_detail") or paired == name:
                    raw.measure(paired, timing)
    scrapes: list[Samples] = []
    if not config.mixes:
        return filled, saturation, scrapes
    if config.cache:
        log(f"{config.label}: filling the mixes' {len(scenarios['mix_reads'])} read URLs")
        fill_cache(base, scenarios["mix_reads"], timing.fill)
    run_wrk(base, files["mix_warmup"], timing.saturation)
    scrapes.append(scrape(base) if config.counted else {})
    for name in ("mix_read_only", "mix"):
        saturation[name] = run_wrk(base, files[name], timing.saturation)
        scrapes.append(scrape(base) if config.counted else {})
    for name in ("mix_read_only", "mix"):
        run = saturation[name]
        log(f"{config.label}: {name:<18} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
    return filled, saturation, scrapes


def _fixed_rate(base: str, config: Config, builder: MixBuilder, timing: Timing) -> list[dict[str, Any]]:
    """hey at 50 requests/s against every read endpoint's heaviest URL (the yardsticks: the four they have)."""
    fixed = []
    for name, path, headers in builder.data.fixed_rate:
        if config.raw:
            if name not in RAW_FIXED_RATE:
                continue
            path = path.removeprefix(API)
        run = run_hey(base + path, headers, timing.fixed)
        fixed.append({"name": name, "path": path, **run})
        log(f"{config.label}: 50/s {name:<24} p99 {run['p99']:7.1f} ms at {run['rps']:5.1f} req/s")
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
