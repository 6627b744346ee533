"""Password hashing (argon2) and tokens: short-lived JWT access tokens, opaque rotating refresh tokens."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import Unauthorized
from app.models.enums import Role
from app.settings import Settings

JWT_ALGORITHM = "HS256"


@lru_cache
def _hasher(memory_kib: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(memory_cost=memory_kib),))


def hash_password(password: str, settings: Settings) -> str:
    return _hasher(settings.argon2_memory_kib).hash(password)


def verify_password(password: str, password_hash: str, settings: Settings) -> bool:
    return _hasher(settings.argon2_memory_kib).verify(password, password_hash)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the signed access token says. Identity never comes from the request body."""

    id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def create_access_token(user_id: int, role: str, settings: Settings) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "role": role,
        "type": "access",
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token, settings.secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["sub", "exp", "type", "role"]}
        )
        if claims["type"] != "access":
            raise Unauthorized("Not an access token.")
        return Principal(id=int(claims["sub"]), role=Role(claims["role"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("The access token is invalid or has expired.") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_id(token: str) -> str:
    """Refresh tokens are stored only as their SHA-256, so a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode()).hexdigest()
