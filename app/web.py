"""The browser side of the service: the built web app at `/` (frontend/ builds into app/web/) and CORS.

API routes, /docs, /redoc, /openapi.json, /health and /metrics are path operations, so they always win over
the app's files. An unknown path asked for by a browser navigation (`Accept: text/html`) gets index.html, so
deep links survive a reload; any other unknown path (a `fetch` to a missing API route) is the JSON 404.
"""

import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

WEB_DIR = Path(__file__).parent / "web"
# Paths that are not the web app's pages: their own headers stand (Swagger UI needs inline scripts).
NOT_APP = ("/api/", "/docs", "/redoc", "/openapi.json", "/health", "/metrics")
CSP = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
IMMUTABLE = b"public, max-age=31536000, immutable"

log = logging.getLogger(__name__)


def install_web(app: FastAPI, settings: Settings) -> None:
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            expose_headers=["ETag", "X-Cache"],
        )
    if not (WEB_DIR / "index.html").is_file():
        log.warning("%s has no built web app (run scripts/build-web); serving the API only", WEB_DIR)
        return
    app.frontend("/", directory=WEB_DIR, fallback="index.html")
    app.add_middleware(WebHeaders)


class WebHeaders:
    """Cache and security headers for the app's files: Vite's hashed assets never change, the HTML is
    revalidated on every visit (so a deploy is picked up at once), and the pages get a strict CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(NOT_APP):
            await self.app(scope, receive, send)
            return
        hashed = path.startswith("/assets/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                # These replace what the API's defaults (app/http.py, outside this middleware) set: two CSP
                # headers would both apply, and the API's allows nothing.
                original = message.get("headers", [])
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in original)
                replaced = {b"cache-control", b"x-content-type-options", b"content-security-policy"}
                if html:
                    replaced.add(b"referrer-policy")
                headers = [(k, v) for k, v in original if k.lower() not in replaced]
                if hashed:
                    headers.append((b"cache-control", IMMUTABLE))
                else:
                    headers.append((b"cache-control", b"no-cache"))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"content-security-policy", CSP.encode()))  # Chromium applies an SVG's own CSP
                if html:
                    headers.append((b"referrer-policy", b"same-origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
