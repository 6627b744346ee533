"""Reviews between a completed job's client and the workers hired on it."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, NotFound
from app.models import Review
from app.models.enums import JobStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.jobs import JobRepository
from app.repositories.reviews import ReviewRepository
from app.repositories.users import UserRepository
from app.schemas.reviews import ReviewCreate
from app.security import Principal
from app.services import fanout


class ReviewService:
    def __init__(self, session: AsyncSession) -> None:
        self.reviews = ReviewRepository(session)
        self.jobs = JobRepository(session)
        self.applications = ApplicationRepository(session)
        self.users = UserRepository(session)

    async def create(self, principal: Principal, job_id: int, data: ReviewCreate) -> Review:
        job = await self.jobs.get_or_404(job_id)
        caller_is_client = job.client_id == principal.id
        if not caller_is_client and not await self.applications.is_hired(job_id, principal.id):
            raise Forbidden("Only the job's client and the workers hired on it can review.")
        if job.status != JobStatus.completed:
            raise Conflict("Reviews open when the job is completed.")
        if caller_is_client:
            eligible = await self.applications.is_hired(job_id, data.reviewee_id)
        else:
            eligible = data.reviewee_id == job.client_id
        if not eligible:
            raise Forbidden("The reviewee took no part in this job with you.")
        review = Review(
            job_id=job_id,
            reviewer_id=principal.id,
            reviewee_id=data.reviewee_id,
            rating=data.rating,
            comment=data.comment,
        )
        await self.reviews.add(review)  # a second review violates the unique constraint -> 409
        await self.users.add_rating(data.reviewee_id, data.rating)
        await fanout.user_changed(self.reviews.session, data.reviewee_id)  # their rating shows elsewhere
        return await self._detail(review.id)

    async def mark_read(self, principal: Principal, review_id: int) -> Review:
        review = await self._detail(review_id)
        if review.reviewee_id != principal.id:
            raise Forbidden("Only the reviewee can mark a review read.")
        await self.reviews.mark_read(review_id)
        self.reviews.session.expire(review)
        return await self._detail(review_id)

    async def _detail(self, review_id: int) -> Review:
        review = await self.reviews.detail(review_id)
        if review is None:
            raise NotFound(f"Review {review_id} not found.")
        return review
