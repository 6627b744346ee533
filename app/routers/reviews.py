from fastapi import APIRouter

from app.cache import invalidates
from app.changes import Change
from app.deps import CurrentPrincipal, SessionDep
from app.errors import problem_responses
from app.loaders import JobForParticipant, ReviewForReviewee
from app.routers import API_PREFIX
from app.routers.invalidation import review_write
from app.schemas.reviews import ReviewCreate, ReviewRead
from app.services.reviews import ReviewService

router = APIRouter(prefix=API_PREFIX, tags=["reviews"])


@router.post(
    "/jobs/{job_id}/reviews",
    status_code=201,
    response_model=ReviewRead,
    operation_id="create_review",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(review_write)
async def create_review(
    job: JobForParticipant, data: ReviewCreate, principal: CurrentPrincipal, session: SessionDep
) -> Change[ReviewRead]:
    """Review the other side of a completed job: its client, or a worker hired on it. Once per pair."""
    change = await ReviewService(session).create(principal, job, data)
    return change.map(ReviewRead.model_validate)


@router.post(
    "/reviews/{review_id}/read",
    response_model=ReviewRead,
    operation_id="mark_review_read",
    responses=problem_responses(401, 403, 404),
)
@invalidates(review_write)
async def mark_review_read(review: ReviewForReviewee, session: SessionDep) -> ReviewRead:
    return ReviewRead.model_validate(await ReviewService(session).mark_read(review))
