"""Cache storage with tag stamps and compare-and-set fills (see docs/caching.md).

Each tag has a *stamp*: a random token stored under its own key. An entry is stored together with a
checksum of its tags' stamps taken *before* the handler read the database; it is served only while the
current stamps still produce that checksum. Invalidating a tag deletes its stamp. A fill is refused when
the stamps changed while the handler ran, so a value computed from pre-write data is never stored.

Every key expires. A stamp is created by the snapshot of a miss with a short TTL (`STAMP_PENDING_SECONDS`,
longer than any handler runs); a stored entry extends the TTL of its stamps to at least its own, and a miss
that stores nothing releases the stamps it created. So a 404 or an error leaves no key behind, and a stamp
lives no longer than the longest entry that uses it. A stamp that expired or was evicted only causes misses.

Two backends share these semantics: Redis (one round trip per operation, Lua for the atomic steps) and an
in-process one for running without Redis.
"""

import hashlib
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

# A new stamp's TTL until an entry is stored with it: longer than a handler runs (a slower one's fill is
# refused, which only costs a miss).
STAMP_PENDING_SECONDS = 60
# The invalidation sequence counter lives this long after the last invalidation (every key expires); a new
# one starts above every number the old one gave.
SEQUENCE_TTL_SECONDS = 86400


def checksum(stamps: list[bytes]) -> bytes:
    """Checksum of a list of stamps; the Redis fill script computes the same with redis.sha1hex."""
    return hashlib.sha1(b"|".join(stamps), usedforsecurity=False).hexdigest().encode()


def new_stamp() -> bytes:
    return secrets.token_hex(8).encode()


@dataclass(frozen=True)
class Lookup:
    entry: bytes | None  # the stored payload, when present and its stamps still match


@dataclass(frozen=True)
class Snapshot:
    checksum: bytes  # of the stamps before the handler ran
    created: dict[str, bytes]  # the stamps this snapshot made (key -> value), released if nothing is stored


class CacheBackend(ABC):
    """Storage operations; every one may raise (the caller fails open)."""

    @abstractmethod
    async def lookup(self, entry_key: str, stamp_keys: list[str]) -> Lookup: ...

    @abstractmethod
    async def snapshot(self, stamp_keys: list[str]) -> Snapshot:
        """Create missing stamps (expiring after STAMP_PENDING_SECONDS) and checksum all of them."""

    @abstractmethod
    async def fill(self, entry_key: str, stamp_keys: list[str], expected: bytes, payload: bytes, ttl: int) -> bool:
        """Store payload only if the stamps' checksum still equals `expected`, and make its stamps live at
        least `ttl` seconds; True if stored."""

    @abstractmethod
    async def release(self, created: dict[str, bytes]) -> None:
        """Delete the stamps a snapshot created, those still holding the value it gave them."""

    @abstractmethod
    async def invalidate(self, stamp_keys: list[str]) -> int | None:
        """Delete the stamps; a backend that broadcasts the invalidation returns the broadcast's sequence."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


def split_entry(raw: bytes | None, current: bytes) -> Lookup:
    if raw is None:
        return Lookup(None)
    stored, payload = raw[:40], raw[40:]
    return Lookup(payload if stored == current else None)


class MemoryBackend(CacheBackend):
    """In-process backend with the same semantics, for running without Redis (one process only)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._stamps: dict[str, tuple[float, bytes]] = {}  # key -> (expires at, value)
        self._max_entries = max_entries

    def _stamp(self, key: str) -> bytes | None:
        item = self._stamps.get(key)
        if item is None or item[0] <= time.monotonic():
            self._stamps.pop(key, None)
            return None
        return item[1]

    def _current(self, stamp_keys: list[str]) -> bytes | None:
        stamps = [self._stamp(k) for k in stamp_keys]
        return None if any(s is None for s in stamps) else checksum([s for s in stamps if s is not None])

    async def lookup(self, entry_key: str, stamp_keys: list[str]) -> Lookup:
        item = self._entries.get(entry_key)
        if item is None or item[0] < time.monotonic():
            self._entries.pop(entry_key, None)
            return Lookup(None)
        current = self._current(stamp_keys)
        return split_entry(item[1], current) if current is not None else Lookup(None)

    async def snapshot(self, stamp_keys: list[str]) -> Snapshot:
        created = {}
        for key in stamp_keys:
            if self._stamp(key) is None:
                created[key] = new_stamp()
                self._stamps[key] = (time.monotonic() + STAMP_PENDING_SECONDS, created[key])
        return Snapshot(checksum([self._stamps[k][1] for k in stamp_keys]), created)

    async def fill(self, entry_key: str, stamp_keys: list[str], expected: bytes, payload: bytes, ttl: int) -> bool:
        if self._current(stamp_keys) != expected:
            return False
        now = time.monotonic()
        if len(self._entries) >= self._max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            self._stamps = {k: v for k, v in self._stamps.items() if v[0] > now}
            if len(self._entries) >= self._max_entries:
                self._entries.pop(next(iter(self._entries)))
        self._entries[entry_key] = (now + ttl, expected + payload)
        for key in stamp_keys:
            expires, value = self._stamps[key]
            self._stamps[key] = (max(expires, now + ttl), value)
        return True

    async def release(self, created: dict[str, bytes]) -> None:
        for key, value in created.items():
            if self._stamp(key) == value:
                del self._stamps[key]

    async def invalidate(self, stamp_keys: list[str]) -> int | None:
        for key in stamp_keys:
            self._stamps.pop(key, None)
        return None


