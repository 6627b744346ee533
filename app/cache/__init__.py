"""The response cache: `@cached` on read endpoints, `@invalidates` on write endpoints (docs/caching.md)."""

from app.cache.backends import CacheBackend, MemoryBackend, RedisBackend
from app.cache.core import Breaker, Cache
from app.cache.decorator import cached
from app.cache.invalidation import WriteContext, invalidates
from app.cache.metrics import Metrics
from app.settings import Settings

__all__ = ["Cache", "Metrics", "WriteContext", "build_cache", "cached", "invalidates"]


def build_cache(settings: Settings, metrics: Metrics) -> Cache:
    timeout = settings.cache_timeout_ms / 1000
    backend: CacheBackend | None
    if not settings.cache_enabled:
        backend = None  # every request BYPASSes the cache (benchmarks, debugging)
    elif settings.redis_url:
        backend = RedisBackend(settings.redis_url, timeout)
    else:
        backend = MemoryBackend()
    breaker = Breaker(threshold=settings.cache_breaker_threshold, cooldown=settings.cache_breaker_cooldown_seconds)
    return Cache(backend, metrics, namespace=settings.cache_namespace, timeout=timeout, breaker=breaker)
