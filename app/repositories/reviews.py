from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.models import Review
from app.models.enums import ReviewFilter
from app.repositories.base import Repository, SortKey

NEWEST = [SortKey(Review.created_at, datetime), SortKey(Review.id, int)]
READ_OPTIONS = (joinedload(Review.reviewer), joinedload(Review.reviewee), joinedload(Review.job))
RECENT_DAYS = 7


class ReviewRepository(Repository[Review]):
    model = Review

    async def get_detail(self, review_id: int) -> Review | None:
        return await self.get(review_id, *READ_OPTIONS)

    async def list_received(
        self, user_id: int, filter_: ReviewFilter, cursor: str | None, limit: int
    ) -> tuple[list[Review], str | None]:
        stmt = select(Review).options(*READ_OPTIONS).where(Review.reviewee_id == user_id)
        if filter_ == ReviewFilter.recent:
            stmt = stmt.where(Review.created_at >= datetime.now(UTC) - timedelta(days=RECENT_DAYS))
        elif filter_ == ReviewFilter.unread:
            stmt = stmt.where(Review.read_at.is_(None))
        rows, next_cursor = await self.paginate(stmt, NEWEST, cursor, limit)
        return [r[0] for r in rows], next_cursor

    async def list_given(self, user_id: int, cursor: str | None, limit: int) -> tuple[list[Review], str | None]:
        stmt = select(Review).options(*READ_OPTIONS).where(Review.reviewer_id == user_id)
        rows, next_cursor = await self.paginate(stmt, NEWEST, cursor, limit)
        return [r[0] for r in rows], next_cursor

    async def mark_read(self, review_id: int) -> None:
        await self.session.execute(
            update(Review)
            .where(Review.id == review_id, Review.read_at.is_(None))
            .values(read_at=func.now())
            .execution_options(synchronize_session="fetch")
        )
