"""Engine and session factory, built in the app's lifespan (nothing connects at import time)."""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.embedded import embedded_server_url
from app.settings import Settings


def database_url(settings: Settings, database: str = "marketplace") -> str:
    """The configured database, or the embedded server's when none is configured."""
    return settings.database_url or embedded_server_url(settings.data_dir, database)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        echo=settings.db_echo,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
