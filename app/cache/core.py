"""The response cache: lookups and fills with a circuit breaker, single-flight, metrics; invalidation."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from app.cache import tags as tag
from app.cache.backends import CacheBackend, Lookup
from app.cache.metrics import Metrics

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
    ) -> None:
        # `{namespace}` is a Redis Cluster hash tag: every key lands in one slot, so scripts see them all.
        self.prefix = "{" + namespace + "}"
        self.backend = backend
        self.metrics = metrics
        self.timeout = timeout
        self.breaker = breaker or Breaker()
        # Invalidations that failed: answered by a global flush before the backend is trusted again.
        self.flush_pending = False
        self._flights: dict[str, Flight] = {}

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
                    await backend.invalidate([self.stamp_key(tag.ALL)])
                    self.flush_pending = False
                    log.warning("cache backend is back: flushed every entry (missed invalidations)")
                result = await make(backend)
        except Exception as exc:  # any backend trouble: count it and fail open
            self.metrics.redis_errors.labels(operation).inc()
            self.breaker.failure()
            raise BackendDown(str(exc)) from exc
        self.breaker.success()
        return result

    async def lookup(self, route: str, key: str, stamps: list[str]) -> tuple[Outcome, bytes | None]:
        try:
            found: Lookup = await self._call("lookup", lambda backend: backend.lookup(key, stamps))
        except BackendDown:
            self.metrics.lookups.labels(route, "bypass").inc()
            return "bypass", None
        self.metrics.lookups.labels(route, "hit" if found.entry is not None else "miss").inc()
        return ("hit", found.entry) if found.entry is not None else ("miss", None)

    async def compute(
        self, route: str, key: str, stamps: list[str], ttl: int, produce: Callable[[], Awaitable[bytes]]
    ) -> tuple[Outcome, bytes]:
        """On a miss: run `produce` once per process per key, and store its bytes if still fresh."""
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
                    stored = await self._call(
                        "fill", lambda backend: backend.fill(key, stamps, snapshot.checksum, payload, ttl)
                    )
                except BackendDown:
                    self.metrics.fills.labels(route, "error").inc()
                    return "miss", payload
                self.metrics.fills.labels(route, "stored" if stored else "stale").inc()
                if stored:
                    flight.payload = payload
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

    async def invalidate(self, route: str, names: set[str]) -> None:
        """Bust tags after a commit. A failure never fails the write: it schedules a global flush."""
        if not names or self.backend is None:
            return
        self.metrics.invalidations.labels(route).inc(len(names))
        try:
            stamps = [self.stamp_key(n) for n in sorted(names)]
            await self._call("invalidate", lambda backend: backend.invalidate(stamps))
        except BackendDown:
            self.flush_pending = True

    async def close(self) -> None:
        if self.backend is not None:
            await self.backend.close()
