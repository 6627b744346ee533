"""Application settings: one pydantic-settings class, read from `APP_*` environment variables."""

import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Public (it is in the repository): signs tokens only when APP_ENVIRONMENT=test.
DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
SECRET_KEY_FILE = "secret_key"
# An exact web origin (scheme, host, optional port; no path), as CORS compares them.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """At most `count` requests per fixed window of `seconds`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        unit = next(name for name, size in reversed(_UNITS.items()) if self.seconds % size == 0)
        per = self.seconds // _UNITS[unit]
        return f"{self.count}/{unit}" if per == 1 else f"{self.count}/{per}{unit}"


def _parse_rate(value: Any) -> Any:
    """`"10/minute"`, `"100/day"`, `"5/15minute"` (5 per 15 minutes)."""
    if not isinstance(value, str):
        return value
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*", value)
    if match is None or int(match[1]) < 1 or match[2] == "0":
        raise ValueError("a rate is COUNT/UNIT, e.g. 10/minute, 100/day or 5/15minute")
    return Rate(int(match[1]), int(match[2] or 1) * _UNITS[match[3]])


RateSetting = Annotated[Rate, NoDecode, BeforeValidator(_parse_rate)]


def stored_secret_key(data_dir: Path) -> str:
    """The key in `data_dir/secret_key`, made (random, mode 0600) on first use, so sessions survive restarts."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by an earlier start, or by a sibling worker a moment ago
        key = path.read_text().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds no usable key; delete it to have a new one made") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error never echoes a value (secrets, passwords in URLs).
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "test", "production"] = "development"
    # Empty means: start the embedded PostgreSQL in `data_dir` (see app/embedded.py).
    database_url: str = Field(default="", repr=False)
    # Empty means: the in-process cache backend (same semantics, one process only).
    redis_url: str = Field(default="", repr=False)
    cache_enabled: bool = True
    # Prefix of every cache and limiter key; apps sharing a Redis share entries only within one namespace.
    # Empty: derived from the database's identity at start-up (app.cache.namespace_of), so two databases
    # never share entries.
    cache_namespace: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,32}$")
    # Longest a cache operation may take before the request goes on without the cache.
    cache_timeout_ms: int = Field(default=100, ge=1, le=5000)
    # Consecutive cache failures that open the circuit breaker, and how long it stays open.
    cache_breaker_threshold: int = Field(default=3, ge=1)
    cache_breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    # The near tier: public entries kept in the process, in front of Redis, invalidated by a Redis pub/sub
    # broadcast (docs/caching.md). It needs Redis: without APP_REDIS_URL there is no near tier.
    cache_near: bool = True
    cache_near_size: int = Field(default=4096, ge=1, le=1_000_000)  # entries
    data_dir: Path = Path(".data")

    # Empty: a random key kept in `data_dir/secret_key` (the test suite alone uses the public DEV_SECRET).
    secret_key: str = Field(default="", repr=False)
    # Short lifetimes (down to 1 s) exist for the browser tests of a silent refresh.
    access_token_ttl_seconds: int = Field(default=900, ge=1)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # A browser session's refresh cookie used less than this long ago works once more: a page reloaded while
    # its refresh was in flight never received the rotated cookie, and would otherwise be signed out.
    session_refresh_grace_seconds: int = Field(default=10, ge=0, le=60)
    # argon2 memory cost; the test suite lowers it to keep thousands of hashes fast.
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    # Password hashes computed at once (each in a thread, off the event loop); more wait their turn.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)

    # Abuse limits (docs/security.md): fixed windows per key, shared through Redis when APP_REDIS_URL is set.
    rate_limit_enabled: bool = True
    rate_limit_login_per_ip: RateSetting = Rate(20, 60)
    rate_limit_login_per_account: RateSetting = Rate(10, 15 * 60)
    rate_limit_register_per_ip: RateSetting = Rate(10, 3600)
    rate_limit_register_per_account: RateSetting = Rate(3, 3600)
    rate_limit_refresh_per_family: RateSetting = Rate(10, 60)
    rate_limit_applications_per_worker: RateSetting = Rate(50, 86400)
    rate_limit_messages_per_user: RateSetting = Rate(30, 60)

    # HTTP: request bodies above this many bytes are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_format: Literal["json", "text"] = "json"
    # Set: GET /metrics needs `Authorization: Bearer <token>`. Empty: only loopback clients may read it.
    metrics_token: str = Field(default="", repr=False)

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    platform_fee_bps: int = Field(default=1000, ge=0, le=10000)

    # Exact origins (`https://app.example.com`, comma-separated) of a separately hosted web app that may call
    # the API with credentials. Empty: no CORS (the web app is served by the API itself, same origin).
    cors_origins: Annotated[list[str], NoDecode] = []

    # Shift work (issue #10): check-in radius, the client's review window, no-show grace, late cancellations.
    checkin_radius_m: int = Field(default=300, ge=1)
    timesheet_review_minutes: int = Field(default=4320, ge=0)
    no_show_grace_minutes: int = Field(default=30, ge=0)
    late_cancel_hours: int = Field(default=24, ge=0)
    late_cancel_fee_bps: int = Field(default=2500, ge=0, le=10000)

    db_pool_size: int = Field(default=10, ge=1)
    db_echo: bool = False

    # The background scheduler's period (app/tasks): it must divide a minute or an hour, as cron counts.
    scheduler_interval_seconds: int = Field(default=30, ge=1, le=3600)
    # A worker silent (no heartbeat) this long is presumed dead, and the jobs it was running are retried.
    worker_stalled_seconds: float = Field(default=30, ge=1)

    # Notifications (docs/notifications.md). The web app's address, for the links in e-mails.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^/\s]+(/[^\s]*)?$")
    # smtp://user:pass@host:port or smtps:// (TLS); empty: e-mails go to the log and APP_DATA_DIR/outbox/*.eml.
    smtp_url: str = Field(default="", repr=False, pattern=r"^(smtps?://.+)?$")
    email_from: str = Field(default="Marketplace <no-reply@marketplace.invalid>", min_length=3, max_length=254)
    # A comment line on every idle notification stream, so proxies and clients see it is alive.
    notifications_heartbeat_seconds: float = Field(default=15, gt=0, le=300)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

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

    @field_validator("scheduler_interval_seconds")
    @classmethod
    def _divides_a_minute_or_an_hour(cls, value: int) -> int:
        if 60 % value and (value % 60 or 60 % (value // 60)):
            raise ValueError("APP_SCHEDULER_INTERVAL_SECONDS must divide 60, or be whole minutes that divide 60")
        return value

    @model_validator(mode="after")
    def _resolve_secret_key(self) -> "Settings":
        if self.environment == "test":
            self.secret_key = self.secret_key or DEV_SECRET
        elif not self.secret_key:
            self.secret_key = stored_secret_key(self.data_dir)
        elif self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            # Never echo the value: this message ends up in logs and terminals.
            raise ValueError(
                "APP_SECRET_KEY must be a random string of 32+ characters (not the development key);"
                " leave it unset to have one generated in APP_DATA_DIR"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
