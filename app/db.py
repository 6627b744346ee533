"""Engine, session factory and the unit of work, built in the app's lifespan (nothing connects at import time)."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.embedded import embedded_server_url
from app.settings import Settings

if TYPE_CHECKING:
    from app.live import Publisher


def database_url(settings: Settings, database: str = "marketplace") -> str:
    """The configured database, or the embedded server's when none is configured."""
    return settings.database_url or embedded_server_url(settings.data_dir, database)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        echo=settings.db_echo,
    )
    event.listen(engine.pool, "checkout", _refuse_closed)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection the database closed (restart, failover, terminated backend) never reaches a request.

    The check costs no round trip (SQLAlchemy's `pool_pre_ping` costs three with asyncpg: BEGIN, `;`,
    ROLLBACK): asyncpg marks a connection closed as soon as the event loop reads the server's goodbye, which
    happens while the connection sits idle in the pool. DisconnectionError makes the pool replace it.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database closed this pooled connection")


async def database_identity(engine: AsyncEngine) -> str:
    """What tells this database from every other: its cluster's system identifier (made by initdb, unique
    per cluster, kept by restores of its files) and the database's name in that cluster."""
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT system_identifier, current_database() FROM pg_control_system()"))).one()
    return f"{row[0]}/{row[1]}"


# Statements sent during the current request (a mutable box, so every task and greenlet of it adds up).
_statements: ContextVar[list[int] | None] = ContextVar("sql_statements", default=None)


def _count_statement(*_: Any) -> None:
    box = _statements.get()
    if box is not None:
        box[0] += 1


@contextmanager
def count_statements() -> Iterator[list[int]]:
    """Count the SQL statements this context sends: `with count_statements() as n: ...; n[0]`."""
    token = _statements.set([0])
    try:
        box = _statements.get()
        assert box is not None
        yield box
    finally:
        _statements.reset(token)


CommitHook = Callable[[], Awaitable[None]]


class UnitOfWork(AsyncSession):
    """The request's session. Only its owner (app.deps.get_session) commits; other rooms (the response
    cache) register what must happen once the commit succeeded, and nothing of it runs on a rollback."""

    @property
    def live(self) -> "Publisher | None":
        """Where committed notifications are published live (set by its owner: the request, a worker)."""
        publisher: Publisher | None = self.info.get("live")
        return publisher

    def after_commit(self, hook: CommitHook) -> None:
        self.info.setdefault("after_commit", []).append(hook)

    async def run_after_commit(self) -> None:
        hooks: list[CommitHook] = self.info.pop("after_commit", [])
        for hook in hooks:
            await hook()

    def discard_after_commit(self) -> None:
        self.info.pop("after_commit", None)


READ_METHODS = frozenset({"GET", "HEAD"})
_readers: "WeakKeyDictionary[async_sessionmaker[UnitOfWork], async_sessionmaker[UnitOfWork]]" = WeakKeyDictionary()


def reader(sessionmaker: async_sessionmaker[UnitOfWork]) -> async_sessionmaker[UnitOfWork]:
    """The sessions of read-only requests (GET, HEAD): the same pool, each statement in autocommit.

    A read then costs its statements and nothing else: no BEGIN before them and no COMMIT after (two of
    the four round trips of `GET /jobs/{id}`). It sees what a transaction would: at READ COMMITTED (the
    engine's level) every statement takes its own snapshot anyway. A sessionmaker bound to a connection
    (the tests' outer transaction) is returned as it is.
    """
    found = _readers.get(sessionmaker)
    if found is None:
        bind = sessionmaker.kw.get("bind")
        found = sessionmaker
        if isinstance(bind, AsyncEngine):
            autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
            found = async_sessionmaker(class_=sessionmaker.class_, **{**sessionmaker.kw, "bind": autocommit})
        _readers[sessionmaker] = found
    return found


def create_sessionmaker(engine: AsyncEngine | Any, **options: Any) -> async_sessionmaker[UnitOfWork]:
    """Sessions of the unit-of-work class; `engine` may be a connection (the tests bind one)."""
    return async_sessionmaker(engine, class_=UnitOfWork, expire_on_commit=False, autoflush=False, **options)
