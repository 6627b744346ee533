"""The ASGI application: `create_app()` wires settings, database, routers, errors and the docs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text

from app.cache import Metrics, build_cache
from app.cache.decorator import scope_errors
from app.cache.facts import ImmutableFacts
from app.cache.metrics import install_metrics
from app.db import create_engine, create_sessionmaker, database_url
from app.errors import ServiceUnavailable, install_error_handlers, problem_responses
from app.routers import applications, auth, catalog, jobs, payments, reviews, users
from app.settings import Settings, get_settings

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


class Health(BaseModel):
    status: str


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(database_url(settings), settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await app.state.cache.close()
            await engine.dispose()

    app = FastAPI(
        title="Marketplace API",
        version="1.0.0",
        summary="Clients post jobs, workers apply, escrow payments, two-way reviews.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    metrics = Metrics()
    app.state.cache = build_cache(settings, metrics)
    app.state.job_owners = ImmutableFacts()
    install_metrics(app, metrics)
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
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable("The database is not reachable.") from exc
        return Health(status="ready")

    for module in (auth, users, catalog, jobs, applications, payments, reviews):
        app.include_router(module.router, responses=problem_responses(422, 503))  # 503: database unreachable
    if errors := scope_errors(app.routes):
        raise RuntimeError("cache scopes contradict route dependencies: " + "; ".join(errors))
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc served from files installed with the package: no CDN, works air-gapped."""
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Marketplace API - docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            init_oauth={"usePkceWithAuthorizationCodeGrant": False},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Marketplace API - reference",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )
