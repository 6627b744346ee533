from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, literal, select, union, update
from sqlalchemy.orm import joinedload, selectinload

from app.models import Application, Job, RefreshToken, Review, User
from app.models.enums import Role
from app.repositories.base import Repository


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def get_profile(self, user_id: int) -> User | None:
        """A user with what their profile shows (skills) and their balance (account)."""
        return await self.get(user_id, selectinload(User.skills), joinedload(User.account))

    async def exists_publicly(self, user_id: int) -> bool:
        """The user exists and has public pages: admins have none (docs/security.md, Privacy)."""
        stmt = select(func.count()).where(User.id == user_id, User.role != Role.admin)
        return bool(await self.session.scalar(stmt))

    async def list_related_job_ids(self, user_id: int) -> tuple[list[int], list[int]]:
        """(jobs the user posted, jobs the user applied to): the job views that embed the user."""
        posted = select(literal(True).label("posted"), Job.id.label("job_id")).where(Job.client_id == user_id)
        applied = select(literal(False), Application.job_id).where(Application.worker_id == user_id)
        rows = (await self.session.execute(union(posted, applied))).all()
        return [job for is_post, job in rows if is_post], [job for is_post, job in rows if not is_post]

    async def list_review_counterparts(self, user_id: int) -> tuple[list[int], list[int]]:
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

    async def count_attendance(
        self, user_id: int, *, attended: int = 0, no_shows: int = 0, late_cancellations: int = 0
    ) -> None:
        """Move a worker's reliability counters (in the transaction of the event that moves them)."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                attended_shifts=User.attended_shifts + attended,
                no_shows=User.no_shows + no_shows,
                late_cancellations=User.late_cancellations + late_cancellations,
            )
        )

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))

    async def mark_email_verified(self, user_id: int) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(email_verified=True))

    async def count_completed_job(self, user_ids: list[int]) -> None:
        await self.session.execute(
            update(User).where(User.id.in_(user_ids)).values(completed_jobs=User.completed_jobs + 1)
        )


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def issue(self, jti: str, user_id: int, ttl_seconds: int, family_id: str) -> None:
        expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        self.session.add(RefreshToken(jti=jti, user_id=user_id, expires_at=expires, family_id=family_id))
        await self.session.flush()

    async def consume(self, jti: str, grace_seconds: int = 0) -> tuple[int, str] | None:
        """Mark a live token used, atomically (a concurrent second use finds it used); (user, family) or None.

        With `grace_seconds`, a token first used less than that long ago still works (and keeps its first use):
        a browser that reloaded mid-refresh never saw the rotated cookie.
        """
        unused: ColumnElement[bool] = RefreshToken.used_at.is_(None)
        if grace_seconds:
            unused = unused | (RefreshToken.used_at > func.now() - timedelta(seconds=grace_seconds))
        row = (
            await self.session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.jti == jti,
                    unused,
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.expires_at > func.now(),
                )
                .values(used_at=func.coalesce(RefreshToken.used_at, func.now()))
                .returning(RefreshToken.user_id, RefreshToken.family_id)
            )
        ).one_or_none()
        return (row.user_id, row.family_id) if row is not None else None

    async def get_family_id(self, jti: str) -> str | None:
        family: str | None = await self.session.scalar(select(RefreshToken.family_id).where(RefreshToken.jti == jti))
        return family

    async def revoke_family_if_used(self, jti: str) -> bool:
        """If `jti` was used already (a replay), revoke every token of its family; True if it was."""
        family = await self.session.scalar(
            select(RefreshToken.family_id).where(RefreshToken.jti == jti, RefreshToken.used_at.is_not(None))
        )
        if family is None:
            return False
        await self._revoke(family)
        return True

    async def revoke_family(self, jti: str) -> None:
        """Logout: revoke the token's whole family (the session), whatever state the token is in."""
        await self._revoke(select(RefreshToken.family_id).where(RefreshToken.jti == jti).scalar_subquery())

    async def revoke_user(self, user_id: int) -> None:
        """Every session of the account (a password reset): each family's live tokens stop working."""
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )

    async def _revoke(self, family: str | ColumnElement[str]) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
