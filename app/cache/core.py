"""The response cache: lookups and fills with a circuit breaker, single-flight, metrics; invalidation."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from app.cache import tags as tag
from app.cache.backends import CacheBackend, Lookup
from app.cache.metrics import Metrics
from app.cache.near import NearCache, Subscriber

log = logging.getLogger("app.cache")
T = TypeVar("T")


class BackendDown(Exception):
    """The backend failed, timed out, or the breaker is open: the caller serves without the cache."""


@dataclass
class Breaker:
    """Opens after `threshold` consecutive failures and skips the backend for `cooldown` seconds."""

    threshold: int = 3
    cooldown: float = 5.0
    failures: int = 0
    open_until: float = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    @property
    def is_open(self) -> bool:
        return not self.allows()

    def success(self) -> None:
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.cooldown


@dataclass
class Flight:
    """One in-process computation of a key that concurrent misses wait for."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    payload: bytes | None = None  # set only when the fill was stored (so it is known not to be stale)
    bypassed: bool = False  # the backend was unavailable: waiters compute without the cache too


Outcome = Literal["hit", "miss", "bypass"]


class Cache:
    def __init__(
        self,
        backend: CacheBackend | None,
        metrics: Metrics,
        *,
        namespace: str = "mp",
        timeout: float = 0.1,
        breaker: Breaker | None = None,
        near: NearCache | None = None,
        subscriber: Subscriber | None = None,
    ) -> None:
        # `{namespace}` is a Redis Cluster hash tag: every key lands in one slot, so scripts see them all.
        self.prefix = prefix_of(namespace)
        self.backend = backend
        self.metrics = metrics
        self.timeout = timeout
        self.breaker = breaker or Breaker()
        # The in-process tier of public entries (app/cache/near.py), kept current by `subscriber`.
        self.near = near
        self.subscriber = subscriber
        if near is not None:
            metrics.watch_near(near)
        # Invalidations that failed: answered by a global flush before the backend is trusted again.
        self.flush_pending = False
        self._flights: dict[str, Flight] = {}
        # Per-route constants of the decorator (app.cache.decorator.RoutePlan), built on a route's first request.
        self.plans: dict[int, Any] = {}
        self._all_stamp = self.stamp_key(tag.ALL)

    @property
    def all_stamp(self) -> str:
        return self._all_stamp

    def near_usable(self) -> bool:
        """The near tier serves and stores only while subscribed and while Redis answers."""
        near = self.near
        return near is not None and near.live and self.breaker.allows()

    def stamp_key(self, tag_name: str) -> str:
        return f"{self.prefix}:t:{tag_name}"

    def entry_key(self, digest: str) -> str:
        return f"{self.prefix}:e:{digest}"

    async def _call(self, operation: str, make: Callable[[CacheBackend], Awaitable[T]]) -> T:
        backend = self.backend
        if backend is None:
            raise BackendDown("cache disabled")
        if not self.breaker.allows():
            raise BackendDown("breaker open")
        try:
            # asyncio.timeout, not wait_for: no extra task per operation on the hot path.
            async with asyncio.timeout(self.timeout):
                if self.flush_pending:
                    await backend.invalidate([self._all_stamp])  # broadcast too: every near tier empties
                    if self.near is not None:
                        self.near.clear()
                    self.flush_pending = False
                    log.warning("cache backend is back: flushed every entry (missed invalidations)")
                result = await make(backend)
        except Exception as exc:  # any backend trouble: count it and fail open
            self.metrics.redis_errors.labels(operation).inc()
            self.breaker.failure()
            if self.near is not None and self.breaker.is_open:
                self.near.clear()  # broadcasts may be missed meanwhile: start afresh when Redis is back
            raise BackendDown(str(exc)) from exc
        self.breaker.success()
        return result

    async def lookup(self, route: str, key: str, stamps: list[str]) -> tuple[Outcome, bytes | None]:
        try:
            found: Lookup = await self._call("lookup", lambda backend: backend.lookup(key, stamps))
        except BackendDown:
            self.metrics.lookup(route, "bypass").inc()
            return "bypass", None
        self.metrics.lookup(route, "hit" if found.entry is not None else "miss").inc()
        return ("hit", found.entry) if found.entry is not None else ("miss", None)

    async def compute(
        self,
        route: str,
        key: str,
        stamps: list[str],
        ttl: int,
        produce: Callable[[], Awaitable[bytes]],
        stored: Callable[[bytes], None] | None = None,
    ) -> tuple[Outcome, bytes]:
        """On a miss: run `produce` once per process per key, and store its bytes if still fresh (then call
        `stored` with them)."""
        flight = self._flights.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.payload is not None:
                return "hit", flight.payload
            # The leader's value was not stored: compute our own (sharing it could serve pre-write data).
            return "bypass" if flight.bypassed else "miss", await produce()
        flight = self._flights[key] = Flight()
        try:
            try:
                snapshot = await self._call("snapshot", lambda backend: backend.snapshot(stamps))
            except BackendDown:
                flight.bypassed = True
                return "bypass", await produce()
            try:
                payload = await produce()
                try:
                    accepted = await self._call(
                        "fill", lambda backend: backend.fill(key, stamps, snapshot.checksum, payload, ttl)
                    )
                except BackendDown:
                    self.metrics.fill(route, "error").inc()
                    return "miss", payload
                self.metrics.fill(route, "stored" if accepted else "stale").inc()
                if accepted:
                    flight.payload = payload
                    if stored is not None:
                        stored(payload)
                return "miss", payload
            finally:
                if flight.payload is None and snapshot.created:
                    await self._release(snapshot.created)
        finally:
            flight.done.set()
            del self._flights[key]

    async def _release(self, created: dict[str, bytes]) -> None:
        """A miss that stored nothing (the handler raised, the fill was stale or failed) leaves no stamp."""
        with contextlib.suppress(BackendDown):  # else they expire after STAMP_PENDING_SECONDS
            await self._call("release", lambda backend: backend.release(created))

    async def invalidate(self, route: str, names: set[str]) -> int | None:
        """Bust tags after a commit; returns the broadcast's sequence number (the write's consistency token)
        when there is one. A failure never fails the write: it schedules a global flush."""
        if not names or self.backend is None:
            return None
        if self.near is not None:
            self.near.drop(names)  # our own near entries go at once, before the broadcast comes back
        self.metrics.invalidations.labels(route).inc(len(names))
        try:
            stamps = [self.stamp_key(n) for n in sorted(names)]
            return await self._call("invalidate", lambda backend: backend.invalidate(stamps))
        except BackendDown:
            self.flush_pending = True
            return None

    async def start(self) -> None:
        """Start listening for invalidation broadcasts (the lifespan calls it)."""
        if self.subscriber is not None:
            await self.subscriber.start()

    async def close(self) -> None:
        if self.subscriber is not None:
            await self.subscriber.close()
        if self.backend is not None:
            await self.backend.close()


def prefix_of(namespace: str) -> str:
    return "{" + namespace + "}"
