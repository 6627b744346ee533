"""`@cached`: the response cache on a read endpoint (scope, TTL, tags), with ETag/304 and X-Cache.

Authorization stays in the route's dependencies, which FastAPI runs on every request, HIT or MISS.

The HIT path does what it must and nothing more: the key is built from the validated values in an order
fixed per route, an entry is stored as its strong ETag + the body (both made once, at fill time) and served
as it is, with headers prepared per route; public entries may come from the near tier without any Redis
round trip (app/cache/near.py).
"""

import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, get_args, get_origin, get_type_hints

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from app.cache.consistency import presented_token
from app.cache.core import Cache
from app.security import Principal

Scope = Literal["public", "private", "viewer"]
Params = dict[str, Any]
# Bump when response shapes or the stored format change, so old entries are never served.
# 2: an entry is the ETag + the body.
SCHEMA_VERSION = "2"
ETAG_LENGTH = 34  # '"' + 32 hex + '"'


class HoldsCache(Protocol):
    cache: Cache


def cache_of(request: Request) -> Cache:
    """The running app's cache (its typed lifespan state, app.state.AppState, holds it)."""
    holder: HoldsCache = request.app.state.resources
    return holder.cache


def with_request_parameter(
    func: Callable[..., Awaitable[Any]], wrapper: Callable[..., Awaitable[Any]], returns: Any = None
) -> Callable[..., Awaitable[Any]]:
    """`wrapper` with `func`'s signature plus a keyword `cache_request: Request` that FastAPI fills in."""
    functools.update_wrapper(wrapper, func)
    signature = inspect.signature(func)
    hints = get_type_hints(func, include_extras=True)
    params = [
        *signature.parameters.values(),
        inspect.Parameter("cache_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
    ]
    return_annotation = returns if returns is not None else signature.return_annotation
    wrapper.__signature__ = signature.replace(parameters=params, return_annotation=return_annotation)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**hints, "cache_request": Request, "return": returns or hints.get("return")}
    return wrapper


@dataclass(frozen=True)
class CacheSpec:
    scope: Scope
    ttl: int
    tags: Callable[[Params, Principal | None], list[str]]
    viewer: Callable[[Params, Principal | None], str] | None


def _is_dependency(annotation: Any, default: Any) -> bool:
    if isinstance(default, Depends):
        return True
    if get_origin(annotation) is Annotated:
        return any(isinstance(extra, Depends) for extra in get_args(annotation)[1:])
    return False


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; `*` matches any current entity."""
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


class Stored:
    """A cached body with its ETag, as stored (`payload`: the ETag, then the body) and as served."""

    __slots__ = ("body", "etag", "length")

    def __init__(self, etag: bytes, body: bytes) -> None:
        self.etag = etag
        self.body = body
        self.length = str(len(body)).encode()

    @classmethod
    def of_body(cls, body: bytes) -> "Stored":
        """A body just rendered: its ETag is computed here, once, and stored with it."""
        return cls(strong_etag(body).encode(), body)

    @classmethod
    def of_payload(cls, payload: bytes) -> "Stored":
        return cls(payload[:ETAG_LENGTH], payload[ETAG_LENGTH:])

    @property
    def payload(self) -> bytes:
        return self.etag + self.body


class CachedResponse(Response):
    """A response whose body and headers are ready (Response.__init__ would render and re-derive them)."""

    def __init__(self, status_code: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = headers


_HEADERS: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    # Revalidate every time (cheap with the ETag): a client never trusts a copy older than a write.
    "public": ((b"cache-control", b"public, no-cache"),),
    "private": ((b"cache-control", b"private, no-cache"), (b"vary", b"Authorization")),
}
_JSON = (b"content-type", b"application/json")
_X_CACHE = {"HIT": (b"x-cache", b"HIT"), "MISS": (b"x-cache", b"MISS"), "BYPASS": (b"x-cache", b"BYPASS")}


def respond(request: Request, stored: Stored, x_cache: str, scope: Scope) -> Response:
    """The stored bytes and ETag as they are, or a 304 when If-None-Match matches them."""
    return _respond(request.scope["headers"], stored, x_cache, scope)


def _respond(request_headers: list[tuple[bytes, bytes]], stored: Stored, x_cache: str, scope: Scope) -> Response:
    scoped = _HEADERS["public" if scope == "public" else "private"]
    condition = next((value for key, value in request_headers if key == b"if-none-match"), None)
    if condition is not None and etag_matches(condition.decode("latin-1"), stored.etag.decode("latin-1")):
        return CachedResponse(304, b"", [(b"etag", stored.etag), _X_CACHE[x_cache], *scoped])
    headers = [(b"content-length", stored.length), _JSON, (b"etag", stored.etag), _X_CACHE[x_cache], *scoped]
    return CachedResponse(200, stored.body, headers)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What a cached route's requests share, made on its first request (the template is known only then)."""

    template: str  # the route template: the metrics label, and part of the key
    names: tuple[str, ...]  # the parameters that enter the key, in a fixed (sorted) order
    head: str  # the start of every key's canonical text
    near: bool  # public, and the cache has a near tier
    door: bool  # near, and the route has no dependencies of its own (limits): NearDoor may serve its HITs


