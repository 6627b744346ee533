"""`@cached`: the response cache on a read endpoint (scope, TTL, tags), with ETag/304 and X-Cache.

Authorization stays in the route's dependencies, which FastAPI runs on every request, HIT or MISS.
"""

import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, get_args, get_origin, get_type_hints

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from app.cache import tags as tag
from app.cache.core import Cache
from app.security import Principal

Scope = Literal["public", "private", "viewer"]
Params = dict[str, Any]
SCHEMA_VERSION = "1"  # bump when response shapes change, so old entries are never served


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
            route = cache_request.scope["route"].path
            # Validated values only (`/jobs/02` is `/jobs/2`): a path parameter's value is the endpoint's
            # argument of that name (a startup check, `scope_errors`, makes sure there is one).
            params: Params = {n: kwargs[n] for n in (*cache_request.path_params, *declared) if n in kwargs}
            principal = next((v for v in kwargs.values() if isinstance(v, Principal)), None)
            if scope == "private":
                assert principal is not None, "a private cached route must require authentication"
                identity = f"user:{principal.id}"
            elif scope == "viewer":
                assert viewer is not None
                identity = viewer(params, principal)
            else:
                identity = ""
            canonical = json.dumps([SCHEMA_VERSION, route, identity, params], sort_keys=True, default=str)
            key = cache.entry_key(hashlib.sha256(canonical.encode()).hexdigest())
            stamps = [cache.stamp_key(name) for name in dict.fromkeys([*tags(params, principal), tag.ALL])]

            async def produce() -> bytes:
                return adapter.dump_json(await func(*args, **kwargs))

            outcome, body = await cache.lookup(route, key, stamps)
            if body is None:
                outcome, body = await cache.compute(route, key, stamps, ttl, produce)
            return _respond(cache_request, body, outcome.upper(), scope)

        wrapped = with_request_parameter(func, wrapper, returns=Response)
        wrapped.cache_spec = CacheSpec(scope, ttl, tags, viewer)  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _respond(request: Request, body: bytes, x_cache: str, scope: Scope) -> Response:
    etag = strong_etag(body)
    headers = {
        "ETag": etag,
        "X-Cache": x_cache,
        # Revalidate every time (cheap with the ETag): a client never trusts a copy older than a write.
        "Cache-Control": "public, no-cache" if scope == "public" else "private, no-cache",
    }
    if scope != "public":
        headers["Vary"] = "Authorization"
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


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
