"""Abuse limits as route dependencies (docs/security.md): one line per route, `dependencies=[LimitLogin]`.

Counters are app.ratelimit's (Redis when configured, else in process); keys are hashed, so no e-mail or token
lands in Redis. `APP_RATE_LIMIT_ENABLED=false` switches every limit off.
"""

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.deps import CurrentPrincipal, SessionDep
from app.errors import TooManyRequests
from app.repositories.users import RefreshTokenRepository
from app.security import refresh_token_id
from app.settings import Rate, Settings
from app.state import request_state


async def enforce(request: Request, name: str, rate: Rate, key: str) -> None:
    """Count this request against limit `name` for `key` (hashed: no e-mail or token lands in Redis)."""
    state = request_state(request)
    settings, limiter = state.settings, state.limiter
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    retry_after = await limiter.hit(f"{{{settings.cache_namespace}}}:rl:{name}:{digest}", rate)
    if retry_after:
        raise TooManyRequests(f"Too many requests ({name}: {rate}); retry in {retry_after} s.", retry_after)


def _settings(request: Request) -> Settings | None:
    """The settings when limits are on, else None."""
    settings = request_state(request).settings
    return settings if settings.rate_limit_enabled else None


def client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (trusted --forwarded-allow-ips) sets the real client here.
    return request.client.host if request.client else "unknown"


async def _json_field(request: Request, name: str) -> str | None:
    """A string field of the JSON body, read before the route validates it (FastAPI has parsed it already)."""
    try:
        body: Any = await request.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


async def limit_login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> None:
    if settings := _settings(request):
        await enforce(request, "login-per-ip", settings.rate_limit_login_per_ip, client_ip(request))
        await enforce(request, "login-per-account", settings.rate_limit_login_per_account, form.username.lower())


async def limit_registration(request: Request) -> None:
    if settings := _settings(request):
        await enforce(request, "register-per-ip", settings.rate_limit_register_per_ip, client_ip(request))
        if email := await _json_field(request, "email"):
            await enforce(request, "register-per-account", settings.rate_limit_register_per_account, email.lower())


async def limit_refresh(request: Request, session: SessionDep) -> None:
    if (settings := _settings(request)) and (token := await _json_field(request, "refresh_token")):
        family = await RefreshTokenRepository(session).get_family_id(refresh_token_id(token))
        if family is not None:  # an unknown token is refused anyway, at no cost worth limiting
            await enforce(request, "refresh-per-family", settings.rate_limit_refresh_per_family, family)


async def limit_applications(request: Request, principal: CurrentPrincipal) -> None:
    if settings := _settings(request):
        rate = settings.rate_limit_applications_per_worker
        await enforce(request, "applications-per-worker", rate, str(principal.id))


async def limit_messages(request: Request, principal: CurrentPrincipal) -> None:
    """POST /applications/{id}/messages."""
    if settings := _settings(request):
        await enforce(request, "messages-per-user", settings.rate_limit_messages_per_user, str(principal.id))


async def limit_password_reset(request: Request) -> None:
    """Both password-reset routes, at the login's rates: per address for a request, per token for a confirm."""
    if settings := _settings(request):
        await enforce(request, "password-reset-per-ip", settings.rate_limit_login_per_ip, client_ip(request))
        if key := await _json_field(request, "email") or await _json_field(request, "token"):
            await enforce(request, "password-reset-per-account", settings.rate_limit_login_per_account, key.lower())


LimitLogin = Depends(limit_login)
LimitRegistration = Depends(limit_registration)
LimitRefresh = Depends(limit_refresh)
LimitApplications = Depends(limit_applications)
LimitMessages = Depends(limit_messages)
LimitPasswordReset = Depends(limit_password_reset)
