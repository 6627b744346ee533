"""Application settings: one pydantic-settings class, read from `APP_*` environment variables."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Empty means: start the embedded PostgreSQL in `data_dir` (see app/embedded.py).
    database_url: str = ""
    # Empty means: the in-process cache backend (same semantics, one process only).
    redis_url: str = ""
    cache_enabled: bool = True
    # Prefix of every cache key; apps sharing a Redis share entries only within one namespace.
    cache_namespace: str = Field(default="mp", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    # Longest a cache operation may take before the request goes on without the cache.
    cache_timeout_ms: int = Field(default=100, ge=1, le=5000)
    # Consecutive cache failures that open the circuit breaker, and how long it stays open.
    cache_breaker_threshold: int = Field(default=3, ge=1)
    cache_breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    data_dir: Path = Path(".data")

    secret_key: str = DEV_SECRET
    # Short lifetimes (down to 1 s) exist for the browser tests of a silent refresh.
    access_token_ttl_seconds: int = Field(default=900, ge=1)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # A browser session's refresh cookie used less than this long ago works once more: a page reloaded while
    # its refresh was in flight never received the rotated cookie, and would otherwise be signed out.
    session_refresh_grace_seconds: int = Field(default=10, ge=0, le=60)
    # argon2 memory cost; the test suite lowers it to keep thousands of hashes fast.
    argon2_memory_kib: int = Field(default=65536, ge=1024)

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    platform_fee_bps: int = Field(default=1000, ge=0, le=10000)

    # Exact origins (`https://app.example.com`, comma-separated) of a separately hosted web app that may call
    # the API with credentials. Empty: no CORS (the web app is served by the API itself, same origin).
    cors_origins: Annotated[list[str], NoDecode] = []

    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        """Accept the usual `postgres://` and `postgresql://` spellings; always talk asyncpg."""
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        if value and not value.startswith("postgresql+asyncpg://"):
            raise ValueError("APP_DATABASE_URL must be a PostgreSQL URL")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            # `*` with credentials would let any site act as the signed-in user.
            if not ORIGIN.fullmatch(origin):
                raise ValueError(f"APP_CORS_ORIGINS takes exact origins like https://app.example.com, not {origin!r}")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment == "production" and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("APP_SECRET_KEY must be set to a random string of 32+ characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
