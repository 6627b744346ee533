"""What the application holds while it runs: built in the lifespan (app.main), closed there, typed."""

from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.cache import Cache
from app.db import UnitOfWork
from app.live import Live
from app.memo import ImmutableFacts
from app.ratelimit import Limiter
from app.settings import Settings


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[UnitOfWork]


@dataclass(frozen=True)
class AppState:
    settings: Settings
    database: Database
    cache: Cache
    limiter: Limiter  # the abuse limits' counters (app/limits.py)
    live: Live  # notification streams of this process, and publishing to every process's (app/live.py)
    job_owners: ImmutableFacts  # job id -> client id (never changes), so loaders authorize a cache HIT without SQL


def app_state(app: FastAPI) -> AppState:
    """The running app's state (set by the lifespan; a request before start-up is a programming error)."""
    state: AppState = app.state.resources
    return state


def request_state(request: Request) -> AppState:
    state: AppState = request.app.state.resources
    return state
