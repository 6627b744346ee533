"""The schema comes only from Alembic, and the models agree with it."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.cli import ROOT
from app.db import UnitOfWork
from app.models import Base, User
from app.settings import Settings
from app.tasks import outside_task_queue
from tests.conftest import scratch_database, started_app
from tests.factories import API, RegisterFactory


async def test_models_match_the_migrations(connection: AsyncConnection) -> None:
    def diff(sync_conn: object) -> list[object]:
        # procrastinate's tables have no models: its own SQL is their source (migration 0005).
        opts = {"compare_type": True, "include_name": outside_task_queue}
        context = MigrationContext.configure(sync_conn, opts=opts)  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    assert await connection.run_sync(diff) == []


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    with scratch_database(database_url, "marketplace_roundtrip") as url:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["url"] = url
        command.downgrade(config, "base")
        command.upgrade(config, "head")


class CommitFailsSession(UnitOfWork):
    async def commit(self) -> None:
        raise RuntimeError("simulated commit failure")


async def test_a_failed_commit_is_a_5xx_and_nothing_is_saved(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, db: AsyncSession
) -> None:
    maker: async_sessionmaker[UnitOfWork] = async_sessionmaker(
        bind=connection, class_=CommitFailsSession, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    payload = RegisterFactory.build(role="client").model_dump(mode="json")
    async with (
        started_app(settings, engine, maker) as app,
        AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t") as http,
    ):
        response = await http.post(f"{API}/auth/register", json=payload)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert await db.scalar(select(User).where(User.email == payload["email"].lower())) is None
