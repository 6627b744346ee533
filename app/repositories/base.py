"""A thin generic repository: holds the session; all SQL of the app lives in the repositories.

Names state the contract: `get_*` returns the object or None (the caller decides what a missing row means
to the client), `list_*` returns rows or a page, other verbs change data. No repository raises an HTTP error.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm.interfaces import ORMOption

from app.models import Base
from app.pagination import decode_cursor, encode_cursor

M = TypeVar("M", bound=Base)
AnyRow = Row[*tuple[Any, ...]]  # a result row of any width (SQLAlchemy types rows by their columns)


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: the expression, its Python type (for cursor checks), direction."""

    expr: ColumnElement[Any] | QueryableAttribute[Any]
    kind: type
    descending: bool = True


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id_: int, *options: ORMOption, for_update: bool = False) -> M | None:
        stmt = select(self.model).where(self.model.id == id_).options(*options)  # type: ignore[attr-defined]
        if for_update:
            # populate_existing: an object already in the session must show the row as locked, not as before.
            stmt = stmt.with_for_update(of=self.model).execution_options(populate_existing=True)
        return await self.session.scalar(stmt)

    async def add(self, obj: M) -> M:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def flush(self) -> None:
        """Send pending changes (constraint violations surface here, inside the request's transaction)."""
        await self.session.flush()

    async def load(self, obj: M, *attributes: str) -> None:
        """Load (or re-load) `attributes` of `obj` from the database, e.g. a relationship about to change."""
        await self.session.refresh(obj, list(attributes))

    def forget(self, obj: M) -> None:
        """Drop what the session knows of `obj`, so the next read sees server-set columns."""
        self.session.expire(obj)

    async def paginate(
        self,
        stmt: Select[Any],
        keys: list[SortKey],
        cursor: str | None,
        limit: int,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[list[AnyRow], str | None]:
        """Keyset pagination: rows after the cursor in `keys` order, and the cursor of the next page.

        `params`: values of the statement's named bind parameters (expressions built once, app.repositories.jobs)."""
        assert len({k.descending for k in keys}) == 1, "keyset keys must share one direction"
        descending = keys[0].descending
        exprs = [k.expr for k in keys]
        if cursor is not None:
            after = decode_cursor(cursor, tuple(k.kind for k in keys))
            bound = tuple_(*exprs) < tuple_(*after) if descending else tuple_(*exprs) > tuple_(*after)
            stmt = stmt.where(bound)
        order = [e.desc() if descending else e.asc() for e in exprs]
        labelled = [e.label(f"_sort{i}") for i, e in enumerate(exprs)]
        page = stmt.add_columns(*labelled).order_by(*order).limit(limit + 1)
        rows = list((await self.session.execute(page, params)).all())
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        last = rows[-1]
        return rows, encode_cursor(tuple(getattr(last, f"_sort{i}") for i in range(len(keys))))
