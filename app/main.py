"""The ASGI application: `create_app()` wires settings, database, cache, routers, errors and the docs.

`app` is the production application (`uvicorn app.main:app`); tests call `create_app(settings, database=...)`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from sqlalchemy import text

from app.cache import ConsistencyTokenMiddleware, Metrics, NearDoor, build_cache, namespace_of
from app.cache.decorator import scope_errors
from app.db import create_engine, create_sessionmaker, database_identity, database_url
from app.deps import get_optional_principal, get_principal
from app.errors import ServiceUnavailable, install_error_handlers, problem_responses
from app.http import BodyLimitMiddleware, ResponseHeadersMiddleware, docs_csp, document_request_statuses
from app.live import build_live
from app.memo import ImmutableFacts
from app.observability import configure_logging, install_observability
from app.ratelimit import build_limiter
from app.routers import (
    applications,
    auth,
    catalog,
    disputes,
    jobs,
    messages,
    notifications,
    payments,
    reviews,
    sessions,
    shifts,
    timesheets,
    users,
)
from app.settings import Settings, get_settings
from app.state import AppState, Database, app_state
from app.web import install_web

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


class Health(BaseModel):
    status: str


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """The application; `database` is an engine and sessionmaker the caller owns (tests), else one is built."""
    settings = settings or get_settings()
    registry = CollectorRegistry()  # one per app: tests and several apps in one process never share counters
    metrics = Metrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db, owned = database, None
        if db is None:
            owned = create_engine(database_url(settings), settings)
            db = Database(owned, create_sessionmaker(owned))
        # Read once: entries and limiter counters of another database sharing the Redis are never ours.
        namespace = settings.cache_namespace or namespace_of(await database_identity(db.engine))
        running = settings.model_copy(update={"cache_namespace": namespace})
        state = AppState(
            settings=running,
            database=db,
            cache=build_cache(running, metrics),
            limiter=build_limiter(running),
            live=build_live(running),
            job_owners=ImmutableFacts(),
        )
        app.state.resources = state
        await state.live.start()
        await state.cache.start()  # the near tier's subscription to the invalidation broadcast
        try:
            yield
        finally:
            await state.live.close()
            await state.cache.close()
            await state.limiter.close()
            if owned is not None:
                await owned.dispose()

    app = FastAPI(
        title="Marketplace API",
        version="1.0.0",
        summary="Clients post jobs, workers apply, escrow payments, two-way reviews.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    configure_logging(settings.log_format)
    # Added innermost first: a request meets the security headers, then observability (which renders an
    # unexpected error's 500, so that answer gets both), then the body limit. Innermost, NearDoor answers a
    # public near-tier HIT before routing and dependencies (app/cache/decorator.py).
    app.add_middleware(NearDoor)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ConsistencyTokenMiddleware)  # a write's response carries its consistency token
    install_observability(app, registry, settings)
    app.add_middleware(ResponseHeadersMiddleware)
    install_error_handlers(app)
    _install_docs(app)

    @app.get("/health", response_model=Health, tags=["health"], operation_id="health")
    async def health() -> Health:
        """The process is alive."""
        return Health(status="ok")

    @app.get(
        "/health/ready",
        response_model=Health,
        tags=["health"],
        operation_id="health_ready",
        responses=problem_responses(503),
    )
    async def health_ready(request: Request) -> Health:
        """The database answers."""
        try:
            async with app_state(request.app).database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc
        return Health(status="ready")

    routers = (auth, sessions, users, notifications, catalog, jobs, applications, messages, payments, reviews)
    for module in (*routers, shifts, timesheets, disputes):
        document_request_statuses(module.router, optional_principal=get_optional_principal)
        app.include_router(module.router, responses=problem_responses(503))  # 503: database unreachable
    if errors := scope_errors(app.routes, optional=get_optional_principal, required=get_principal):
        raise RuntimeError("cache scopes contradict route dependencies: " + "; ".join(errors))
    install_web(app, settings)
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for `uvicorn app.main:app`: built on first access, so importing this module (tests,
    the CLI) neither reads the environment nor builds an app."""
    if name == "app":
        return create_app()
    raise AttributeError(name)


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc served from files installed with the package: no CDN, works air-gapped.

    Each page carries a CSP that lets only those local assets (and its own inline script) run.
    """
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    pages = {
        "swagger": get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Marketplace API - docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            init_oauth={"usePkceWithAuthorizationCodeGrant": False},
            swagger_ui_parameters={"validatorUrl": None},  # no badge from an outside validator
        ),
        "redirect": get_swagger_ui_oauth2_redirect_html(),
        "redoc": get_redoc_html(
            openapi_url="/openapi.json",
            title="Marketplace API - reference",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        ),
    }
    # A fresh response per request: middlewares add headers to the response they are sent.
    html = {name: bytes(page.body).decode() for name, page in pages.items()}
    csp = {name: docs_csp(text) for name, text in html.items()}

    def page(name: str) -> HTMLResponse:
        return HTMLResponse(html[name], headers={"Content-Security-Policy": csp[name]})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return page("swagger")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return page("redirect")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return page("redoc")
