"""Live delivery: notifications published after their transaction commits reach the streams that are open
for their user (GET /api/v1/notifications/stream), in this process or, through Redis pub/sub, in any other.

- `InProcessLive` (no `APP_REDIS_URL`): a publish reaches this process's streams only.
- `RedisLive`: a publish goes to one Redis channel per namespace; each API process listens on it and hands
  every event to its own streams. A worker process publishes without listening.

Live delivery is best effort by design: the notification row is already committed, and a stream that may
have missed events (its queue overflowed, the Redis subscription was lost) is ended, so the client
reconnects with `Last-Event-ID` and replays the missed rows from the table (docs/notifications.md).
"""

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from app.settings import Settings

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 256  # events waiting for one slow stream before it is ended (it replays on reconnect)


@dataclass(frozen=True)
class LiveEvent:
    id: int  # the notification's id (the SSE `id:`)
    data: str  # the notification as the API renders it (JSON)


class Publisher(Protocol):
    async def publish(self, user_id: int, events: list[LiveEvent]) -> None: ...


class SubscriptionEnded(Exception):
    """The stream may have missed events: it ends, and the client replays on reconnect."""


class Subscription:
    def __init__(self) -> None:
        self._events: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self._ended = False

    def push(self, event: LiveEvent) -> None:
        if len(self._events) >= QUEUE_LIMIT:
            self.end()
            return
        self._events.append(event)
        self._ready.set()

    def end(self) -> None:
        self._ended = True
        self._ready.set()

    async def next(self, within: float) -> LiveEvent | None:
        """The next event, None after `within` seconds without one; SubscriptionEnded once ended."""
        if not self._events and not self._ended:
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), within)
        if self._ended:
            raise SubscriptionEnded
        return self._events.popleft() if self._events else None


class Hub:
    """This process's open streams, by user."""

    def __init__(self) -> None:
        self._subscriptions: dict[int, set[Subscription]] = {}

    @contextlib.contextmanager
    def subscribe(self, user_id: int) -> Iterator[Subscription]:
        subscription = Subscription()
        self._subscriptions.setdefault(user_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscriptions.get(user_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscriptions.pop(user_id, None)

    def deliver(self, user_id: int, event: LiveEvent) -> None:
        for subscription in list(self._subscriptions.get(user_id, ())):
            subscription.push(event)

    def end_all(self) -> None:
        for subscribers in self._subscriptions.values():
            for subscription in subscribers:
                subscription.end()

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self._subscriptions.values())


class Live:
    """What the API process holds (app.state.AppState.live): publish, and subscribe its streams."""

    def __init__(self) -> None:
        self.hub = Hub()

    def subscribe(self, user_id: int) -> contextlib.AbstractContextManager[Subscription]:
        return self.hub.subscribe(user_id)

    async def publish(self, user_id: int, events: list[LiveEvent]) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        self.hub.end_all()


class InProcessLive(Live):
    async def publish(self, user_id: int, events: list[LiveEvent]) -> None:
        for event in events:
            self.hub.deliver(user_id, event)


class RedisLive(Live):
    """Redis pub/sub on `{namespace}:notifications`; `listen=False` for processes that hold no streams."""

    def __init__(self, url: str, namespace: str, *, listen: bool = True) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url, health_check_interval=30, socket_connect_timeout=2)
        self.channel = f"{{{namespace}}}:notifications"
        self.listen = listen
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def publish(self, user_id: int, events: list[LiveEvent]) -> None:
        for event in events:
            await self.redis.publish(self.channel, json.dumps({"user": user_id, "id": event.id, "data": event.data}))

    async def start(self) -> None:
        if not self.listen:
            return
        self._listener = asyncio.create_task(self._listen(), name="live-notifications")
        # Streams opened before the subscription would miss events; Redis down at start-up is not fatal.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 2)

    async def _listen(self) -> None:
        delay, lost = 0.1, False
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if lost:  # events published meanwhile never reached our streams: they reconnect and replay
                        self.hub.end_all()
                    self._subscribed.set()
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("live notifications: Redis subscription lost (%s); retrying", type(exc).__name__)
                lost = True
                self.hub.end_all()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _dispatch(self, raw: Any) -> None:
        try:
            message = json.loads(raw)
            self.hub.deliver(int(message["user"]), LiveEvent(int(message["id"]), str(message["data"])))
        except (ValueError, KeyError, TypeError):
            logger.warning("live notifications: a malformed message on %s was ignored", self.channel)

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()


def build_live(settings: Settings, *, listen: bool = True) -> Live:
    if settings.redis_url:
        return RedisLive(settings.redis_url, settings.cache_namespace, listen=listen)
    return InProcessLive()
