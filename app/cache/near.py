"""The near-cache: a bounded in-process LRU of public entries in front of Redis (docs/caching.md).

Its guarantee rests on the invalidation broadcast. Every invalidation deletes its stamps and publishes its
tags with a sequence number from Redis (one script, app/cache/backends.py); each process's `Subscriber`
applies them here: the entries carrying those tags are dropped and `applied` records the sequence. A
process's own invalidation also drops its entries at once, before the write's response is sent.

- Only what Redis holds as fresh enters: an entry whose compare-and-set fill was stored, or a Redis HIT.
  `put` takes a `snapshot()` made before the Redis read (or the handler) began, and refuses the entry when
  a drop touching its tags, or a clear, happened since: no stale write-back in this tier either.
- While the subscription is down (or not yet up), the tier is empty and bypassed; it resumes once
  subscribed again, at the sequence Redis then holds.
- A sequence that is not the next one (a lost message, Redis's counter lost) empties the tier.
- A read presenting a consistency token (the sequence its client's write got) newer than `applied` skips
  the tier and asks Redis, which is always current: read-your-writes through any instance.
"""

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.cache import tags as tag

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

log = logging.getLogger("app.cache")

# Drops remembered for fills in flight; a fill older than the window is refused (it only costs a near miss).
RECENT_DROPS = 1024


@dataclass(slots=True)
class NearEntry:
    value: Any  # what the decorator serves (app.cache.decorator.Stored)
    tags: frozenset[str]
    seq: int  # the applied sequence when its fill began


Snapshot = tuple[int, int]  # (epoch, drops): what `put` compares with


class Door:
    """The URLs (path and query string, as sent) whose public entry is known: URL -> (key, route template).

    The same URL always validates to the same parameters, hence the same key, so an alias never goes stale;
    whether its entry is still in the near tier is asked on every use. Bounded like the near tier (LRU).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._urls: OrderedDict[tuple[str, bytes], tuple[str, str, Any]] = OrderedDict()

    def remember(self, scope: MutableMapping[str, Any], key: str, template: str) -> None:
        if scope["method"] != "GET":
            return
        url = (scope["path"], scope["query_string"])
        if url not in self._urls:
            self._urls[url] = (key, template, scope["route"])
            while len(self._urls) > self.size:
                self._urls.popitem(last=False)

    def find(self, scope: MutableMapping[str, Any]) -> tuple[str, str, Any] | None:
        url = (scope["path"], scope["query_string"])
        alias = self._urls.get(url)
        if alias is not None:
            self._urls.move_to_end(url)  # least recently used goes first
        return alias


class NearCache:
    """The LRU with a tag index. Synchronous: it runs on the event loop between awaits, so each method is atomic."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.applied = 0  # the last broadcast sequence applied (every earlier one was applied too)
        self.live = False  # subscribed to the broadcast: only then are entries served or stored
        self.epoch = 0  # bumped by every clear, so fills that began before it are refused
        self.drops = 0  # counts the drops (broadcast or own) in `_recent`
        self._entries: OrderedDict[str, NearEntry] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._recent: deque[tuple[int, frozenset[str]]] = deque(maxlen=RECENT_DROPS)
        self.door = Door(size)  # the URLs whose entries app.cache.decorator.NearDoor may serve

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.value

    def snapshot(self) -> Snapshot:
        return (self.epoch, self.drops)

    def put(self, key: str, value: Any, tags: frozenset[str], snapshot: Snapshot) -> bool:
        """Store `value` unless the tier is down, was cleared, or dropped one of `tags` since `snapshot`."""
        epoch, drops = snapshot
        if not self.live or epoch != self.epoch:
            return False
        if drops != self.drops:
            if not self._recent or self._recent[0][0] > drops + 1:
                return False  # the drops since the snapshot are no longer all remembered
            for number, dropped in reversed(self._recent):
                if number <= drops:
                    break
                if not dropped.isdisjoint(tags):
                    return False
        self._remove(key)
        self._entries[key] = NearEntry(value, tags, self.applied)
        for name in tags:
            self._by_tag.setdefault(name, set()).add(key)
        while len(self._entries) > self.size:
            self._remove(next(iter(self._entries)))
        return True

    def drop(self, names: set[str] | frozenset[str]) -> None:
        """Forget every entry carrying one of `names` (ALL: every entry)."""
        if tag.ALL in names:
            self.clear()
            return
        dropped = frozenset(names)
        self.drops += 1
        self._recent.append((self.drops, dropped))
        for name in dropped:
            for key in self._by_tag.pop(name, ()):
                self._remove(key)

    def apply(self, seq: int, names: set[str] | frozenset[str]) -> None:
        """A broadcast invalidation: drop its tags and record its sequence."""
        self.drop(names)
        if seq == self.applied + 1:
            self.applied = seq
        elif seq > self.applied:  # a broadcast was missed (or Redis's counter started again): trust nothing
            self.clear()
            self.applied = seq
        # seq <= applied: published before we subscribed and already reflected in Redis; dropped anyway

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_tag.clear()
        self._recent.clear()

    def lost(self) -> None:
        """The subscription is down: empty the tier and bypass it until `resumed`."""
        self.live = False
        self.clear()

    def resumed(self, seq: int) -> None:
        """Subscribed (again): Redis's sequence was `seq` once the subscription was in place."""
        self.clear()
        self.applied = seq
        self.live = True

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for name in entry.tags:
            keys = self._by_tag.get(name)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[name]