def _plan(cache: Cache, request: Request, declared: list[str], scope: Scope) -> RoutePlan:
    route = request.scope["route"]
    plan: RoutePlan | None = cache.plans.get(id(route))  # routes live as long as the app, and so does its cache
    if plan is None:
        # Validated values only (`/jobs/02` is `/jobs/2`): a path parameter's value is the endpoint's
        # argument of that name (a startup check, `scope_errors`, makes sure there is one).
        names = tuple(sorted({*route.param_convertors, *declared}))
        template = route.path
        near = scope == "public" and cache.near is not None
        plan = RoutePlan(template, names, f"{SCHEMA_VERSION}\x1f{template}\x1f", near, near and not route.dependencies)
        cache.plans[id(route)] = plan
    return plan


def cached(
    *,
    scope: Scope,
    ttl: int,
    tags: Callable[[Params, Principal | None], list[str]],
    viewer: Callable[[Params, Principal | None], str] | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Response]]]:
    """Cache the endpoint's 200 responses.

    scope: `public` (same body for everyone; must not depend on the caller), `private` (keyed by the
    authenticated principal) or `viewer` (keyed by `viewer(params, principal)`, a small set of classes
    such as "self" and "public"). Only the path parameters and the endpoint's own validated query
    parameters enter the key, in canonical order; `tags(params, principal)` names what the body
    depends on.
    """
    if (scope == "viewer") != (viewer is not None):
        raise ValueError("a viewer function is required exactly for scope='viewer'")

    def decorate(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Response]]:
        signature = inspect.signature(func)
        hints = get_type_hints(func, include_extras=True)
        adapter: TypeAdapter[Any] = TypeAdapter(hints["return"])
        declared = [name for name, p in signature.parameters.items() if not _is_dependency(hints.get(name), p.default)]

        async def wrapper(*args: Any, cache_request: Request, **kwargs: Any) -> Response:
            cache = cache_of(cache_request)
            plan = _plan(cache, cache_request, declared, scope)
            # Every declared parameter is a keyword argument (FastAPI passes them all), so is every path one.
            values = tuple([kwargs[name] for name in plan.names])
            if scope == "public":
                principal, identity = None, ""
            else:
                principal = next((v for v in kwargs.values() if isinstance(v, Principal)), None)
                if scope == "private":
                    assert principal is not None, "a private cached route must require authentication"
                    identity = f"user:{principal.id}"
                else:
                    assert viewer is not None
                    identity = viewer(dict(zip(plan.names, values, strict=True)), principal)
            # repr of validated values (ints, strings, enums, lists of them, None) is canonical and the same
            # in every process; the parameters come in one order, so the query string's order never matters.
            canonical = f"{plan.head}{identity}\x1f{values!r}"
            key = cache.entry_key(hashlib.sha256(canonical.encode()).hexdigest()[:40])

            near = cache.near if plan.near and cache.near_usable() else None
            snapshot = (0, 0)
            if plan.door:  # this URL's near HITs may be served by NearDoor from now on, before routing
                cache.near.door.remember(cache_request.scope, key, plan.template)  # type: ignore[union-attr]
            if near is not None:
                found: Stored | None = near.get(key)
                if found is not None and presented_token(cache_request.scope) <= near.applied:
                    cache.metrics.near_lookup(plan.template, "hit").inc()
                    cache.metrics.lookup(plan.template, "hit").inc()
                    return respond(cache_request, found, "HIT", scope)
                # A client whose write this process has not applied yet reads Redis, which is current.
                cache.metrics.near_lookup(plan.template, "miss" if found is None else "skip").inc()
                snapshot = near.snapshot()  # before Redis is read: a drop from now on refuses the entry

            params = dict(zip(plan.names, values, strict=True))
            names = dict.fromkeys(tags(params, principal))
            stamps = [*(cache.stamp_key(name) for name in names), cache.all_stamp]

            outcome, payload = await cache.lookup(plan.template, key, stamps)
            if payload is not None:
                stored = Stored.of_payload(payload)
                if near is not None:
                    near.put(key, stored, frozenset(names), snapshot)
                return respond(cache_request, stored, "HIT", scope)

            fresh: list[Stored] = []

            async def produce() -> bytes:
                made = Stored.of_body(adapter.dump_json(await func(*args, **kwargs)))
                fresh.append(made)
                return made.payload

            def accepted(payload: bytes) -> None:  # Redis took the fill as fresh: so may the near tier
                if near is not None and fresh:
                    near.put(key, fresh[0], frozenset(names), snapshot)

            outcome, payload = await cache.compute(plan.template, key, stamps, ttl, produce, accepted)
            return respond(cache_request, fresh[0] if fresh else Stored.of_payload(payload), outcome.upper(), scope)

        wrapped = with_request_parameter(func, wrapper, returns=Response)
        wrapped.cache_spec = CacheSpec(scope, ttl, tags, viewer)  # type: ignore[attr-defined]
        return wrapped

    return decorate


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, including those of included routers (FastAPI keeps them behind a wrapper)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found.extend(api_routes(included.routes))
    return found


