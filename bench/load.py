"""Load benchmark: the production server against the large dataset, driven by wrk and hey.

    .venv/bin/python -m bench.load [--database-url URL] [--redis-url URL] [--quick]

For 1 and 2 uvicorn workers, with the response cache off and on, the command starts
`marketplace serve --no-demo` the production way (uvloop, httptools, no access log, Redis as the cache)
and measures:

- saturation throughput with wrk (2 threads, 32 connections): the no-op `GET /health` as the yardstick of
  what the framework costs, job detail, job search (q and near), best applicants, a read-only mix and the
  realistic mix with writes (bench/mix.lua counts status codes and X-Cache values);
- latency at a fixed 50 requests/s for every read endpoint with hey (5 staggered processes x 10 requests/s),
  each aimed at the heaviest instance in the dataset (the URLs of bench/plans.py);
- SQL statements per request and cache lookups per route from `GET /metrics` (1 worker only: with 2
  workers each process keeps its own counters).

Results go to docs/bench-results/<timestamp>.json, the section between the bench markers of
docs/performance.md, and PNG plots in docs/img/. `--quick` shortens every run to a smoke test.
Needs `wrk` and `hey` (`apt-get install -y wrk hey`). The dataset is `marketplace seed --scale large`; the
mix writes to it (applications and reviews), as a real load would.
"""

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.security import create_access_token
from app.settings import Settings
from bench.plans import scenario_urls

ROOT = Path(__file__).resolve().parent.parent
LUA_SCRIPT = ROOT / "bench" / "mix.lua"
RESULTS_DIR = ROOT / "docs" / "bench-results"
REPORT = ROOT / "docs" / "performance.md"
IMG_DIR = ROOT / "docs" / "img"
START_MARK, END_MARK = "<!-- bench:start -->", "<!-- bench:end -->"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/marketplace_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
BENCH_SECRET = "bench-only-secret-0123456789abcdefghijklm"  # 40 characters, for the bench server only
API = "/api/v1"

WRK_THREADS, WRK_CONNECTIONS = 2, 32
FIXED_WORKERS, FIXED_QPS_PER_WORKER = 5, 10  # 5 hey processes x 10 requests/s = 50 requests/s
CONFIGURATIONS = ((1, False), (1, True), (2, False), (2, True))  # (uvicorn workers, cache enabled)
READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 30

# The realistic mix, in percent of requests. Reads: 95%; writes: applying and reviewing.
MIX = {
    "list_jobs": 10,
    "search_q": 8,
    "search_category": 6,
    "search_near": 6,
    "search_pay": 3,
    "search_q_near": 2,
    "job_detail": 25,
    "profile": 15,
    "reviews": 8,
    "reviews_given": 2,
    "best_applicants": 5,
    "client_jobs": 5,
    "apply": 3,
    "review_write": 2,
}
WRITES = ("apply", "review_write")
SATURATION = ("noop", "job_detail", "search", "best_applicants")
SCENARIO_TITLES = {
    "noop": "no-op GET /health",
    "job_detail": "GET /jobs/{id}",
    "search": "GET /jobs?q=&near=",
    "best_applicants": "GET /jobs/{id}/best-applicants",
    "mix_read_only": "read-only mix",
    "mix": "realistic mix",
}
# Every read endpoint at a fixed rate: names of bench.plans.scenario_urls (the heaviest instance of each).
FIXED_RATE = (
    "list_jobs newest",
    "list_jobs q",
    "list_jobs category",
    "list_jobs pay",
    "list_jobs near",
    "list_jobs q near",
    "get_job",
    "list_job_applications",
    "list_best_applicants",
    "get_user",
    "list_user_reviews",
    "list_user_given_reviews",
    "list_user_jobs",
    "list_my_applications",
    "get_me",
    "list_user_payments",
    "get_application",
    "get_payment",
    "list_categories",
    "list_skills",
)
# Targets of issue #4.
MAX_STATEMENTS = 3
P99_TARGET_MS = 50.0
HIT_RATE_TARGET = 0.95
NOOP_SHARE_TARGET = 0.5
CACHE_SPEEDUP_TARGETS = {"job_detail": 3.0, "search": 10.0, "best_applicants": 10.0}


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


# ---------------------------------------------------------------------------------------------------------------
# The request set, built from the dataset once


@dataclass
class Dataset:
    """Who and what the load is about, read from the database once."""

    hot_jobs: list[tuple[int, int]]  # open jobs (id, owner), most applied-to first
    profiles: list[int]  # users with the most reviews received
    reviewers: list[int]  # users with the most reviews written
    clients: list[int]  # clients with the most jobs
    workers: list[int]  # every worker
    terms: list[str]  # the most frequent words of open jobs' titles
    cities: list[tuple[str, float, float]]  # (city, lat, lng) with the most open jobs
    categories: list[str]
    review_triples: list[tuple[int, int, str, int]]  # (job, reviewer, reviewer's role, reviewee), not yet reviewed
    fixed_rate: list[tuple[str, str, dict[str, str]]]  # (name, path, headers) per read endpoint


async def load_dataset(settings: Settings, reviews_wanted: int) -> Dataset:
    """Query the populations the load draws from (a few seconds on the large dataset)."""
    engine = create_async_engine(settings.database_url)
    try:
        return await _load_dataset(engine, settings, reviews_wanted)
    finally:
        await engine.dispose()


