"""Reviews between a completed job's client and the workers hired on it.

Callers pass a job the caller took part in (app.loaders.JobForParticipant); this module keeps the rules.
"""

from app.changes import Change
from app.db import UnitOfWork
from app.errors import Conflict, Forbidden
from app.models import Job, Review
from app.models.enums import JobStatus, NotificationKind
from app.repositories.applications import ApplicationRepository
from app.repositories.reviews import ReviewRepository
from app.repositories.users import UserRepository
from app.schemas.reviews import ReviewCreate
from app.security import Principal
from app.services.changes import user_links
from app.services.notifications import notify


class ReviewService:
    def __init__(self, session: UnitOfWork) -> None:
        self.session = session
        self.reviews = ReviewRepository(session)
        self.applications = ApplicationRepository(session)
        self.users = UserRepository(session)

    async def create(self, principal: Principal, job: Job, data: ReviewCreate) -> Change[Review]:
        if job.status != JobStatus.completed:
            raise Conflict("Reviews open when the job is completed.")
        if job.client_id == principal.id:
            eligible = await self.applications.is_hired(job.id, data.reviewee_id)
        else:
            eligible = data.reviewee_id == job.client_id
        if not eligible:
            raise Forbidden("The reviewee took no part in this job with you.")
        review = Review(
            job_id=job.id,
            reviewer_id=principal.id,
            reviewee_id=data.reviewee_id,
            rating=data.rating,
            comment=data.comment,
        )
        await self.reviews.add(review)  # a second review violates the unique constraint -> 409
        await self.users.add_rating(data.reviewee_id, data.rating)
        reviewee = await user_links(self.users, data.reviewee_id)  # their rating shows where they are embedded
        detail = await self._reload(review)
        await notify(
            self.session,
            NotificationKind.review_received,
            [data.reviewee_id],
            actor=principal.id,
            title=f"{detail.reviewer.full_name} reviewed you: {data.rating} of 5 for {job.title}",
            link=f"/users/{data.reviewee_id}",
            data={"job_id": job.id, "review_id": detail.id},
        )
        return Change(detail, users=[reviewee])

    async def mark_read(self, review: Review) -> Review:
        await self.reviews.mark_read(review.id)
        return await self._reload(review)

    async def _reload(self, review: Review) -> Review:
        review_id = review.id
        self.reviews.forget(review)
        detail = await self.reviews.get_detail(review_id)
        assert detail is not None  # written by this transaction
        return detail
