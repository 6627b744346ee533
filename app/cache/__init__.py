"""The response cache: `@cached` on read endpoints, `@invalidates` on write endpoints (docs/caching.md)."""

import hashlib

from app.cache.backends import CacheBackend, MemoryBackend, RedisBackend, broadcast_channel, sequence_key
from app.cache.consistency import ConsistencyTokenMiddleware
from app.cache.core import Breaker, Cache, prefix_of
from app.cache.decorator import NearDoor, cached
from app.cache.invalidation import WriteContext, invalidates
from app.cache.metrics import Metrics
from app.cache.near import NearCache, Subscriber
from app.settings import Settings

__all__ = [
    "Cache",
    "ConsistencyTokenMiddleware",
    "Metrics",
    "NearDoor",
    "WriteContext",
    "build_cache",
    "cached",
    "invalidates",
    "namespace_of",
]


def namespace_of(database_identity: str) -> str:
    """The default namespace: a digest of the database's identity (app.db.database_identity), so apps on
    different databases sharing one Redis never read each other's entries, and apps on one database share."""
    return "db-" + hashlib.sha256(database_identity.encode()).hexdigest()[:16]


def build_cache(settings: Settings, metrics: Metrics) -> Cache:
    """The cache of `settings`, whose namespace the lifespan has resolved (namespace_of when it was empty)."""
    assert settings.cache_namespace, "resolve an empty APP_CACHE_NAMESPACE with namespace_of first"
    timeout = settings.cache_timeout_ms / 1000
    prefix = prefix_of(settings.cache_namespace)
    backend: CacheBackend | None
    near, subscriber = None, None
    if not settings.cache_enabled:
        backend = None  # every request BYPASSes the cache (benchmarks, debugging)
    elif settings.redis_url:
        backend = RedisBackend(settings.redis_url, timeout, prefix=prefix)
        if settings.cache_near:  # its guarantee needs the broadcast, hence Redis
            near = NearCache(settings.cache_near_size)
            subscriber = Subscriber(near, settings.redis_url, broadcast_channel(prefix), sequence_key(prefix))
    else:
        backend = MemoryBackend()
    breaker = Breaker(threshold=settings.cache_breaker_threshold, cooldown=settings.cache_breaker_cooldown_seconds)
    return Cache(
        backend,
        metrics,
        namespace=settings.cache_namespace,
        timeout=timeout,
        breaker=breaker,
        near=near,
        subscriber=subscriber,
    )
