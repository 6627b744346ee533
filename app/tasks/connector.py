"""procrastinate's psycopg connector, plus deferring through the request's SQLAlchemy session.

Workers talk to PostgreSQL through a psycopg pool (procrastinate 3 speaks psycopg 3). The API's unit of
work runs on asyncpg through SQLAlchemy, so procrastinate's "external connection" hook
(`task.configure(connection=...)`) is implemented here for an `AsyncSession`: procrastinate's own query
runs on the session's connection, inside its transaction.
"""

import json
import re
from typing import Any, LiteralString

import asyncpg
from procrastinate import PsycopgConnector, exceptions, manager
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# procrastinate writes psycopg's named placeholders; SQLAlchemy's text() takes `:name`, in parentheses here
# because procrastinate casts them (`%(jobs)s::type[]`) and text() reads `:name::` as no placeholder.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_KEY = re.compile(r"Key \((.*?)\)=\((.*?)\)")


class Connector(PsycopgConnector):
    async def execute_query_one_async_with_connection(
        self, connection: Any, query: LiteralString, **arguments: Any
    ) -> dict[str, Any]:
        rows = await self.execute_query_all_async_with_connection(connection, query, **arguments)
        if not rows:
            raise exceptions.NoResult
        return rows[0]

    async def execute_query_all_async_with_connection(
        self, connection: Any, query: LiteralString, **arguments: Any
    ) -> list[dict[str, Any]]:
        if not isinstance(connection, AsyncSession):
            rows: list[dict[str, Any]] = await super().execute_query_all_async_with_connection(
                connection, query, **arguments
            )
            return rows
        statement = text(_PLACEHOLDER.sub(r"(:\1)", query))
        try:
            # A savepoint: a refused job (queueing lock taken) leaves the caller's transaction usable.
            async with connection.begin_nested():
                result = await connection.execute(statement, {k: _encode(v) for k, v in arguments.items()})
                return [dict(row) for row in result.mappings()]
        except IntegrityError as exc:
            if (violation := _unique_violation(exc)) is None:
                raise
            raise violation from exc


def _encode(value: Any) -> Any:
    """procrastinate's arguments as asyncpg takes them: JSON as text (SQLAlchemy's jsonb codec), tuples as rows."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_encode(item) for item in value)
    return value


def _unique_violation(exc: IntegrityError) -> exceptions.UniqueViolation | None:
    """The error procrastinate expects (it turns a taken queueing lock into `AlreadyEnqueued`)."""
    cause = exc.orig.__cause__ if exc.orig is not None else None
    if not isinstance(cause, asyncpg.UniqueViolationError):
        return None
    queueing_lock = None
    if cause.constraint_name == manager.QUEUEING_LOCK_CONSTRAINT and (match := _KEY.search(cause.detail or "")):
        queueing_lock = match.group(2)
    return exceptions.UniqueViolation(constraint_name=cause.constraint_name, queueing_lock=queueing_lock)
