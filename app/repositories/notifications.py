from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.models import Notification, NotificationSetting
from app.repositories.base import Repository, SortKey

NEWEST = [SortKey(Notification.id, int)]  # ids grow with time: the id alone orders a user's notifications


class NotificationRepository(Repository[Notification]):
    model = Notification

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Notification]:
        """One INSERT for every recipient's row; the rows come back with their ids and timestamps."""
        if not rows:
            return []
        return list(await self.session.scalars(insert(Notification).returning(Notification), list(rows)))

    async def list_for_user(
        self, user_id: int, unread: bool, cursor: str | None, limit: int
    ) -> tuple[list[Notification], str | None]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread:
            stmt = stmt.where(Notification.read_at.is_(None))
        rows, next_cursor = await self.paginate(stmt, NEWEST, cursor, limit)
        return [r[0] for r in rows], next_cursor

    async def list_after(self, user_id: int, after_id: int, limit: int) -> list[Notification]:
        """The user's notifications after `after_id`, oldest first (a stream's replay): the latest `limit`."""
        newest = (
            select(Notification)
            .where(Notification.user_id == user_id, Notification.id > after_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
        return sorted(await self.session.scalars(newest), key=lambda n: n.id)

    async def count_unread(self, user_id: int) -> int:
        stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        return int(await self.session.scalar(stmt) or 0)

    async def mark_read(self, notification: Notification) -> Notification:
        """Read now, or keep when it was read first."""
        stmt = (
            update(Notification)
            .where(Notification.id == notification.id)
            .values(read_at=func.coalesce(Notification.read_at, func.now()))
            .returning(Notification)
            .execution_options(populate_existing=True)
        )
        read = await self.session.scalar(stmt)
        assert read is not None  # loaded by this request
        return read

    async def mark_all_read(self, user_id: int) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=func.now())
        )


class NotificationSettingRepository(Repository[NotificationSetting]):
    model = NotificationSetting

    async def list_for_users(self, user_ids: Sequence[int], kind: str) -> dict[int, NotificationSetting]:
        rows = await self.session.scalars(
            select(NotificationSetting).where(
                NotificationSetting.user_id.in_(user_ids), NotificationSetting.kind == kind
            )
        )
        return {row.user_id: row for row in rows}

    async def list_for_user(self, user_id: int) -> dict[str, NotificationSetting]:
        rows = await self.session.scalars(select(NotificationSetting).where(NotificationSetting.user_id == user_id))
        return {row.kind: row for row in rows}

    async def save(self, user_id: int, choices: Mapping[str, tuple[bool, bool]]) -> None:
        """Store (in_app, email) per kind, replacing what was stored."""
        if not choices:
            return
        stmt = pg_insert(NotificationSetting).values(
            [{"user_id": user_id, "kind": k, "in_app": a, "email": e} for k, (a, e) in choices.items()]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "kind"], set_={"in_app": stmt.excluded.in_app, "email": stmt.excluded.email}
            )
        )
