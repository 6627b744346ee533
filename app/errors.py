"""Domain errors carry their HTTP status; one handler renders every error as RFC 9457 problem details."""

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The one error shape of the API (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class DomainError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unprocessable(DomainError):
    status = 422


class ServiceUnavailable(DomainError):
    status = 503


def problem_response(request: Request, status: int, detail: str, **extra: Any) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, instance=request.url.path, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(loc=[str(p) if not isinstance(p, int) else p for p in e["loc"]], msg=e["msg"], type=e["type"])
        for e in exc.errors()
    ]


CONSTRAINT_MESSAGES = {
    "uq_users_email": "An account with this email already exists.",
    "uq_applications_active_job_worker": "You already have an active application for this job.",
    "uq_payments_escrow_job": "This job is funded already.",
    "uq_reviews_job_reviewer_reviewee": "You have already reviewed this person for this job.",
    "ck_jobs_hired_within_openings": "All openings of this job are filled.",
    "ck_accounts_balance_non_negative": "The account balance would become negative.",
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
        return problem_response(request, exc.status, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, 422, "The request is not valid.", errors=_field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        name = constraint_name(exc)
        detail = CONSTRAINT_MESSAGES.get(name or "", f"The request conflicts with existing data ({name}).")
        return problem_response(request, 409, detail)

    # Handled here (not by the catch-all below, which closes the client's connection): the pool replaces the
    # dead connection, and the next request of the same client succeeds once the database is back.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
        if not database_unreachable(exc):
            raise exc
        logging.getLogger("app.errors").warning("database unreachable: %s", type(exc).__name__)
        return problem_response(request, 503, "The database is not reachable; retry shortly.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, 500, "An unexpected error occurred.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem shape for the given statuses."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase, "content": {PROBLEM_JSON: {}}} for s in statuses}
