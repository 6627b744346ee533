"""Prometheus metrics for the cache and for requests, labelled by route template only (never ids or users)."""

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import count_statements


class Metrics:
    """One registry per app, so tests and several apps in one process do not share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.statements = Histogram(
            "http_request_sql_statements",
            "SQL statements per request by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=(0, 1, 2, 3, 4, 5, 8, 13, 21),
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts requests and observes latency by route template (a plain ASGI middleware: no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with count_statements() as statements:
            try:
                await self.app(scope, receive, send_and_record)
            finally:
                template = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.requests.labels(template, scope["method"], str(status)).inc()
                self.metrics.latency.labels(template, scope["method"]).observe(time.perf_counter() - started)
                self.metrics.statements.labels(template, scope["method"]).observe(statements[0])


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        return metrics.render()
