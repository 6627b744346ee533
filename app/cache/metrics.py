"""Prometheus metrics of the response cache, labelled by route template only (never ids or users).

Request metrics live in app/observability.py; both register in the app's one registry (GET /metrics).
"""

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from app.cache.near import NearCache


class Metrics:
    """The cache's counters, in the given registry (one per app, so tests and several apps do not share)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.lookups = Counter(
            "cache_lookups",
            "Response-cache lookups by result (hit, miss, bypass); near-tier hits count as hits",
            ["route", "result"],
            registry=self.registry,
        )
        self.near_lookups = Counter(
            "cache_near_lookups",
            "Near-tier lookups of public routes by result (hit, miss, skip: tier down or a newer consistency token)",
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
        self.near_entries = Gauge("cache_near_entries", "Entries in the near tier", registry=self.registry)
        self.near_applied = Gauge(
            "cache_near_applied_sequence", "Last invalidation broadcast the near tier applied", registry=self.registry
        )
        self.near_live = Gauge(
            "cache_near_subscribed", "1 while the near tier is subscribed to the broadcast", registry=self.registry
        )
        # Labelled children by label values: `labels()` takes a lock and builds a tuple on every call.
        self._children: dict[tuple[int, str, str], Counter] = {}

    def _child(self, counter: Counter, route: str, result: str) -> Counter:
        key = (id(counter), route, result)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = counter.labels(route, result)
        return child

    def lookup(self, route: str, result: str) -> Counter:
        return self._child(self.lookups, route, result)

    def near_lookup(self, route: str, result: str) -> Counter:
        return self._child(self.near_lookups, route, result)

    def fill(self, route: str, outcome: str) -> Counter:
        return self._child(self.fills, route, outcome)

    def watch_near(self, near: "NearCache") -> None:
        """The gauges read the near tier when scraped (nothing on the request path)."""
        self.near_entries.set_function(lambda: len(near))
        self.near_applied.set_function(lambda: near.applied)
        self.near_live.set_function(lambda: 1 if near.live else 0)
