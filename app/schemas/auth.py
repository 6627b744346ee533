from typing import Literal

from pydantic import EmailStr, Field

from app.schemas.common import Input, Output


class RegisterIn(Input):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=8, max_length=128)
    full_name: str = Field(min_length=1, max_length=120)
    role: Literal["client", "worker"]


class TokenPair(Output):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshIn(Input):
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
