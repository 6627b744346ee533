"""Prometheus metrics of the response cache, labelled by route template only (never ids or users).

Request metrics live in app/observability.py; both register in the app's one registry (GET /metrics).
"""

from prometheus_client import CollectorRegistry, Counter


class Metrics:
    """The cache's counters, in the given registry (one per app, so tests and several apps do not share)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.lookups = Counter(
            "cache_lookups",
            "Response-cache lookups by result (hit, miss, bypass)",
            ["route", "result"],
            registry=self.registry,
        )
        self.fills = Counter(
            "cache_fills",
            "Response-cache fills by outcome (stored, stale, error)",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.invalidations = Counter(
            "cache_invalidations", "Tags invalidated after committed writes", ["route"], registry=self.registry
        )
        self.redis_errors = Counter(
            "cache_backend_errors",
            "Cache backend operations that failed or timed out",
            ["operation"],
            registry=self.registry,
        )
