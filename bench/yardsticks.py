"""The targets of issue #4, each measured per worker count and judged MET or MISSED."""

from typing import Any

from bench.metrics import fmt_rate
from bench.scenarios import SCENARIO_TITLES

# Targets of issue #4.
MAX_STATEMENTS = 3
P99_TARGET_MS = 50.0
HIT_RATE_TARGET = 0.95
NOOP_SHARE_TARGET = 0.5
CACHE_SPEEDUP_TARGETS = {"job_detail": 3.0, "search": 10.0, "best_applicants": 10.0}


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
