"""Abuse limits' counters: fixed windows per (limit, key) (the route dependencies are in app/limits.py).

Counters live in Redis when `APP_REDIS_URL` is set, so every process shares them (one Lua script: INCR,
and EXPIRE on the window's first hit), else in process memory. A limiter that fails or is slower than the
cache's time budget (`APP_CACHE_TIMEOUT_MS`) lets the request through: limits guard against abuse, they
must not take the service down with Redis. `APP_RATE_LIMIT_ENABLED=false` switches every limit off.
"""

import asyncio
import logging
import time
from abc import ABC, abstractmethod

from app.cache.backends import fail_fast_client
from app.cache.core import Breaker
from app.settings import Rate, Settings

log = logging.getLogger("app.ratelimit")


class Limiter(ABC):
    @abstractmethod
    async def hit(self, key: str, rate: Rate) -> int:
        """Count one request against `key`; 0 when within `rate`, else the seconds until its window ends."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


class MemoryLimiter(Limiter):
    """One process's counters (without Redis). Bounded: expired windows go first, then the oldest."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._max_keys = max_keys

    async def hit(self, key: str, rate: Rate) -> int:
        now = time.monotonic()
        end, count = self._windows.get(key, (0.0, 0))
        if end <= now:
            self._make_room(now)
            end, count = now + rate.seconds, 0
        self._windows[key] = (end, count + 1)
        return 0 if count < rate.count else max(1, round(end - now))

    def _make_room(self, now: float) -> None:
        if len(self._windows) >= self._max_keys:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            while len(self._windows) >= self._max_keys:
                self._windows.pop(next(iter(self._windows)))


# KEYS[1] counter; ARGV[1] window seconds. Returns {count, seconds left}. A counter found without a TTL
# (it cannot happen through this script) gets one, so no key outlives its window.
_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisLimiter(Limiter):
    def __init__(self, url: str, timeout_seconds: float, breaker: Breaker) -> None:
        self.client = fail_fast_client(url, timeout_seconds, max_connections=8)
        self._hit = self.client.register_script(_HIT)
        self.timeout = timeout_seconds
        self.breaker = breaker

    async def hit(self, key: str, rate: Rate) -> int:
        if not self.breaker.allows():
            return 0
        try:
            async with asyncio.timeout(self.timeout):
                count, ttl = await self._hit(keys=[key], args=[rate.seconds])
        except Exception as exc:  # fail open: a sick Redis must not lock everyone out
            self.breaker.failure()
            log.warning("rate limiter unavailable, request let through: %s", type(exc).__name__)
            return 0
        self.breaker.success()
        return 0 if int(count) <= rate.count else max(1, int(ttl))

    async def close(self) -> None:
        await self.client.aclose()


def build_limiter(settings: Settings) -> Limiter:
    if settings.redis_url:
        breaker = Breaker(settings.cache_breaker_threshold, settings.cache_breaker_cooldown_seconds)
        return RedisLimiter(settings.redis_url, settings.cache_timeout_ms / 1000, breaker)
    return MemoryLimiter()
