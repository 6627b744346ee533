"""Domain errors carry their HTTP status; one handler renders every error as RFC 9457 problem details."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.pagination import InvalidCursor

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
    # True for a refusal that is also a write to keep (a reused refresh token revokes its family):
    # the unit of work commits instead of rolling back.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> Mapping[str, str]:
        return {}


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


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(DomainError):
    status = 503


def problem_response(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, instance=request.url.path, **extra)
    all_headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=all_headers
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.headers)

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, exc: InvalidCursor) -> JSONResponse:
        return problem_response(request, 422, "The cursor is malformed; pass back a next_cursor from a previous page.")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, 422, "The request is not valid.", errors=_field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keeps Starlette's headers, e.g. `Allow` on a 405.
        return problem_response(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        name = constraint_name(exc)
        detail = CONSTRAINT_MESSAGES.get(name or "", f"The request conflicts with existing data ({name}).")
        return problem_response(request, 409, detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, 500, "An unexpected error occurred.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem shape for the given statuses."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase, "content": {PROBLEM_JSON: {}}} for s in statuses}
