"""Cookie-mode sessions for browsers, beside the JSON token endpoints (scripts, Swagger's Authorize).

The refresh token travels only in an HttpOnly, Secure, SameSite=Strict cookie scoped to /api/v1/auth, so
JavaScript never reads it; it shares the store and the rotation of the JSON refresh tokens (AuthService).
Every endpoint takes a JSON body, so a plain cross-site form cannot reach them.
"""

from typing import Annotated

from fastapi import APIRouter, Cookie, Response

from app.cache import invalidates
from app.deps import SessionDep, SettingsDep
from app.errors import Unauthorized, problem_responses
from app.routers import API_PREFIX
from app.routers.invalidation import nothing
from app.schemas.auth import AccessToken, SessionCreate, SessionRequest, TokenPair
from app.services.auth import AuthService
from app.settings import Settings

router = APIRouter(prefix=f"{API_PREFIX}/auth/session", tags=["auth"])

COOKIE = "refresh_token"
COOKIE_PATH = f"{API_PREFIX}/auth"

RefreshCookie = Annotated[str | None, Cookie(alias=COOKIE, max_length=256)]


def _start(response: Response, pair: TokenPair, settings: Settings) -> AccessToken:
    response.set_cookie(
        COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return AccessToken(access_token=pair.access_token, expires_in=pair.expires_in)


@router.post("", response_model=AccessToken, operation_id="create_session", responses=problem_responses(401, 422))
@invalidates(nothing)
async def create_session(
    data: SessionCreate, response: Response, session: SessionDep, settings: SettingsDep
) -> AccessToken:
    """Sign in: an access token in the body, the refresh token only in an HttpOnly cookie."""
    return _start(response, await AuthService(session, settings).login(data.email, data.password), settings)


@router.post(
    "/refresh", response_model=AccessToken, operation_id="refresh_session", responses=problem_responses(401, 422)
)
@invalidates(nothing)
async def refresh_session(
    data: SessionRequest, response: Response, session: SessionDep, settings: SettingsDep, token: RefreshCookie = None
) -> AccessToken:
    """A new access token for the session cookie; the cookie rotates: the old one stops working once it is
    `APP_SESSION_REFRESH_GRACE_SECONDS` old (a page reloaded mid-refresh never saw the new cookie)."""
    if not token:
        raise Unauthorized("No session: sign in first.", "invalid_refresh_token")
    pair = await AuthService(session, settings).refresh(token, settings.session_refresh_grace_seconds)
    return _start(response, pair, settings)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    operation_id="end_session",
    responses=problem_responses(422),
)
@invalidates(nothing)
async def end_session(
    data: SessionRequest, session: SessionDep, settings: SettingsDep, token: RefreshCookie = None
) -> Response:
    """Sign out: revoke the session's refresh token and clear the cookie."""
    if token:
        await AuthService(session, settings).logout(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")
    return response