# KEYS: stamps; ARGV: a new value for each, then the pending TTL. Returns {stamps, indexes of those created}.
_SNAPSHOT = """
local created = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[i], 'NX', 'EX', ARGV[#KEYS + 1]) then created[#created + 1] = i end
end
return {redis.call('MGET', unpack(KEYS)), created}
"""

# KEYS: the entry, then its stamps; ARGV: expected checksum, payload, TTL. The stamps then live >= TTL.
_FILL = """
local stamps = redis.call('MGET', unpack(KEYS, 2))
for i, s in ipairs(stamps) do
  if not s then return 0 end
end
local current = redis.sha1hex(table.concat(stamps, '|'))
if current ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. ARGV[2], 'EX', ttl)
for i = 2, #KEYS do
  if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
"""

# KEYS: stamps, then the sequence key; ARGV: the channel, the counter's TTL, the clock in microseconds, then
# the tags. Deletes the stamps, takes the next sequence number and publishes `<seq> <tag> <tag> ...` (the
# near tiers of every process listen). A missing counter (expired, evicted, Redis restarted) starts again
# from the clock, so the sequence never goes back (at fewer than a million invalidations a second; the
# caller's clock, since Redis's TIME followed by PUBLISH in a script was measured to leak memory in Redis
# 7.0). Numbers stay below 2^53 (exact in Lua); '%.0f' because Lua would print them as 1.7e+15.
_INVALIDATE = """
local n = #KEYS - 1
redis.call('UNLINK', unpack(KEYS, 1, n))
local counter = KEYS[#KEYS]
local seq
if redis.call('EXISTS', counter) == 1 then
  seq = redis.call('INCR', counter)
else
  seq = tonumber(ARGV[3])
  redis.call('SET', counter, ARGV[3])
end
redis.call('EXPIRE', counter, ARGV[2])
redis.call('PUBLISH', ARGV[1], string.format('%.0f', seq) .. ' ' .. table.concat(ARGV, ' ', 4))
return seq
"""

# KEYS: stamps a snapshot created; ARGV: the values it gave them. Deletes those still holding them.
_RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then redis.call('DEL', key) end
end
return 0
"""


def fail_fast_client(url: str, timeout_seconds: float, max_connections: int) -> "Redis":
    """A Redis client for work that must fail open (the cache, the rate limiter).

    Short timeouts and no retries: a sick Redis must cost a request milliseconds, not seconds. A blocking
    pool: a burst beyond max_connections waits (up to the timeout) for a free connection instead of failing
    at once, which would open the breaker and defeat single-flight under load. Few connections: opening one
    costs ~1 ms of event loop, so 64 opened at once overran the timeout.
    """
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pool = BlockingConnectionPool.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
        max_connections=max_connections,
        timeout=timeout_seconds,
    )
    return Redis.from_pool(pool)


def broadcast_channel(prefix: str) -> str:
    """The pub/sub channel of the invalidations of the keys under `prefix` (a channel is not a key: no slot)."""
    return f"{prefix}:invalidations"


def sequence_key(prefix: str) -> str:
    return f"{prefix}:seq"


class RedisBackend(CacheBackend):
    """Redis backend. All keys share the hash tag `{mp}` so the scripts touch one cluster slot.

    With `prefix` (the cache's key prefix), every invalidation is also broadcast (see _INVALIDATE).
    """

    def __init__(self, url: str, timeout_seconds: float, *, prefix: str | None = None) -> None:
        self.client = fail_fast_client(url, timeout_seconds, max_connections=16)
        self._snapshot = self.client.register_script(_SNAPSHOT)
        self._fill = self.client.register_script(_FILL)
        self._release = self.client.register_script(_RELEASE)
        self._invalidate = self.client.register_script(_INVALIDATE)
        self.prefix = prefix

    async def lookup(self, entry_key: str, stamp_keys: list[str]) -> Lookup:
        raw, *stamps = await self.client.mget([entry_key, *stamp_keys])
        present = [s for s in stamps if isinstance(s, bytes)]  # bytes: the client does not decode responses
        if not isinstance(raw, bytes) or len(present) != len(stamps):
            return Lookup(None)
        return split_entry(raw, checksum(present))

    async def snapshot(self, stamp_keys: list[str]) -> Snapshot:
        values = [new_stamp() for _ in stamp_keys]
        stamps, created = await self._snapshot(keys=stamp_keys, args=[*values, STAMP_PENDING_SECONDS])
        return Snapshot(checksum(stamps), {stamp_keys[i - 1]: values[i - 1] for i in created})

    async def fill(self, entry_key: str, stamp_keys: list[str], expected: bytes, payload: bytes, ttl: int) -> bool:
        return bool(await self._fill(keys=[entry_key, *stamp_keys], args=[expected, payload, ttl]))

    async def release(self, created: dict[str, bytes]) -> None:
        await self._release(keys=list(created), args=list(created.values()))

    async def invalidate(self, stamp_keys: list[str]) -> int | None:
        if self.prefix is None:
            await self.client.unlink(*stamp_keys)
            return None
        stamps = f"{self.prefix}:t:"
        names = [key.removeprefix(stamps) for key in stamp_keys]
        seq = await self._invalidate(
            keys=[*stamp_keys, sequence_key(self.prefix)],
            args=[broadcast_channel(self.prefix), SEQUENCE_TTL_SECONDS, time.time_ns() // 1000, *names],
        )
        return int(seq)

    async def close(self) -> None:
        await self.client.aclose()
