from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.cache import invalidates
from app.deps import SessionDep, SettingsDep
from app.errors import problem_responses
from app.limits import LimitLogin, LimitPasswordReset, LimitRefresh, LimitRegistration
from app.routers import API_PREFIX
from app.routers.invalidation import nothing
from app.schemas.auth import (
    EmailVerificationConfirm,
    PasswordResetConfirm,
    PasswordResetCreate,
    PasswordResetRequested,
    TokenPair,
    TokenRefresh,
    UserCreate,
)
from app.schemas.users import Me
from app.services.accounts import AccountService
from app.services.auth import AuthService

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=201,
    response_model=Me,
    operation_id="register",
    responses=problem_responses(409, 422, 429),
    dependencies=[LimitRegistration],
)
@invalidates(nothing)
async def register(data: UserCreate, session: SessionDep, settings: SettingsDep) -> Me:
    user = await AuthService(session, settings).register(data)
    return Me.of(user, settings.currency)


@router.post(
    "/token",
    response_model=TokenPair,
    operation_id="create_token",
    responses=problem_responses(401, 422, 429),
    dependencies=[LimitLogin],
)
@invalidates(nothing)
async def create_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. Used by the docs' Authorize button."""
    return await AuthService(session, settings).login(form.username, form.password)


@router.post(
    "/refresh",
    response_model=TokenPair,
    operation_id="refresh_token",
    responses=problem_responses(401, 422, 429),
    dependencies=[LimitRefresh],
)
@invalidates(nothing)
async def refresh_token(data: TokenRefresh, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working (rotation)."""
    return await AuthService(session, settings).refresh(data.refresh_token)


@router.post(
    "/logout", status_code=204, response_class=Response, operation_id="logout", responses=problem_responses(422)
)
@invalidates(nothing)
async def logout(data: TokenRefresh, session: SessionDep, settings: SettingsDep) -> Response:
    """Revoke a refresh token. Access tokens are short-lived and expire on their own."""
    await AuthService(session, settings).logout(data.refresh_token)
    return Response(status_code=204)


@router.post(
    "/password-reset",
    status_code=202,
    response_model=PasswordResetRequested,
    operation_id="request_password_reset",
    responses=problem_responses(422, 429),
    dependencies=[LimitPasswordReset],
)
@invalidates(nothing)
async def request_password_reset(
    data: PasswordResetCreate, session: SessionDep, settings: SettingsDep
) -> PasswordResetRequested:
    """E-mail a reset link (single use, 30 minutes) if an account has this address. Always the same 202, in
    the same time: the answer does not tell whether the address has an account."""
    await AccountService(session, settings).request_password_reset(data.email)
    return PasswordResetRequested()


@router.post(
    "/password-reset/confirm",
    status_code=204,
    response_class=Response,
    operation_id="confirm_password_reset",
    responses=problem_responses(400, 422, 429),
    dependencies=[LimitPasswordReset],
)
@invalidates(nothing)
async def confirm_password_reset(data: PasswordResetConfirm, session: SessionDep, settings: SettingsDep) -> Response:
    """Set a new password (the registration's rules) with a reset link's token; every session of the
    account is logged out. A used, expired or unknown token is a 400."""
    await AccountService(session, settings).reset_password(data.token, data.password)
    return Response(status_code=204)


@router.post(
    "/verify-email",
    status_code=204,
    response_class=Response,
    operation_id="verify_email",
    responses=problem_responses(400, 422),
)
@invalidates(nothing)
async def verify_email(data: EmailVerificationConfirm, session: SessionDep, settings: SettingsDep) -> Response:
    """Confirm the address with the token of the link e-mailed at registration (`email_verified` on /users/me)."""
    await AccountService(session, settings).verify_email(data.token)
    return Response(status_code=204)
