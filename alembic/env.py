"""Alembic environment: async engine; the URL is passed in by the caller or taken from the settings."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import database_url
from app.models import Base
from app.settings import get_settings
from app.tasks import outside_task_queue

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=outside_task_queue,  # autogenerate must not propose dropping procrastinate's tables
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # called from inside a running event loop (tests, the CLI)
        run_migrations(connection)
        return
    url = config.attributes.get("url") or database_url(get_settings())
    asyncio.run(run_async_migrations(url))


if context.is_offline_mode():
    raise SystemExit("offline mode is not supported; run against a database")
main()
