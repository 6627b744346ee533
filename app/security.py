"""Password hashing (argon2, off the event loop) and tokens: short-lived JWT access tokens, opaque rotating
refresh tokens."""

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import Unauthorized
from app.models.enums import Role
from app.schemas.common import MAX_ID
from app.settings import Settings

JWT_ALGORITHM = "HS256"
# The 10,000 most common passwords, lowercased (source and licence: app/data/README.md).
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache
def _hasher(memory_kib: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(memory_cost=memory_kib),))


def hash_password(password: str, settings: Settings) -> str:
    """Blocking: for the CLI and the seed. Request handlers use `hash_password_async`."""
    return _hasher(settings.argon2_memory_kib).hash(password)


def verify_password(password: str, password_hash: str, settings: Settings) -> bool:
    """Blocking: request handlers use `verify_password_async`."""
    return _hasher(settings.argon2_memory_kib).verify(password, password_hash)


@lru_cache
def _hash_pool(concurrency: int) -> ThreadPoolExecutor:
    # argon2 (cffi) releases the GIL, so these threads hash while the event loop keeps serving requests;
    # the pool's size caps the CPU and memory (argon2_memory_kib each) that logins can take at once.
    return ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")


async def hash_password_async(password: str, settings: Settings) -> str:
    pool = _hash_pool(settings.password_hash_concurrency)
    return await asyncio.get_running_loop().run_in_executor(pool, hash_password, password, settings)


async def verify_password_async(password: str, password_hash: str, settings: Settings) -> bool:
    pool = _hash_pool(settings.password_hash_concurrency)
    return await asyncio.get_running_loop().run_in_executor(pool, verify_password, password, password_hash, settings)


@lru_cache
def _dummy_hash(memory_kib: int) -> str:
    return _hasher(memory_kib).hash(secrets.token_urlsafe(16))


async def dummy_hash(settings: Settings) -> str:
    """A hash with the real parameters, verified for unknown e-mails so they cost what known ones do."""
    pool = _hash_pool(settings.password_hash_concurrency)
    return await asyncio.get_running_loop().run_in_executor(pool, _dummy_hash, settings.argon2_memory_kib)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines())


def is_common_password(password: str) -> bool:
    """Case-insensitive, as the list is lowercased: `Password1` is as guessable as `password1`."""
    return password.lower() in common_passwords()


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
        user_id = int(claims["sub"])
        if not 1 <= user_id <= MAX_ID:  # names no row; the driver would overflow on it
            raise ValueError("sub is not a user id")
        return Principal(id=user_id, role=Role(claims["role"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("The access token is invalid or has expired.") from exc


def access_token_expiry(token: str, settings: Settings) -> int:
    """When a valid access token expires (epoch seconds): a notification stream ends then."""
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["exp"]})
        return int(claims["exp"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("The access token is invalid or has expired.") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_token_family() -> str:
    """The id shared by a login's refresh token and every token rotated from it."""
    return secrets.token_hex(16)


def refresh_token_id(token: str) -> str:
    """Refresh tokens are stored only as their SHA-256, so a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_account_token_salt() -> str:
    return secrets.token_hex(16)


def account_token(salt: str, settings: Settings) -> str:
    """A single-use link's token, HMAC(secret key, salt): the e-mail task rebuilds it from the row's random
    salt, so neither the queue nor the table ever holds it (the table keeps `account_token_hash` of it)."""
    mac = hmac.new(settings.secret_key.encode(), f"account-token:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def account_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