async def _load_dataset(engine: AsyncEngine, settings: Settings, reviews_wanted: int) -> Dataset:
    """The queries of load_dataset on an open engine."""
    async with engine.connect() as conn:

        async def rows(sql: str, **params: Any) -> list[Any]:
            return list((await conn.execute(text(sql), params)).all())

        hot_jobs = await rows(
            "SELECT id, client_id FROM jobs WHERE status = 'open' ORDER BY applications_count DESC, id LIMIT 2000"
        )
        profiles = await rows("SELECT reviewee_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2000")
        reviewers = await rows("SELECT reviewer_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500")
        clients = await rows("SELECT client_id FROM jobs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500")
        workers = await rows("SELECT id FROM users WHERE role = 'worker' ORDER BY id")
        terms = await rows(
            "SELECT w FROM jobs, regexp_split_to_table(lower(title), '[^a-z]+') AS w "
            "WHERE status = 'open' AND length(w) >= 4 AND numnode(plainto_tsquery('english', w)) > 0 "
            "GROUP BY w ORDER BY count(*) DESC, w LIMIT 24"
        )
        cities = await rows(
            "SELECT city, avg(lat), avg(lng) FROM jobs WHERE status = 'open' AND lat IS NOT NULL "
            "GROUP BY city ORDER BY count(*) DESC, city LIMIT 12"
        )
        categories = await rows("SELECT slug FROM categories ORDER BY id")
        # Both sides of every hire on a completed job, minus the pairs that reviewed already.
        triples = await rows(
            "WITH hires AS (SELECT j.id AS job_id, j.client_id, a.worker_id FROM jobs j "
            "  JOIN applications a ON a.job_id = j.id AND a.status = 'accepted' WHERE j.status = 'completed'), "
            "pairs AS (SELECT job_id, client_id AS reviewer, worker_id AS reviewee FROM hires "
            "  UNION ALL SELECT job_id, worker_id, client_id FROM hires) "
            "SELECT p.job_id, p.reviewer, u.role, p.reviewee FROM pairs p JOIN users u ON u.id = p.reviewer "
            "WHERE NOT EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = p.job_id "
            "  AND r.reviewer_id = p.reviewer AND r.reviewee_id = p.reviewee) "
            "ORDER BY random() LIMIT :n",
            n=reviews_wanted,
        )
    by_name = {name: (url, headers) for name, url, headers in await scenario_urls(engine, settings)}
    missing = [name for name in FIXED_RATE if name not in by_name]
    if missing:
        raise SystemExit(f"bench.plans.scenario_urls has no scenario named {missing}")
    return Dataset(
        hot_jobs=[(job, owner) for job, owner in hot_jobs],
        profiles=[user for (user,) in profiles],
        reviewers=[user for (user,) in reviewers],
        clients=[user for (user,) in clients],
        workers=[user for (user,) in workers],
        terms=[term for (term,) in terms],
        cities=[(city, float(lat), float(lng)) for city, lat, lng in cities],
        categories=[slug for (slug,) in categories],
        review_triples=[(job, reviewer, role, reviewee) for job, reviewer, role, reviewee in triples],
        fixed_rate=[(name, *by_name[name]) for name in FIXED_RATE],
    )


class Zipf:
    """Draws items with weight 1/rank^s: a few hot items get most of the traffic, as in real browsing."""

    def __init__(self, items: Sequence[Any], s: float = 1.0) -> None:
        self.items = list(items)
        self.cum_weights = list(itertools.accumulate(1.0 / rank**s for rank in range(1, len(self.items) + 1)))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]


