from fastapi import APIRouter

from app.cache import invalidates
from app.deps import CurrentPrincipal, SessionDep
from app.errors import problem_responses
from app.routers import API_PREFIX
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
@invalidates
async def create_review(
    job_id: int, data: ReviewCreate, principal: CurrentPrincipal, session: SessionDep
) -> ReviewRead:
    """Review the other side of a completed job: its client, or a worker hired on it. Once per pair."""
    return ReviewRead.model_validate(await ReviewService(session).create(principal, job_id, data))


@router.post(
    "/reviews/{review_id}/read",
    response_model=ReviewRead,
    operation_id="mark_review_read",
    responses=problem_responses(401, 403, 404),
)
@invalidates
async def mark_review_read(review_id: int, principal: CurrentPrincipal, session: SessionDep) -> ReviewRead:
    return ReviewRead.model_validate(await ReviewService(session).mark_read(principal, review_id))
