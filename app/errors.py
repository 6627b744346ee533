"""Domain errors carry their HTTP status; one handler renders every error as RFC 9457 problem details.

Every problem carries a machine-readable `code` (a default per error class, or a specific one where a client
must tell conflicts apart, e.g. `job_already_funded` vs `openings_full`) and a stable `type` URI made from it.
"""

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.pagination import InvalidCursor

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


# RFC 9457 suggests a tag URI for problem types that are identifiers, not pages to fetch.
PROBLEM_TYPE_PREFIX = "tag:marketplace,2026:problem:"


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_PREFIX + code


class Problem(BaseModel):
    """The one error shape of the API (RFC 9457)."""

    type: str = Field(description=f"`{PROBLEM_TYPE_PREFIX}<code>`: one stable URI per kind of problem.")
    code: str = Field(description="Machine-readable kind of problem, e.g. `job_already_funded`, `openings_full`.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class DomainError(Exception):
    status = 400
    code = "bad_request"
    # True for a refusal that is also a write to keep (a reused refresh token revokes its family):
    # the unit of work commits instead of rolling back.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    @property
    def headers(self) -> Mapping[str, str]:
        return {}


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"


# The code of an error that did not come from a DomainError (Starlette's own 404/405, 500s).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    429: "too_many_requests",
    500: "internal_error",
    409: "conflict",
    422: "unprocessable",
    503: "service_unavailable",
}


def problem_response(
    request: Request,
    status: int,
    detail: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The problem answer; `code` defaults to the status's (STATUS_CODES)."""
    code = code or STATUS_CODES.get(status, "http_error")
    body = Problem(
        type=problem_type(code),
        code=code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extra,
    )
    all_headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=all_headers
    )


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(loc=[str(p) if not isinstance(p, int) else p for p in e["loc"]], msg=e["msg"], type=e["type"])
        for e in exc.errors()
    ]


# constraint -> (code, message) of the 409 a violation becomes.
CONSTRAINT_PROBLEMS = {
    "uq_users_email": ("email_taken", "An account with this email already exists."),
    "uq_applications_active_job_worker": ("already_applied", "You already have an active application for this job."),
    "uq_payments_escrow_job": ("job_already_funded", "This job is funded already."),
    "uq_reviews_job_reviewer_reviewee": ("already_reviewed", "You have already reviewed this person for this job."),
    "ck_jobs_hired_within_openings": ("openings_full", "All openings of this job are filled."),
    "ck_accounts_balance_non_negative": ("insufficient_balance", "The account balance would become negative."),
}


def constraint_name(exc: BaseException) -> str | None:
    """The violated constraint's name, from the driver error SQLAlchemy wraps."""
    seen: BaseException | None = exc
    while seen is not None:
        name = getattr(seen, "constraint_name", None)
        if name:
            return str(name)
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


# Driver errors that say the database cannot be reached (down, restarting, shutting down), not that a statement failed.
UNREACHABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)


def database_unreachable(exc: BaseException) -> bool:
    """True when the database dropped the connection or refused a new one (a 503, not a bug)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UNREACHABLE):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.code, exc.headers)

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, exc: InvalidCursor) -> JSONResponse:
        detail = "The cursor is malformed; pass back a next_cursor from a previous page."
        return problem_response(request, 422, detail, "invalid_cursor")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        missing_headers = [str(e.loc[-1]) for e in errors if e.type == "missing" and e.loc[0] == "header"]
        if missing_headers and len(missing_headers) == len(errors):
            detail = f"The {', '.join(missing_headers)} header is required."
            return problem_response(request, 400, detail, "header_missing", errors=errors)
        return problem_response(request, 422, "The request is not valid.", "validation_failed", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keeps Starlette's headers, e.g. `Allow` on a 405.
        return problem_response(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        name = constraint_name(exc)
        code, detail = CONSTRAINT_PROBLEMS.get(
            name or "", ("conflict", f"The request conflicts with existing data ({name}).")
        )
        return problem_response(request, 409, detail, code)

    # Handled here (not by the catch-all below, which closes the client's connection): the pool replaces the
    # dead connection, and the next request of the same client succeeds once the database is back.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
        if not database_unreachable(exc):
            raise exc
        logging.getLogger("app.errors").warning("database unreachable: %s", type(exc).__name__)
        return problem_response(request, 503, "The database is not reachable; retry shortly.", "database_unreachable")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, 500, "An unexpected error occurred.", "internal_error")

    app.openapi = _problems_as_problem_json(app.openapi)  # type: ignore[method-assign]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem shape for the given statuses."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase} for s in statuses}


def _problems_as_problem_json(generate: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI documents a response `model` under `application/json`; the API sends problems as
    `application/problem+json`, so move them there (and only there): generated clients then type errors."""
    problem_ref = {"$ref": "#/components/schemas/Problem"}

    def openapi() -> dict[str, Any]:
        document = generate()
        for operation in (op for path in document["paths"].values() for op in path.values()):
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if content.get("application/json", {}).get("schema") == problem_ref:
                    response["content"] = {PROBLEM_JSON: {"schema": problem_ref}}
        return document

    return openapi