class Tokens:
    """Access tokens minted with the bench secret (no login traffic), one per user."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.minted: dict[int, str] = {}

    def __call__(self, user_id: int, role: str) -> str:
        if user_id not in self.minted:
            self.minted[user_id] = create_access_token(user_id, role, self.settings)
        return self.minted[user_id]


def line(method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None) -> str:
    """One request of a bench/mix.lua request file: method, path, token, JSON body, tab-separated."""
    return "\t".join((method, path, token or "-", json.dumps(body, separators=(",", ":")) if body else "-"))


def near(city: tuple[str, float, float]) -> str:
    """The `near=lat,lng` value of a city."""
    return f"{city[1]:.4f},{city[2]:.4f}"


def jobs_url(**params: Any) -> str:
    """GET /jobs with these query parameters."""
    return f"{API}/jobs" + (f"?{urlencode(params)}" if params else "")


class MixBuilder:
    """Draws the requests of the realistic mix from the dataset."""

    def __init__(self, data: Dataset, tokens: Tokens, rng: random.Random) -> None:
        self.data = data
        self.tokens = tokens
        self.rng = rng
        self.jobs = Zipf(data.hot_jobs)
        self.busy_jobs = Zipf(data.hot_jobs[:200])
        self.profiles = Zipf(data.profiles)
        self.reviewers = Zipf(data.reviewers)
        self.clients = Zipf(data.clients)
        self.terms = Zipf(data.terms)
        self.cities = Zipf(data.cities)
        self.categories = Zipf(data.categories)

    def request(self, kind: str, reviews: list[tuple[int, int, str, int]]) -> str:
        """One request of `kind`; review writes take (and consume) the next triple of `reviews`."""
        rng = self.rng
        match kind:
            case "list_jobs":
                return line("GET", jobs_url())
            case "search_q":
                return line("GET", jobs_url(q=self.terms.pick(rng)))
            case "search_category":
                return line("GET", jobs_url(category=self.categories.pick(rng)))
            case "search_near":
                return line("GET", jobs_url(near=near(self.cities.pick(rng)), radius_km=25, sort="distance"))
            case "search_pay":
                return line("GET", jobs_url(sort="pay"))
            case "search_q_near":
                return line("GET", jobs_url(q=self.terms.pick(rng), near=near(self.cities.pick(rng)), radius_km=50))
            case "job_detail":
                return line("GET", f"{API}/jobs/{self.jobs.pick(rng)[0]}")
            case "profile":
                return line("GET", f"{API}/users/{self.profiles.pick(rng)}")
            case "reviews":
                return line("GET", f"{API}/users/{self.profiles.pick(rng)}/reviews")
            case "reviews_given":
                return line("GET", f"{API}/users/{self.reviewers.pick(rng)}/reviews/given")
            case "best_applicants":
                job, owner = self.busy_jobs.pick(rng)
                return line("GET", f"{API}/jobs/{job}/best-applicants", self.tokens(owner, "client"))
            case "client_jobs":
                client = self.clients.pick(rng)
                return line("GET", f"{API}/users/{client}/jobs", self.tokens(client, "client"))
            case "apply":
                worker = rng.choice(self.data.workers)
                body = {"cover_letter": "Available this week.", "bid_minor": rng.randrange(2_000, 20_000, 100)}
                return line(
                    "POST", f"{API}/jobs/{self.jobs.pick(rng)[0]}/applications", self.tokens(worker, "worker"), body
                )
            case "review_write":
                job, reviewer, role, reviewee = reviews.pop()
                body = {"reviewee_id": reviewee, "rating": rng.choice((3, 4, 4, 5, 5, 5)), "comment": "Bench review."}
                return line("POST", f"{API}/jobs/{job}/reviews", self.tokens(reviewer, role), body)
        raise ValueError(kind)

    def mix(
        self, length: int, reviews: list[tuple[int, int, str, int]], writes: bool
    ) -> tuple[list[str], Counter[str]]:
        """`length` requests drawn with the MIX weights (reads only unless `writes`), and what they are."""
        kinds = [kind for kind in MIX if writes or kind not in WRITES]
        weights = [MIX[kind] for kind in kinds]
        lines: list[str] = []
        drawn: Counter[str] = Counter()
        for kind in self.rng.choices(kinds, weights=weights, k=length):
            if kind == "review_write" and not reviews:
                kind = "apply"  # no eligible pair left: another write instead
            lines.append(self.request(kind, reviews))
            drawn[kind] += 1
        return lines, drawn

    def scenario(self, name: str) -> list[str]:
        """The request file of one saturation scenario (reads only, rotated by every wrk thread)."""
        data = self.data
        if name == "noop":
            return [line("GET", "/health")]
        if name == "job_detail":
            return [line("GET", f"{API}/jobs/{job}") for job, _ in data.hot_jobs[:1000]]
        if name == "search":
            return [
                line("GET", jobs_url(q=term, near=near(city), radius_km=50))
                for term in data.terms
                for city in data.cities
            ]
        if name == "best_applicants":
            return [
                line("GET", f"{API}/jobs/{job}/best-applicants", self.tokens(owner, "client"))
                for job, owner in data.hot_jobs[:200]
            ]
        raise ValueError(name)


# ---------------------------------------------------------------------------------------------------------------
# The server under test


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


# ---------------------------------------------------------------------------------------------------------------
# Load tools


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


def hit_rate(x_cache: dict[str, int]) -> float | None:
    """HIT / (HIT + MISS + BYPASS) over the responses of cached routes; None if there were none."""
    looked_up = sum(x_cache.get(state, 0) for state in ("HIT", "MISS", "BYPASS"))
    return x_cache.get("HIT", 0) / looked_up if looked_up else None


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


# ---------------------------------------------------------------------------------------------------------------
# /metrics (one process: exact)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base: str) -> Samples:
    """Every sample of GET /metrics, keyed by (name, sorted labels)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(http_get(base + "/metrics").decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(before: Samples, after: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """How much each labelled sample of `name` grew between two scrapes."""
    return {
        labels: value - before.get((sample, labels), 0.0)
        for (sample, labels), value in after.items()
        if sample == name and value - before.get((sample, labels), 0.0) > 0
    }


def statements_per_route(before: Samples, after: Samples) -> list[dict[str, Any]]:
    """Per API route and method: requests, mean SQL statements, and the bucket bounding the largest count."""
    counts = delta(before, after, "http_request_sql_statements_count")
    sums = delta(before, after, "http_request_sql_statements_sum")
    buckets = delta(before, after, "http_request_sql_statements_bucket")
    routes = []
    for labels, count in sorted(counts.items()):
        label = dict(labels)
        if not label["route"].startswith(API):
            continue
        bounds = sorted(
            float(dict(bucket)["le"])
            for bucket, n in buckets.items()
            if {k: v for k, v in bucket if k != "le"} == label and n >= count
        )
        routes.append(
            {
                "route": label["route"],
                "method": label["method"],
                "requests": int(count),
                "mean": sums.get(labels, 0.0) / count,
                "max_at_most": bounds[0] if bounds else math.inf,
            }
        )
    return routes


def lookups_per_route(before: Samples, after: Samples) -> dict[str, dict[str, int]]:
    """cache_lookups_total growth per route and result (hit, miss, bypass)."""
    routes: dict[str, dict[str, int]] = {}
    for labels, value in delta(before, after, "cache_lookups_total").items():
        label = dict(labels)
        routes.setdefault(label["route"], {})[label["result"]] = int(value)
    return routes


def statuses_per_route(before: Samples, after: Samples) -> dict[str, dict[str, int]]:
    """http_requests_total growth per 'METHOD route' and status."""
    routes: dict[str, dict[str, int]] = {}
    for labels, value in delta(before, after, "http_requests_total").items():
        label = dict(labels)
        routes.setdefault(f"{label['method']} {label['route']}", {})[label["status"]] = int(value)
    return routes


# ---------------------------------------------------------------------------------------------------------------
# One configuration


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

    def request_file(name: str, lines: list[str]) -> Path:
        path = workdir / f"{label}-{name}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path

    scenarios = {name: builder.scenario(name) for name in SATURATION}
    files = {name: request_file(name, lines) for name, lines in scenarios.items()}
    read_only, _ = builder.mix(timing.mix_length, [], writes=False)
    warm, _ = builder.mix(timing.mix_length // 4, [], writes=False)
    mix_lines, drawn = builder.mix(timing.mix_length, reviews, writes=True)
    files |= {
        "mix_warmup": request_file("mix-warmup", warm),
        "mix_read_only": request_file("mix-read-only", read_only),
        "mix": request_file("mix", mix_lines),
    }
    result["mix_composition"] = dict(drawn)

    log(f"{label}: starting the server (pool {pool_size(workers)} + overflow per process)")
    with serve(args.database_url, args.redis_url, workers, cache, namespace, log_path) as base:
        one_process = workers == 1
        start = scrape(base) if one_process else {}
        saturation: dict[str, Any] = {}
        filled = {}
        for name in SATURATION:
            if cache:
                filled[name] = fill_cache(base, scenarios[name], timing.fill)
            run_wrk(base, files[name], timing.warmup)
            run = saturation[name] = run_wrk(base, files[name], timing.saturation)
            log(f"{label}: {name:<16} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
        result["cache_filled"] = filled
        run_wrk(base, files["mix_warmup"], timing.saturation)
        scrapes = [scrape(base) if one_process else {}]
        for name in ("mix_read_only", "mix"):
            saturation[name] = run_wrk(base, files[name], timing.saturation)
            scrapes.append(scrape(base) if one_process else {})
        for name in ("mix_read_only", "mix"):
            run = saturation[name]
            log(f"{label}: {name:<16} {run['rps']:8.1f} req/s, hit rate {fmt_rate(run['hit_rate'])}")
        result["saturation"] = saturation

        fixed = []
        for name, path, headers in builder.data.fixed_rate:
            run = run_hey(base + path, headers, timing.fixed)
            fixed.append({"name": name, "path": path, **run})
            log(f"{label}: 50/s {name:<24} p99 {run['p99']:7.1f} ms at {run['rps']:5.1f} req/s")
        result["fixed_rate"] = fixed

        if one_process:
            end = scrape(base)
            result["statements"] = statements_per_route(start, end)
            result["lookups"] = {
                "mix_read_only": lookups_per_route(scrapes[0], scrapes[1]),
                "mix": lookups_per_route(scrapes[1], scrapes[2]),
            }
            result["mix_statuses"] = statuses_per_route(scrapes[1], scrapes[2])
            result["statuses"] = statuses_per_route(start, end)
            result["cache_backend_errors"] = {
                dict(labels)["operation"]: int(n)
                for labels, n in delta(start, end, "cache_backend_errors_total").items()
            }
    result["server"] = server_problems(log_path)
    result["redis_keys_dropped"] = drop_namespace(args.redis_url, namespace)
    return result


# ---------------------------------------------------------------------------------------------------------------
# Targets and report


def fmt_rate(rate: float | None) -> str:
    """A rate as a percentage, or n/a."""
    return "n/a" if rate is None else f"{rate:.1%}"


def config(results: list[dict[str, Any]], workers: int, cache: bool) -> dict[str, Any] | None:
    """The results of one configuration, if it ran."""
    return next((r for r in results if r["workers"] == workers and r["cache"] == cache), None)


def evaluate_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of issue #4 per worker count: the measured value and MET or MISSED."""
    targets: list[dict[str, Any]] = []

    def add(target: str, workers: int | str, measured: str, met: bool) -> None:
        targets.append({"target": target, "workers": workers, "measured": measured, "met": met})

    for cache in (False, True):
        one = config(results, 1, cache)
        if one and "statements" in one:
            reads = [r for r in one["statements"] if r["method"] == "GET"]
            worst = max(reads, key=lambda r: r["max_at_most"])
            add(
                f"every read endpoint: at most {MAX_STATEMENTS} SQL statements (cache {'on' if cache else 'off'})",
                1,
                f"{len(reads)} read routes, largest count <= {worst['max_at_most']:g} ({worst['route']})",
                worst["max_at_most"] <= MAX_STATEMENTS,
            )
    for workers in (1, 2):
        off, on = config(results, workers, False), config(results, workers, True)
        if off:
            worst = max(off["fixed_rate"], key=lambda r: r["p99"])
            slow = [r["name"] for r in off["fixed_rate"] if r["p99"] >= P99_TARGET_MS]
            add(
                f"uncached p99 < {P99_TARGET_MS:g} ms at 50 req/s, every read endpoint",
                workers,
                f"worst {worst['p99']:.1f} ms ({worst['name']}); {len(slow)} of {len(off['fixed_rate'])} over"
                + (f": {', '.join(slow)}" if slow else ""),
                not slow,
            )
        if on:
            rate = on["saturation"]["mix"]["hit_rate"] or 0.0
            add(f"cache hit rate in the mix >= {HIT_RATE_TARGET:.0%}", workers, fmt_rate(rate), rate >= HIT_RATE_TARGET)
            share = on["saturation"]["job_detail"]["rps"] / on["saturation"]["noop"]["rps"]
            add(
                f"cached job detail >= {NOOP_SHARE_TARGET:g} x no-op throughput",
                workers,
                f"{share:.2f} x ({on['saturation']['job_detail']['rps']:.0f} vs {on['saturation']['noop']['rps']:.0f})",
                share >= NOOP_SHARE_TARGET,
            )
        if off and on:
            for name, wanted in CACHE_SPEEDUP_TARGETS.items():
                speedup = on["saturation"][name]["rps"] / off["saturation"][name]["rps"]
                add(
                    f"cached / uncached throughput >= {wanted:g} x: {SCENARIO_TITLES[name]}",
                    workers,
                    f"{speedup:.1f} x ({on['saturation'][name]['rps']:.0f} vs {off['saturation'][name]['rps']:.0f})",
                    speedup >= wanted,
                )
    return targets


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


def code_line(results: list[dict[str, Any]]) -> str:
    """The code every configuration ran, or each one's when it changed during the run."""
    versions = {r["code"] for r in results}
    if len(versions) == 1:
        return versions.pop()
    return "changed during the run: " + ", ".join(f"{r['label']} {r['code']}" for r in results)


def tool_versions() -> dict[str, str]:
    """wrk's banner; hey has no version flag, so its Debian package version when dpkg knows it."""
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    hey = "hey"
    if shutil.which("dpkg-query"):
        package = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "hey"], capture_output=True, text=True, timeout=10
        )
        hey += f" {package.stdout.strip()}" if package.returncode == 0 else ""
    return {"wrk": (wrk.stdout + wrk.stderr).splitlines()[0].strip(), "hey": hey}


def plot_throughput(results: list[dict[str, Any]], path: Path) -> None:
    """Grouped bars: saturation requests/s per scenario and configuration (log scale)."""
    import matplotlib.pyplot as plt

    scenarios = [*SATURATION, "mix_read_only", "mix"]
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.8 / len(results)
    for i, run in enumerate(results):
        values = [run["saturation"][name]["rps"] for name in scenarios]
        xs = [x + (i - (len(results) - 1) / 2) * width for x in range(len(scenarios))]
        bars = ax.bar(xs, values, width, label=f"{run['workers']} worker(s), cache {'on' if run['cache'] else 'off'}")
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=7, rotation=90, padding=2)
    ax.set_xticks(range(len(scenarios)), [SCENARIO_TITLES[name] for name in scenarios], rotation=15, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_title(f"Saturation throughput (wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}), server and load on one machine")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_fixed_rate(results: list[dict[str, Any]], path: Path) -> None:
    """Horizontal bars: p99 at 50 requests/s per endpoint, cache off and on, one panel per worker count."""
    import matplotlib.pyplot as plt

    worker_counts = sorted({run["workers"] for run in results})
    fig, axes = plt.subplots(1, len(worker_counts), figsize=(7 * len(worker_counts), 7), sharey=True, squeeze=False)
    for ax, workers in zip(axes[0], worker_counts, strict=True):
        runs = [run for run in results if run["workers"] == workers]
        names = [row["name"] for row in runs[0]["fixed_rate"]]
        height = 0.8 / len(runs)
        for i, run in enumerate(runs):
            ys = [y + (i - (len(runs) - 1) / 2) * height for y in range(len(names))]
            ax.barh(
                ys, [row["p99"] for row in run["fixed_rate"]], height, label=f"cache {'on' if run['cache'] else 'off'}"
            )
        ax.axvline(P99_TARGET_MS, color="red", linestyle="--", label=f"target {P99_TARGET_MS:g} ms")
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("p99 latency, ms (log scale)")
        ax.set_title(f"{workers} worker(s): p99 at 50 requests/s")
        ax.legend(fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].invert_yaxis()  # shared: once for all
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_hit_rate(results: list[dict[str, Any]], path: Path) -> None:
    """Mix hit rates per worker count (wrk), and per route for 1 worker (/metrics)."""
    import matplotlib.pyplot as plt

    cached = [run for run in results if run["cache"]]
    per_route = next((run["lookups"] for run in cached if "lookups" in run), {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 2]})
    labels = [f"{run['workers']} worker(s)" for run in cached]
    width = 0.38
    for offset, name in ((-width / 2, "mix_read_only"), (width / 2, "mix")):
        values = [100 * (run["saturation"][name]["hit_rate"] or 0.0) for run in cached]
        bars = left.bar([x + offset for x in range(len(cached))], values, width, label=SCENARIO_TITLES[name])
        left.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8)
    left.axhline(100 * HIT_RATE_TARGET, color="red", linestyle="--", label=f"target {HIT_RATE_TARGET:.0%}")
    left.set_xticks(range(len(cached)), labels)
    left.set_ylim(0, 125)
    left.set_ylabel("X-Cache HIT share of cached-route responses, %")
    left.set_title("Mix hit rate (counted by wrk)")
    left.legend(fontsize=8, loc="upper center", ncol=2, framealpha=1)
    routes = sorted({route for lookups in per_route.values() for route in lookups})
    for offset, name in ((-width / 2, "mix_read_only"), (width / 2, "mix")):
        rates = [100 * (metrics_hit_rate({r: per_route[name].get(r, {})}) or 0.0) for r in routes]
        bars = right.barh([y + offset for y in range(len(routes))], rates, width, label=SCENARIO_TITLES[name])
        right.bar_label(bars, labels=[f"{v:.0f}%" for v in rates], fontsize=7)
    right.axvline(100 * HIT_RATE_TARGET, color="red", linestyle="--")
    right.set_yticks(range(len(routes)), routes, fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 110)
    right.set_xlabel("hit rate, % (/metrics: a request that waited for a concurrent fill counts as a miss)")
    right.set_title("Per route, 1 worker")
    right.legend(fontsize=8, loc="lower right", framealpha=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(report: dict[str, Any]) -> str:
    """The generated section of docs/performance.md (between the bench markers)."""
    results: list[dict[str, Any]] = report["results"]
    timing = report["timing"]
    host = report["machine"]
    heads = [f"{r['workers']}w cache {'on' if r['cache'] else 'off'}" for r in results]
    out = [
        "## 3. Load benchmark",
        "",
        "Generated by `bench/load.py` (this section is rewritten by each run).",
        "",
        f"- Command: `{report['command']}` ({report['mode']} run, {report['runtime_seconds'] / 60:.1f} min)",
        f"- Date: {report['date']}; code: {code_line(results)}",
        f"- Machine: {host['nproc']} cores, {host['cpu']}, Linux {host['kernel']}, Python {host['python']};"
        " load average at start "
        + ", ".join(f"{v:.2f}" for v in host["load_average_at_start"])
        + ". The load generators (wrk, hey) run on the same machine as the server and PostgreSQL and Redis, and the"
        " machine is shared: numbers are noisy.",
        f"- Tools: {report['tools']['wrk']}; {report['tools']['hey']}."
        " Server: `marketplace serve --no-demo --workers N` with APP_ENVIRONMENT=production (uvicorn, uvloop,"
        " httptools, no access log), Redis as the cache in every configuration, APP_DB_POOL_SIZE "
        + ", ".join(f"{w} worker(s): {pool_size(w)}" for w in sorted({r["workers"] for r in results}))
        + " (plus as many overflow connections).",
        f"- Dataset: {report['dataset']}.",
        "",
        "### Targets",
        "",
        "| target | workers | measured | result |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {t['target']} | {t['workers']} | {t['measured']} | {'MET' if t['met'] else '**MISSED**'} |"
        for t in report["targets"]
    ]
    out += [
        "",
        f"### Saturation throughput (wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS}, {timing['saturation']} s each)",
        "",
        "requests/s (p50 / p99 latency in ms), and the share of X-Cache HITs. Each scenario rotates over its URLs:"
        " job detail over the 1,000 open jobs with most applicants, search over the 24 most frequent title words x"
        " the 12 cities with most open jobs (`q` and `near`, 50 km), best applicants over the 200 busiest jobs with"
        " their owners' tokens. With the cache on, every URL of a scenario is requested once first, so the run"
        f" measures the warm cache; every run follows {timing['warmup']} s of unmeasured wrk.",
        "",
        "| scenario | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(results),
    ]
    for name in (*SATURATION, "mix_read_only", "mix"):
        cells = []
        for r in results:
            run = r["saturation"][name]
            hits = f", {run['hit_rate']:.0%} HIT" if run["hit_rate"] is not None and r["cache"] else ""
            cells.append(f"{run['rps']:.0f} ({run['latency_ms']['50']:.0f} / {run['latency_ms']['99']:.0f}){hits}")
        out.append(f"| {SCENARIO_TITLES[name]} | " + " | ".join(cells) + " |")
    out += ["", "![saturation throughput](img/bench-throughput.png)", "", "Ratios within one run:", ""]
    out += ["| ratio | " + " | ".join(f"{w} worker(s)" for w in sorted({r["workers"] for r in results})) + " |"]
    out += ["|---|" + "---|" * len({r["workers"] for r in results})]
    ratio_rows: list[tuple[str, Callable[[dict[str, Any], dict[str, Any]], float]]] = [
        (f"cached / uncached: {SCENARIO_TITLES[name]}", lambda on, off, n=name: on[n]["rps"] / off[n]["rps"])
        for name in (*CACHE_SPEEDUP_TARGETS, "mix_read_only", "mix")
    ]
    ratio_rows += [
        ("cached job detail / no-op", lambda on, _: on["job_detail"]["rps"] / on["noop"]["rps"]),
        ("uncached job detail / no-op", lambda _, off: off["job_detail"]["rps"] / off["noop"]["rps"]),
    ]
    for title, ratio in ratio_rows:
        cells = []
        for workers in sorted({r["workers"] for r in results}):
            on, off = config(results, workers, True), config(results, workers, False)
            cells.append(f"{ratio(on['saturation'], off['saturation']):.2f} x" if on and off else "n/a")
        out.append(f"| {title} | " + " | ".join(cells) + " |")

    out += [
        "",
        f"### Fixed rate: 50 requests/s per endpoint, {timing['fixed']} s each",
        "",
        f"{FIXED_WORKERS} processes of `hey -z {timing['fixed']}s -c 1 -q {FIXED_QPS_PER_WORKER} -o csv`, started"
        f" {1000 // (FIXED_WORKERS * FIXED_QPS_PER_WORKER)} ms apart, so requests arrive evenly every"
        f" {1000 // (FIXED_WORKERS * FIXED_QPS_PER_WORKER)} ms. (A single `hey -c {FIXED_WORKERS}"
        f" -q {FIXED_QPS_PER_WORKER}` fires its workers in lockstep: bursts of {FIXED_WORKERS} simultaneous requests"
        " every 100 ms, which queue behind each other on the server; on a quiet machine that tripled the p50 of"
        " `GET /jobs` and took its p99 from 10 to 90 ms.) Each hey worker is closed-loop: a response slower than"
        " 100 ms delays that worker's next request, so the achieved rate is shown (the lowest of the"
        " configurations).",
        "",
        "p50 / p90 / p99 in ms, bold when p99 >= 50 ms. One URL per endpoint, the heaviest instance of the dataset"
        " (the busiest open job, the most-reviewed user, the client with the most jobs, ...; from"
        " `bench.plans.scenario_urls`); with the cache on that one URL is a HIT after the first request.",
        "",
        "| endpoint | URL | " + " | ".join(heads) + " | req/s |",
        "|---|---|" + "---|" * len(results) + "---|",
    ]
    for index, (name, path, _) in enumerate(report["fixed_rate_urls"]):
        rows = [r["fixed_rate"][index] for r in results]
        cells = [
            ("**" if row["p99"] >= P99_TARGET_MS else "")
            + f"{row['p50']:.1f} / {row['p90']:.1f} / {row['p99']:.1f}"
            + ("**" if row["p99"] >= P99_TARGET_MS else "")
            for row in rows
        ]
        short = path if len(path) <= 60 else path[:57] + "..."
        out.append(f"| {name} | `{short}` | " + " | ".join(cells) + f" | {min(row['rps'] for row in rows):.1f} |")
    out += ["", "![p99 at 50 requests/s](img/bench-fixed-rate-p99.png)", ""]

    out += [
        "### The realistic mix",
        "",
        "Drawn with these weights (percent): "
        + ", ".join(f"{kind} {weight}" for kind, weight in MIX.items())
        + ". Job, profile and search choices follow a Zipf law over the busiest jobs, the most-reviewed users, the"
        " most frequent title words and the cities with most jobs; workers apply to hot jobs (a 409 for a duplicate"
        " application is expected); reviews are written once per eligible (job, reviewer, reviewee) triple. The"
        " read-only mix has the same weights without the writes. The mixes follow"
        f" {timing['saturation']} s of unmeasured read-only mix.",
        "",
        "| | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(results),
    ]
    mix_rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("requests/s", lambda r: f"{r['saturation']['mix']['rps']:.0f}"),
        (
            "p50 / p99 ms",
            lambda r: "{:.0f} / {:.0f}".format(*(r["saturation"]["mix"]["latency_ms"][p] for p in ("50", "99"))),
        ),
        (
            "status codes",
            lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r["saturation"]["mix"]["statuses"].items())),
        ),
        ("X-Cache", lambda r: ", ".join(f"{k}: {v}" for k, v in sorted(r["saturation"]["mix"]["x_cache"].items()))),
        ("hit rate (wrk)", lambda r: fmt_rate(r["saturation"]["mix"]["hit_rate"])),
        ("hit rate, read-only mix (wrk)", lambda r: fmt_rate(r["saturation"]["mix_read_only"]["hit_rate"])),
        ("hit rate (/metrics)", lambda r: fmt_rate(metrics_hit_rate(r.get("lookups", {}).get("mix")))),
        (
            "socket errors (connect/read/write/timeout)",
            lambda r: "/".join(
                str(r["saturation"]["mix"]["errors"][k]) for k in ("connect", "read", "write", "timeout")
            ),
        ),
    ]
    for title, cell in mix_rows:
        out.append(f"| {title} | " + " | ".join(cell(r) for r in results) + " |")
    out += [
        "",
        "wrk counts the X-Cache header; `/metrics` counts cache lookups, where a request that waited for a concurrent"
        " fill of the same key (single-flight) is a miss although its header says HIT, and requests still in flight"
        " when wrk stops are included.",
        "",
    ]
    for r in results:
        if "lookups" not in r or not r["cache"]:
            continue
        writes = {route: counts for route, counts in r["mix_statuses"].items() if not route.startswith("GET")}
        out += [
            f"Per route ({r['label']}, `/metrics`): hit / miss / bypass and hit rate.",
            "",
            "| route | read-only mix | realistic mix |",
            "|---|---|---|",
        ]
        for route in sorted({route for lookups in r["lookups"].values() for route in lookups}):
            cells = []
            for name in ("mix_read_only", "mix"):
                counts = r["lookups"][name].get(route, {})
                rate = fmt_rate(metrics_hit_rate({route: counts}))
                cells.append("{} / {} / {}, {}".format(*(counts.get(k, 0) for k in ("hit", "miss", "bypass")), rate))
            out.append(f"| `{route}` | " + " | ".join(cells) + " |")
        out += [
            "",
            "Writes in the realistic mix (status: count): "
            + "; ".join(
                f"`{route}` " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
                for route, counts in sorted(writes.items())
            )
            + ".",
            "",
        ]
    out += ["![hit rate](img/bench-hit-rate.png)", ""]

    one = [r for r in results if "statements" in r]
    if one:
        out += [
            "### SQL statements per request (1 worker, whole configuration, from `/metrics`)",
            "",
            "Mean statements per request and the histogram bucket bounding the largest count; with the cache on a"
            " HIT sends none. With 2 workers each process counts its own requests, so this is measured with 1 only.",
            "",
            "| route | "
            + " | ".join(f"cache {'on' if r['cache'] else 'off'}: mean (max <=), requests" for r in one)
            + " |",
            "|---|" + "---|" * len(one),
        ]
        keys = sorted({(s["method"], s["route"]) for r in one for s in r["statements"]})
        for method, route in keys:
            cells = []
            for r in one:
                row = next((s for s in r["statements"] if (s["method"], s["route"]) == (method, route)), None)
                cells.append(f"{row['mean']:.2f} ({row['max_at_most']:g}), {row['requests']}" if row else "-")
            out.append(f"| {method} {route} | " + " | ".join(cells) + " |")
        out.append("")

    out += ["### Anomalies", ""]
    anomalies = anomaly_lines(results)
    out += [f"- {a}" for a in anomalies] or ["- none: no 5xx, no socket errors, no server errors logged."]
    out += ["", f"Raw results: `docs/bench-results/{report['results_file']}` (not committed).", ""]
    return "\n".join(out)


