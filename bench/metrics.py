"""Counting what the server did: the differences between two `GET /metrics` scrapes (exact with one process;
bench/server.py scrapes), and the cache hit rates (from wrk's X-Cache counts or from cache_lookups_total)."""

import math
from collections import Counter
from typing import Any

from bench.plans import API

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


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


def hit_rate(x_cache: dict[str, int]) -> float | None:
    """HIT / (HIT + MISS + BYPASS) over the responses of cached routes; None if there were none."""
    looked_up = sum(x_cache.get(state, 0) for state in ("HIT", "MISS", "BYPASS"))
    return x_cache.get("HIT", 0) / looked_up if looked_up else None


def metrics_hit_rate(lookups: dict[str, dict[str, int]] | None) -> float | None:
    """hit / (hit + miss + bypass) over routes of cache_lookups_total deltas."""
    if not lookups:
        return None
    totals: Counter[str] = Counter()
    for results in lookups.values():
        totals.update(results)
    looked_up = sum(totals.values())
    return totals["hit"] / looked_up if looked_up else None


def fmt_rate(rate: float | None) -> str:
    """A rate as a percentage, or n/a."""
    return "n/a" if rate is None else f"{rate:.1%}"
