"""Load benchmark: the production server against the large dataset and the raw yardsticks, driven by wrk and hey.

    .venv/bin/python -m bench.load [--database-url URL] [--redis-url URL] [--instances N] [--quick]

One configuration after the other (bench/running.py `configurations`), each on fresh processes:

- `raw`: the raw yardsticks (bench/raw.py: the same queries and JSON on raw asyncpg, a no-op, one Redis GET);
- `off`, `on`, `near`: one `marketplace serve` (1 uvicorn worker, uvloop, httptools, no access log, Redis as
  the cache) with the response cache off, on, and on with its near tier (APP_CACHE_NEAR);
- `lb1`, `lbN` (with `--instances N`, N >= 2; default 2): 1 and N instances behind HAProxy (bench/balancer.py)
  over the same PostgreSQL and Redis, cache and near tier on.

It measures saturation throughput with wrk (2 threads, 32 connections; bench/mix.lua counts status codes and
X-Cache values) on the no-op, job detail, search (q and near), reviews, best applicants, a read-only mix and the
realistic mix with writes; latency at a fixed 50 requests/s for every read endpoint with hey (5 staggered
processes x 10 requests/s, each aimed at the heaviest instance in the dataset: the URLs of bench/plans.py),
uncached and on the yardsticks; SQL statements per request and cache lookups per route from `GET /metrics`
(one instance loaded directly). Then it judges the targets of issue #12 (bench/targets.py) on ratios within
the run.

Results go to docs/bench-results/<timestamp>.json, the section between the bench markers of
docs/performance.md, and PNG plots in docs/img/. `--quick` shortens every run to a smoke test.
Needs `wrk`, `hey` and (for --instances >= 2) `haproxy` (`apt-get install -y wrk hey haproxy`). The dataset is
`marketplace seed --scale large`; the mix writes to it (applications and reviews), as a real load would.
"""

import argparse
import asyncio
import json
import math
import random
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from app.settings import Settings
from bench.report import markdown, plot_fixed_rate, plot_hit_rate, plot_throughput, write_report
from bench.running import FULL, QUICK, ROOT, Timing, configurations, log, machine, run_configuration
from bench.scenarios import MIX, Dataset, MixBuilder, Tokens, load_dataset
from bench.server import BENCH_SECRET
from bench.targets import evaluate_targets
from bench.tools import check_tools, tool_versions

RESULTS_DIR = ROOT / "docs" / "bench-results"
REPORT = ROOT / "docs" / "performance.md"
IMG_DIR = ROOT / "docs" / "img"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/marketplace_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def command_line(argv: Sequence[str]) -> str:
    """The command as run, with any password in a URL hidden."""
    shown = [shlex.quote(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", arg)) for arg in argv]
    return " ".join([".venv/bin/python -m bench.load", *shown])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options; only loopback database and Redis URLs are accepted."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="the seeded large dataset")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="the cache (a unique namespace per run)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test of the whole pipeline")
    parser.add_argument(
        "--instances", type=int, default=2, help="N >= 2: also 1 vs N instances behind HAProxy (1: skip that)"
    )
    args = parser.parse_args(argv)
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"only loopback targets: {url}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run every configuration, then write the results, the plots and the report section."""
    args = parse_args(argv)
    check_tools(haproxy=args.instances >= 2)
    configs = configurations(args.instances)
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
    with_mixes = [c for c in configs if c.mixes]
    data = asyncio.run(load_dataset(settings, reviews_per_config * len(with_mixes)))
    seed = time.time_ns()  # a new draw each run: a fixed seed would replay the last run's applications (409s)
    builder = MixBuilder(data, Tokens(settings), random.Random(seed))
    triples = list(data.review_triples)

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for config in configs:
            reviews: list[tuple[int, int, str, int]] = []
            if config.mixes:
                reviews, triples = triples[:reviews_per_config], triples[reviews_per_config:]
            results.extend(run_configuration(config, builder, reviews, args, timing, Path(tmp)))

    report = build_report(args, argv, timing, data, seed, results, date, time.monotonic() - began)
    write_outputs(report)
    verdicts = {True: "MET     ", False: "MISSED  ", None: "MEASURED"}
    for target in report["targets"]:
        log(f"{verdicts[target['met']]} [{target['configs']}] {target['target']}: {target['measured']}")


def build_report(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    timing: Timing,
    data: Dataset,
    seed: int,
    results: list[dict[str, Any]],
    date: datetime,
    runtime_seconds: float,
) -> dict[str, Any]:
    """Everything a run records: how it was run, on what, the results and the targets judged on them."""
    stamp = date.strftime("%Y%m%d-%H%M%S")
    report = {
        "command": command_line(sys.argv[1:] if argv is None else argv),
        "mode": "quick" if args.quick else "full",
        "date": date.isoformat(timespec="seconds"),
        "runtime_seconds": runtime_seconds,
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
    return report


def write_outputs(report: dict[str, Any]) -> None:
    """docs/bench-results/<stamp>.json, the plots in docs/img/, and the section of docs/performance.md."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / report["results_file"]).write_text(json.dumps(report, indent=2, default=str))

    import matplotlib

    matplotlib.use("Agg")
    results = report["results"]
    plot_throughput(results, IMG_DIR / "bench-throughput.png")
    plot_fixed_rate(results, IMG_DIR / "bench-fixed-rate-p99.png")
    plot_hit_rate(results, IMG_DIR / "bench-hit-rate.png")
    write_report(REPORT, markdown(report))
    log(
        f"done in {report['runtime_seconds'] / 60:.1f} min: docs/performance.md, docs/img/bench-*.png,"
        f" docs/bench-results/{report['results_file']}"
    )


if __name__ == "__main__":
    main()
