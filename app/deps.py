"""Typed dependencies: the per-request unit of work, the caller, and role guards.

Every dependency is `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop per
dependency per request (measured: it cut cached throughput by half).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.db import READ_METHODS, UnitOfWork, reader
from app.errors import DomainError, Forbidden, Unauthorized
from app.models.enums import Role
from app.observability import note_user
from app.security import Principal, decode_access_token
from app.settings import Settings
from app.state import AppState, request_state


async def get_state(request: Request) -> AppState:
    return request_state(request)


StateDep = Annotated[AppState, Depends(get_state)]


async def get_settings_dep(request: Request) -> Settings:
    return request_state(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request: commit on success, roll back on error, both before the response.

    `scope="function"` (below) makes FastAPI finish this dependency before it sends the response, so a
    failing commit becomes a 5xx instead of a silent success. What others registered to follow the commit
    (the response cache's invalidations) runs only after it succeeded, and still before the response.
    """
    state = request_state(request)
    sessionmaker = state.database.sessionmaker
    read = request.method in READ_METHODS
    if read:  # a read sends its statements only: no BEGIN, no COMMIT
        sessionmaker = reader(sessionmaker)
    async with sessionmaker() as session:
        session.info["live"] = state.live  # notifications committed by this request are published there
        try:
            yield session
            # A cache HIT never touched the database; a read's statements committed themselves (autocommit),
            # so its commit would only flush changes, which a read has none of (about 3 % of a read's CPU).
            if session.in_transaction() and not (read and not (session.new or session.dirty or session.deleted)):
                await session.commit()
        except BaseException as exc:
            session.discard_after_commit()
            # An error that must still record what led to it (a reused refresh token revokes its family).
            await (session.commit() if isinstance(exc, DomainError) and exc.keeps_changes else session.rollback())
            raise
        await session.run_after_commit()


SessionDep = Annotated[UnitOfWork, Depends(get_session, scope="function")]


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_principal(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    """The caller if a token was sent (a bad token is still a 401), else None for anonymous reads."""
    principal = decode_access_token(token, settings) if token else None
    if principal is not None:
        note_user(principal.id)  # for the request's log line
    return principal


async def get_principal(principal: Annotated[Principal | None, Depends(get_optional_principal)]) -> Principal:
    if principal is None:
        raise Unauthorized("Authentication required.")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"Only {' or '.join(r.value for r in roles)} accounts may do this.")
        return principal

    return guard


ClientPrincipal = Annotated[Principal, Depends(require_role(Role.client))]
WorkerPrincipal = Annotated[Principal, Depends(require_role(Role.worker))]
AdminPrincipal = Annotated[Principal, Depends(require_role(Role.admin))]