def parse_broadcast(data: bytes) -> tuple[int, set[str]]:
    """`<seq> <tag> <tag> ...`, as the invalidation script publishes it."""
    seq, *names = data.split(b" ")
    return int(seq), {name.decode() for name in names if name}


class Subscriber:
    """Listens on the invalidation channel and applies each broadcast to the near tier (started by the lifespan).

    A lost connection (or one that stops answering its pings) empties the tier and bypasses it until the
    subscription is back. `retry_delay` is the first pause before reconnecting (then doubled, up to 5 s).
    """

    def __init__(self, near: NearCache, url: str, channel: str, seq_key: str, *, ping_interval: float = 1.0) -> None:
        from redis.asyncio import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.near = near
        self.channel = channel
        self.seq_key = seq_key
        self.ping_interval = ping_interval
        self.retry_delay = 0.1
        # No retries: redis-py would reconnect and resubscribe silently, and the broadcasts sent meanwhile
        # would be lost without the tier ever being emptied.
        self.redis: Redis = Redis.from_url(
            url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0), client_name=f"near:{channel}"
        )
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait: float = 1.0) -> None:
        self._task = asyncio.create_task(self._run(), name="cache-near-subscriber")
        # Without the subscription the tier is only bypassed: Redis down at start-up is not fatal.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.subscribed.wait(), wait)

    async def _run(self) -> None:
        delay = self.retry_delay
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await self._subscribe(pubsub)
                    delay = self.retry_delay
                    await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("near-cache: invalidation subscription lost (%s); bypassing it", type(exc).__name__)
            self.subscribed.clear()
            self.near.lost()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _subscribe(self, pubsub: "PubSub") -> None:
        async with asyncio.timeout(5):
            await pubsub.subscribe(self.channel)
            while (message := await pubsub.get_message(timeout=1.0)) is None or message["type"] != "subscribe":
                pass
            # Every broadcast after this GET reaches us: those before it are already in Redis.
            current = await self.redis.get(self.seq_key)
        self.near.resumed(int(current) if current is not None else 0)
        self.subscribed.set()

    async def _pump(self, pubsub: "PubSub") -> None:
        heard = time.monotonic()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=self.ping_interval)
            now = time.monotonic()
            if message is not None:
                heard, pinged = now, False
                if message["type"] == "message":
                    try:
                        seq, names = parse_broadcast(message["data"])
                    except ValueError:
                        log.warning("near-cache: a malformed broadcast was ignored")
                        continue
                    self.near.apply(seq, names)
                continue
            if now - heard >= 3 * self.ping_interval and pinged:
                raise ConnectionError("the invalidation subscription stopped answering")
            if now - heard >= self.ping_interval and not pinged:
                await pubsub.ping()
                pinged = True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.near.lost()
        await self.redis.aclose()