def dependency_calls(dependant: Dependant) -> set[Any]:
    """Every dependency callable in the tree under `dependant`."""
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= dependency_calls(sub)
    return found


def scope_errors(routes: list[Any], *, optional: Callable[..., Any], required: Callable[..., Any]) -> list[str]:
    """Cached routes whose scope contradicts their dependencies, or whose key would miss a path parameter
    (checked at startup and in the tests).

    `optional` and `required` are the app's dependencies that resolve the caller (may be anonymous / must
    be signed in). A public route must not look at the caller; a private one must require a login; a viewer
    route must know who is asking (optionally).
    """
    get_optional_principal, get_principal = optional, required
    errors = []
    for route in api_routes(routes):
        spec: CacheSpec | None = getattr(route.endpoint, "cache_spec", None)
        if spec is None:
            continue
        arguments = inspect.signature(route.endpoint).parameters
        for name in route.param_convertors:
            if name not in arguments:
                errors.append(f"{route.path}: path parameter {name} is not an argument, so not in the cache key")
        calls = dependency_calls(route.dependant)
        knows_caller = get_optional_principal in calls
        if spec.scope == "public" and knows_caller:
            errors.append(f"{route.path}: public but depends on the caller")
        if spec.scope == "private" and get_principal not in calls:
            errors.append(f"{route.path}: private but does not require authentication")
        if spec.scope == "viewer" and not knows_caller:
            errors.append(f"{route.path}: viewer-scoped but never looks at the caller")
    return errors


class NearDoor:
    """Serves a near-tier HIT of a public route before routing, validation and dependencies run.

    Only for a GET of a URL the route itself answered before (`Door`: the same URL, so the same validated
    parameters and key), while the near tier is usable, and unless the request presents a consistency
    token newer than what this process applied (then the route runs and reads Redis). Everything else, and
    every miss, goes on to the app. It sits inside the middlewares that log, count and add headers.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            holder: HoldsCache | None = getattr(scope["app"].state, "resources", None)
            cache = holder.cache if holder is not None else None
            if cache is not None and cache.near is not None and cache.near_usable():
                alias = cache.near.door.find(scope)
                found: Stored | None = cache.near.get(alias[0]) if alias is not None else None
                if alias is not None and found is not None and presented_token(scope) <= cache.near.applied:
                    _, template, scope["route"] = alias  # the route's template labels the request's metrics
                    cache.metrics.near_lookup(template, "hit").inc()
                    cache.metrics.lookup(template, "hit").inc()
                    await _respond(scope["headers"], found, "HIT", "public")(scope, receive, send)
                    return
        await self.app(scope, receive, send)
