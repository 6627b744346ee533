from datetime import UTC, datetime, timedelta

from sqlalchemy import func, literal, select, union, update
from sqlalchemy.orm import joinedload, selectinload

from app.errors import NotFound
from app.models import Application, Job, RefreshToken, Review, User
from app.repositories.base import Repository


class UserRepository(Repository[User]):
    model = User

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def profile(self, user_id: int) -> User:
        """A user with what their profile shows (skills) and their balance (account)."""
        user = await self.get(user_id, selectinload(User.skills), joinedload(User.account))
        if user is None:
            raise NotFound(f"User {user_id} not found.")
        return user

    async def exists(self, user_id: int) -> bool:
        return bool(await self.session.scalar(select(func.count()).where(User.id == user_id)))

    async def related_job_ids(self, user_id: int) -> tuple[list[int], list[int]]:
        """(jobs the user posted, jobs the user applied to): the job views that embed the user."""
        posted = select(literal(True).label("posted"), Job.id.label("job_id")).where(Job.client_id == user_id)
        applied = select(literal(False), Application.job_id).where(Application.worker_id == user_id)
        rows = (await self.session.execute(union(posted, applied))).all()
        return [job for is_post, job in rows if is_post], [job for is_post, job in rows if not is_post]

    async def review_counterparts(self, user_id: int) -> tuple[list[int], list[int]]:
        """(users this user reviewed, users who reviewed this user)."""
        reviewed = await self.session.scalars(
            select(Review.reviewee_id).where(Review.reviewer_id == user_id).distinct()
        )
        reviewers = await self.session.scalars(
            select(Review.reviewer_id).where(Review.reviewee_id == user_id).distinct()
        )
        return list(reviewed), list(reviewers)

    async def add_rating(self, user_id: int, rating: int) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(rating_sum=User.rating_sum + rating, rating_count=User.rating_count + 1)
        )

    async def count_completed_job(self, user_ids: list[int]) -> None:
        await self.session.execute(
            update(User).where(User.id.in_(user_ids)).values(completed_jobs=User.completed_jobs + 1)
        )


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def issue(self, jti: str, user_id: int, ttl_seconds: int) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        self.session.add(RefreshToken(jti=jti, user_id=user_id, expires_at=expires))
        await self.session.flush()

    async def consume(self, jti: str, grace_seconds: int = 0) -> int | None:
        """Mark a live token used, atomically (a concurrent second use finds it used); its user, or None.

        With `grace_seconds`, a token first used less than that long ago still works (and keeps its first use).
        """
        unused = RefreshToken.used_at.is_(None)
        if grace_seconds:
            unused = unused | (RefreshToken.used_at > func.now() - timedelta(seconds=grace_seconds))
        user_id: int | None = await self.session.scalar(
            update(RefreshToken)
            .where(
                RefreshToken.jti == jti,
                unused,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > func.now(),
            )
            .values(used_at=func.coalesce(RefreshToken.used_at, func.now()))
            .returning(RefreshToken.user_id)
        )
        return user_id

    async def revoke(self, jti: str) -> bool:
        revoked = await self.session.scalar(
            update(RefreshToken)
            # A used token is revoked too: it may still be inside a session's refresh grace.
            .where(RefreshToken.jti == jti, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(RefreshToken.jti)
        )
        return revoked is not None
