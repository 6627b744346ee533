"""Request observability: a request id on every answer and log line, one log line per request (JSON or
text), and the Prometheus metrics of HTTP requests, served at GET /metrics (with the cache's own metrics).

Every label is a route template, never an id or a user.
"""

import hmac
import ipaddress
import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any, Literal

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import count_statements
from app.errors import Forbidden, Unauthorized, problem_response
from app.settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it is short and plain (it lands in logs); anything else gets a fresh one.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")

log = logging.getLogger("app.request")


@dataclass
class RequestContext:
    """What the log lines of one request share; a mutable box, so whatever task of the request fills it."""

    request_id: str
    user_id: int | None = None


_context: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def note_user(user_id: int) -> None:
    """Record the caller (from their verified token) for the request's log line."""
    context = _context.get()
    if context is not None:
        context.user_id = user_id


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if REQUEST_ID_PATTERN.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.statements = Histogram(
            "http_request_sql_statements",
            "SQL statements per request by route template",
            ["route", "method"],
            registry=registry,
            buckets=(0, 1, 2, 3, 4, 5, 8, 13, 21),
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency by route template",
            ["route", "method"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )


class ObservabilityMiddleware:
    """The outermost of the app's middlewares (a plain ASGI one: no body buffering).

    It also renders an unexpected exception as the 500 problem, so that answer too carries the request id
    and the security headers, and the traceback is logged with the request id.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        context = RequestContext(request_id_of(scope))
        token = _context.set(context)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = context.request_id
            await send(message)

        try:
            with count_statements() as statements:
                try:
                    await self.app(scope, receive, send_with_id)
                except Exception:
                    if response_started:
                        raise
                    log.exception("unhandled error")
                    response = problem_response(Request(scope), 500, "An unexpected error occurred.")
                    await response(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(duration)
            self.metrics.statements.labels(route, method).observe(statements[0])
            log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "user_id": context.user_id,
                },
            )
            _context.reset(token)


# --- logging ----------------------------------------------------------------------------------------

_REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "user_id")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.request_id = context.request_id if context is not None else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the request fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({name: getattr(record, name) for name in _REQUEST_FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if hasattr(record, "duration_ms"):
            line += f" {record.duration_ms} ms user={getattr(record, 'user_id', None)}"
        return line


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The app's handler on the root logger (a class of its own, so reconfiguring replaces it)."""


def configure_logging(log_format: Literal["json", "text"], stream: IO[str] | None = None) -> None:
    """Send every log record (the app's, uvicorn's, SQLAlchemy's) to one stderr handler in `log_format`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(stream or sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    formatter.converter = time.gmtime  # UTC, as the JSON lines' "Z" says
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    if root.level == logging.WARNING:  # Python's default: raise to INFO for the request lines
        root.setLevel(logging.INFO)


# --- /metrics ---------------------------------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a unix socket's peer, a test client's name)
        return False


def install_observability(app: FastAPI, registry: CollectorRegistry, settings: Settings) -> None:
    app.add_middleware(ObservabilityMiddleware, metrics=HttpMetrics(registry))

    @app.get("/metrics", include_in_schema=False)
    async def _metrics(request: Request) -> Response:
        """Prometheus metrics: with APP_METRICS_TOKEN set, for its bearer only; else for loopback clients."""
        if settings.metrics_token:
            sent = request.headers.get("authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode()):
                raise Unauthorized("GET /metrics needs `Authorization: Bearer <APP_METRICS_TOKEN>`.")
        elif not is_loopback(request.client.host if request.client else None):
            raise Forbidden("Without APP_METRICS_TOKEN, GET /metrics answers loopback clients only.")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
