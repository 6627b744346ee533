from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.models import Message
from app.repositories.base import Repository, SortKey

OLDEST = [SortKey(Message.id, int, descending=False)]


class MessageRepository(Repository[Message]):
    model = Message

    async def get_detail(self, message_id: int) -> Message | None:
        return await self.get(message_id, joinedload(Message.sender))

    async def list_thread(
        self, application_id: int, cursor: str | None, limit: int
    ) -> tuple[list[Message], str | None]:
        stmt = select(Message).options(joinedload(Message.sender)).where(Message.application_id == application_id)
        rows, next_cursor = await self.paginate(stmt, OLDEST, cursor, limit)
        return [r[0] for r in rows], next_cursor
