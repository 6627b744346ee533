"""`@invalidates`: what a write endpoint busts, declared at its route beside the reads' `@cached`.

The tags come from the write's path parameters, its caller and what it returned: the response body,
optionally wrapped in an app.changes.Change naming the other rows the write touched (sent without the
wrapper). They go to the unit of work's "after commit" hook: invalidated right after the commit succeeds and
before the response is sent; a rollback invalidates nothing. The response then carries the invalidation's
sequence number as its consistency token (app/cache/consistency.py).
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from app.cache.consistency import record_token
from app.cache.decorator import cache_of, with_request_parameter
from app.changes import Change
from app.security import Principal


class CommitHooks(Protocol):
    """What the cache needs of the unit of work (app.db.UnitOfWork): a hook that runs after the commit."""

    info: dict[Any, Any]

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None: ...


@dataclass(frozen=True)
class WriteContext:
    params: dict[str, Any]  # the path parameters
    principal: Principal | None
    result: Any  # the response body the handler returned
    change: Change[Any]  # the handler's Change (its value is `result`), or an empty one


WriteTags = Callable[[WriteContext], Iterable[str]]
_PENDING = "cache_tags"


def _unit_of_work(values: Iterable[Any]) -> CommitHooks:
    for value in values:
        if callable(getattr(value, "after_commit", None)):
            return value  # type: ignore[no-any-return]
    raise TypeError("an @invalidates endpoint must take the unit of work (SessionDep)")


def invalidates(tags: WriteTags) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """After the handler returns, schedule `tags(context)` for invalidation once the request commits."""

    def decorate(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, cache_request: Request, **kwargs: Any) -> Any:
            returned = await func(*args, **kwargs)
            change = returned if isinstance(returned, Change) else Change(returned)
            principal = next((v for v in kwargs.values() if isinstance(v, Principal)), None)
            params = dict(cache_request.path_params)  # validated: the route's loaders or parameters ran
            names = set(tags(WriteContext(params, principal, change.value, change)))
            if names:
                uow = _unit_of_work(kwargs.values())
                pending: set[str] | None = uow.info.get(_PENDING)
                if pending is None:
                    pending = uow.info[_PENDING] = set()
                    cache, route = cache_of(cache_request), cache_request.scope["route"].path

                    async def invalidate() -> None:
                        seq = await cache.invalidate(route, uow.info.pop(_PENDING, set()))
                        if seq is not None:  # the response tells its client (app/cache/consistency.py)
                            record_token(cache_request.scope, seq)

                    uow.after_commit(invalidate)
                pending.update(names)
            return change.value

        wrapped = with_request_parameter(func, wrapper)
        wrapped.write_tags = tags  # type: ignore[attr-defined]
        return wrapped

    return decorate
