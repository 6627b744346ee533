"""HTTP hardening as plain ASGI middlewares: a request-body size limit and the response headers.

- Bodies over `APP_MAX_BODY_BYTES` are refused with 413 before they are read: at once when Content-Length
  says so, else as soon as the streamed bytes pass the limit (the rest is never read).
- Every answer gets `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
  `X-Frame-Options: DENY` and, unless it brings its own, a CSP that allows nothing (`frame-ancestors 'none'`)
  and `Cache-Control: no-store`. The response cache sets its own Cache-Control on cached routes; every
  other answer (accounts, tokens, payments) is never stored by a browser or proxy.
- A 405 lists in `Allow` every method of the path (Starlette names only those of the first route it met).
- `document_request_statuses` puts in the OpenAPI the statuses an operation answers for what it takes.
"""

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.cache.decorator import api_routes, dependency_calls
from app.errors import problem_response, problem_responses

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class BodyTooLarge(HTTPException):
    """Raised from `receive` (FastAPI re-raises HTTPExceptions met while reading a body): a 413 problem."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:  # the server refuses a malformed one
            detail = str(BodyTooLarge(self.max_bytes).detail)
            await problem_response(Request(scope), 413, detail)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def allowed_methods(app: FastAPI, path: str) -> str:
    routes = [route for route in api_routes(app.routes) if route.path_regex.match(path)]
    methods = {method for route in routes for method in route.methods or ()}
    return ", ".join(sorted(methods))


def _takes_parameters(dependant: Dependant) -> bool:
    """Path, query or header parameters anywhere in the dependency tree (loaders take the path ids)."""
    own = dependant.path_params or dependant.query_params or dependant.header_params
    return bool(own) or any(_takes_parameters(sub) for sub in dependant.dependencies)


def document_request_statuses(router: APIRouter, *, optional_principal: Callable[..., Any]) -> None:
    """Document the statuses that follow from what an operation takes, so no route's list can forget them:
    a body (400 unparseable, 413 over APP_MAX_BODY_BYTES), parameters or a body (422), and a token that may
    be sent (401 when it is bad, also on public reads that look at the caller).

    Call it before `include_router` (FastAPI builds the app's routes from the router's then); it is idempotent.
    """
    for route in api_routes(router.routes):
        statuses = []
        if route.body_field is not None:
            statuses += [400, 413]
        if _takes_parameters(route.dependant) or route.body_field is not None:
            statuses.append(422)
        if optional_principal in dependency_calls(route.dependant):
            statuses.append(401)
        route.responses = {**problem_responses(*statuses), **route.responses}


class ResponseHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                headers.setdefault("Content-Security-Policy", API_CSP)
                headers.setdefault("Cache-Control", "no-store")
                if message["status"] == 405 and isinstance(scope.get("app"), FastAPI):
                    headers["Allow"] = allowed_methods(scope["app"], scope["path"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The CSP of a docs page: its assets from this origin only, its inline scripts by their hashes.

    Swagger UI and ReDoc set inline styles and ReDoc starts a blob: worker, hence those two allowances.
    """
    script_src = " ".join(
        ["'self'"]
        + [
            "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
            for script in _INLINE_SCRIPT.findall(html)
        ]
    )
    return (
        f"default-src 'none'; script-src {script_src}; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " font-src 'self'; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )
