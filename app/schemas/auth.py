from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from app.models.enums import SignupRole
from app.schemas.common import Input, Output
from app.security import is_common_password


def _not_common(password: str) -> str:
    if is_common_password(password):
        raise ValueError("this password is one of the 10,000 most common ones; choose another")
    return password


# Never trimmed (Input trims other strings): every character of a password counts.
Password = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=8, max_length=128), AfterValidator(_not_common)
]


class NewAccount(Input):
    """What every new account gives, with the rules a registration checks."""

    email: EmailStr = Field(max_length=254)
    password: Password
    full_name: str = Field(min_length=1, max_length=120)


class UserCreate(NewAccount):
    """A registration (POST /auth/register): a client or a worker."""

    role: SignupRole


class AdminCreate(NewAccount):
    """An admin account: made only by `marketplace create-admin`, never over the API."""


class TokenPair(Output):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class TokenRefresh(Input):
    refresh_token: str = Field(min_length=1, max_length=256)


class SessionCreate(Input):
    """Browser sign-in: a JSON body (never a form), so a cross-site form cannot reach it."""

    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=128)


class SessionRequest(Input):
    """`{}`: the session endpoints take a JSON body, so a plain cross-site form cannot reach them."""


class AccessToken(Output):
    """A browser session's access token; its refresh token travels only in an HttpOnly cookie."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class PasswordResetCreate(Input):
    """POST /auth/password-reset: e-mail a reset link if an account has this address."""

    email: EmailStr = Field(max_length=254)


class PasswordResetRequested(Output):
    detail: str = "If an account has this address, a reset link is on its way (valid 30 minutes)."


class PasswordResetConfirm(Input):
    token: str = Field(min_length=1, max_length=256)
    password: Password


class EmailVerificationConfirm(Input):
    token: str = Field(min_length=1, max_length=256)