def metrics_hit_rate(lookups: dict[str, dict[str, int]] | None) -> float | None:
    """hit / (hit + miss + bypass) over routes of cache_lookups_total deltas."""
    if not lookups:
        return None
    totals: Counter[str] = Counter()
    for results in lookups.values():
        totals.update(results)
    looked_up = sum(totals.values())
    return totals["hit"] / looked_up if looked_up else None


def anomaly_lines(results: list[dict[str, Any]]) -> list[str]:
    """5xx answers, socket errors, replayed writes and server log errors, per configuration."""
    lines = []
    for r in results:
        runs = {**r["saturation"], **{f"50/s {row['name']}": row for row in r["fixed_rate"]}}
        for name, run in runs.items():
            server_errors = sum(n for status, n in run["statuses"].items() if status.startswith("5") or status == "0")
            if server_errors:
                lines.append(
                    f"{r['label']} {name}: {server_errors} responses with 5xx or no status ({run['statuses']})"
                )
            broken = {k: v for k, v in run.get("errors", {}).items() if k != "status" and v}
            if broken:
                lines.append(f"{r['label']} {name}: wrk socket errors {broken}")
        bypassed = {
            name: run["x_cache"]["BYPASS"] for name, run in r["saturation"].items() if "BYPASS" in run["x_cache"]
        }
        if r["cache"] and bypassed:
            lines.append(
                f"{r['label']}: X-Cache BYPASS with the cache on (a Redis call over APP_CACHE_TIMEOUT_MS, or the"
                f" circuit breaker open after such failures): {bypassed}"
            )
        if r.get("cache_backend_errors"):
            lines.append(f"{r['label']}: cache backend errors (/metrics): {r['cache_backend_errors']}")
        if r["saturation"]["mix"]["passes"]:
            lines.append(f"{r['label']} mix: the request file wrapped around, writes were replayed (409s)")
        if r["server"]["error_lines"]:
            lines.append(
                f"{r['label']}: {r['server']['error_lines']} error lines in the server log, e.g."
                f" `{r['server']['examples'][0][:160]}`"
            )
    return lines


def write_report(section: str) -> None:
    """Replace the bench section of docs/performance.md (create the file with the markers if needed)."""
    block = f"{START_MARK}\n{section}\n{END_MARK}"
    if not REPORT.exists():
        REPORT.write_text(f"# Performance\n\n{block}\n")
        return
    current = REPORT.read_text()
    if START_MARK in current and END_MARK in current:
        head, rest = current.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        REPORT.write_text(head + block + tail)
    else:
        REPORT.write_text(current.rstrip("\n") + "\n\n" + block + "\n")


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def check_tools() -> None:
    """Stop with the install command if wrk or hey is missing (nothing is installed silently)."""
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"{' and '.join(missing)} not found: install with `apt-get install -y wrk hey`")


def command_line(argv: Sequence[str]) -> str:
    """The command as run, with any password in a URL hidden."""
    shown = [shlex.quote(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", arg)) for arg in argv]
    return " ".join([".venv/bin/python -m bench.load", *shown])


def main(argv: Sequence[str] | None = None) -> None:
    """Run every configuration, then write the results, the plots and the report section."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="the seeded large dataset")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="the cache (a unique namespace per run)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test of the whole pipeline")
    args = parser.parse_args(argv)
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"only loopback targets: {url}")
    check_tools()
    timing = QUICK if args.quick else FULL
    began = time.monotonic()
    date = datetime.now(UTC)

    settings = Settings(
        environment="production",
        secret_key=BENCH_SECRET,
        database_url=args.database_url,
        access_token_ttl_seconds=4 * 3600,  # outlives the whole run
    )
    reviews_per_config = math.ceil(timing.mix_length * MIX["review_write"] / 100 * 1.2)
    log("reading the request set from the dataset")
    data = asyncio.run(load_dataset(settings, reviews_per_config * len(CONFIGURATIONS)))
    seed = time.time_ns()  # a new draw each run: a fixed seed would replay the last run's applications (409s)
    builder = MixBuilder(data, Tokens(settings), random.Random(seed))
    triples = list(data.review_triples)

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for workers, cache in CONFIGURATIONS:
            reviews, triples = triples[:reviews_per_config], triples[reviews_per_config:]
            results.append(run_configuration(workers, cache, builder, reviews, args, timing, Path(tmp)))

    stamp = date.strftime("%Y%m%d-%H%M%S")
    report = {
        "command": command_line(sys.argv[1:] if argv is None else argv),
        "mode": "quick" if args.quick else "full",
        "date": date.isoformat(timespec="seconds"),
        "runtime_seconds": time.monotonic() - began,
        "machine": machine(),
        "tools": tool_versions(),
        "timing": asdict(timing),
        "random_seed": seed,
        "dataset": (
            f"{make_url(args.database_url).database} ({len(data.hot_jobs)} hot open jobs,"
            f" {len(data.profiles)} reviewed users, {len(data.terms)} search words x {len(data.cities)} cities,"
            f" {len(data.review_triples)} unreviewed pairs taken for review writes)"
        ),
        "fixed_rate_urls": [(name, path, sorted(headers)) for name, path, headers in data.fixed_rate],
        "results": results,
        "results_file": f"{stamp}.json",
    }
    report["targets"] = evaluate_targets(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))

    import matplotlib

    matplotlib.use("Agg")
    plot_throughput(results, IMG_DIR / "bench-throughput.png")
    plot_fixed_rate(results, IMG_DIR / "bench-fixed-rate-p99.png")
    plot_hit_rate(results, IMG_DIR / "bench-hit-rate.png")
    write_report(markdown(report))
    log(
        f"done in {report['runtime_seconds'] / 60:.1f} min: docs/performance.md, docs/img/bench-*.png,"
        f" docs/bench-results/{stamp}.json"
    )
    for target in report["targets"]:
        log(
            f"{'MET   ' if target['met'] else 'MISSED'} [{target['workers']}w] {target['target']}: {target['measured']}"
        )


if __name__ == "__main__":
    main()
