from fastapi import APIRouter

from app.cache import cached, invalidates
from app.cache import tags as t
from app.changes import Change
from app.deps import CurrentPrincipal, OptionalPrincipal, SessionDep, SettingsDep, WorkerPrincipal
from app.errors import NotFound, problem_responses
from app.loaders import AllowedReviewFilter, SelfOrAdminUserId, found, sees_private
from app.models.enums import ApplicationStatus, JobStatus, ReviewFilter, Role
from app.params import Cursor, Limit, ReviewFilterName
from app.repositories.applications import ApplicationRepository
from app.repositories.jobs import JobRepository
from app.repositories.payments import PaymentRepository
from app.repositories.reviews import ReviewRepository
from app.repositories.users import UserRepository
from app.routers import API_PREFIX
from app.routers.invalidation import profile_write
from app.schemas.applications import MyApplicationRead
from app.schemas.common import Id, Page
from app.schemas.jobs import JobRead
from app.schemas.payments import PaymentRead
from app.schemas.reviews import ReceivedReviewsPage, ReviewRead
from app.schemas.users import Me, MeUpdate, PublicProfile
from app.security import Principal
from app.services.users import UserService

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


def viewer_class(principal: Principal | None, user_id: int | str) -> str:
    """The cache's viewer classes for a user's pages: the user or an admin see more than everyone else."""
    return "self-or-admin" if sees_private(principal, int(user_id)) else "public"


# /users/me routes come first so "me" is never parsed as a user id.


@router.get("/me", response_model=Me, operation_id="get_me", responses=problem_responses(401))
async def get_me(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep) -> Me:
    me = found(await UserRepository(session).get_profile(principal.id), "User", principal.id)
    return Me.of(me, settings.currency)


@router.patch("/me", response_model=Me, operation_id="update_me", responses=problem_responses(401, 422))
@invalidates(profile_write)
async def update_me(
    data: MeUpdate, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> Change[Me]:
    me = found(await UserRepository(session).get_profile(principal.id), "User", principal.id)
    change = await UserService(session).update_profile(me, data)
    return change.map(lambda user: Me.of(user, settings.currency))


@router.get(
    "/me/applications",
    response_model=Page[MyApplicationRead],
    operation_id="list_my_applications",
    responses=problem_responses(401, 403, 422),
)
@cached(scope="private", ttl=60, tags=lambda p, who: [t.user_applications(who.id)])  # type: ignore[union-attr]
async def list_my_applications(
    principal: WorkerPrincipal,
    session: SessionDep,
    status: ApplicationStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[MyApplicationRead]:
    items, next_cursor = await ApplicationRepository(session).list_by_worker(principal.id, status, cursor, limit)
    return Page(items=[MyApplicationRead.model_validate(a) for a in items], next_cursor=next_cursor)


@router.get("/{user_id}", response_model=PublicProfile, operation_id="get_user", responses=problem_responses(404))
@cached(
    scope="viewer",
    ttl=300,
    viewer=lambda p, who: viewer_class(who, p["user_id"]),
    tags=lambda p, _: [t.user(p["user_id"])],
)
async def get_user(user_id: Id, principal: OptionalPrincipal, session: SessionDep) -> PublicProfile:
    """A public profile; email and phone only for the user themself or an admin. An admin's profile is
    only for admins: to anyone else there is no such user."""
    user = found(await UserRepository(session).get_profile(user_id), "User", user_id)
    private = sees_private(principal, user_id)
    if user.role == Role.admin and not private:
        raise NotFound(f"User {user_id} not found.")
    return PublicProfile.of(user, private=private)


@router.get(
    "/{user_id}/reviews",
    response_model=ReceivedReviewsPage,
    operation_id="list_user_reviews",
    responses=problem_responses(401, 403, 404, 422),
)
@cached(
    scope="viewer",
    ttl=300,
    viewer=lambda p, _: "self" if p["filter"] == "unread" else "public",
    tags=lambda p, _: [t.user_reviews(p["user_id"])],
)
async def list_user_reviews(
    user_id: Id,
    allowed: AllowedReviewFilter,
    session: SessionDep,
    filter: ReviewFilterName = ReviewFilter.all,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ReceivedReviewsPage:
    """Reviews the user received, newest first, with their rating summary. `unread` is for the user only."""
    user = found(await UserRepository(session).get(user_id), "User", user_id)
    if user.role == Role.admin:  # admins have no public pages
        raise NotFound(f"User {user_id} not found.")
    items, next_cursor = await ReviewRepository(session).list_received(user_id, filter, cursor, limit)
    return ReceivedReviewsPage(
        items=[ReviewRead.model_validate(r) for r in items],
        next_cursor=next_cursor,
        rating_avg=user.rating_avg,
        rating_count=user.rating_count,
    )


@router.get(
    "/{user_id}/reviews/given",
    response_model=Page[ReviewRead],
    operation_id="list_user_given_reviews",
    responses=problem_responses(404, 422),
)
@cached(scope="public", ttl=300, tags=lambda p, _: [t.user_reviews_given(p["user_id"])])
async def list_user_given_reviews(
    user_id: Id, session: SessionDep, limit: Limit = 20, cursor: Cursor = None
) -> Page[ReviewRead]:
    if not await UserRepository(session).exists_publicly(user_id):
        raise NotFound(f"User {user_id} not found.")
    items, next_cursor = await ReviewRepository(session).list_given(user_id, cursor, limit)
    return Page(items=[ReviewRead.model_validate(r) for r in items], next_cursor=next_cursor)


@router.get(
    "/{user_id}/jobs",
    response_model=Page[JobRead],
    operation_id="list_user_jobs",
    responses=problem_responses(404, 422),
)
@cached(
    scope="viewer",
    ttl=60,
    viewer=lambda p, who: viewer_class(who, p["user_id"]),
    tags=lambda p, _: [t.user_jobs(p["user_id"])],
)
async def list_user_jobs(
    user_id: Id,
    principal: OptionalPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    status: JobStatus | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[JobRead]:
    """Jobs the client posted, newest first. Cancelled jobs only for the owner and admins."""
    if not await UserRepository(session).exists_publicly(user_id):
        raise NotFound(f"User {user_id} not found.")
    visible = [s.value for s in JobStatus]
    if not sees_private(principal, user_id):
        visible.remove(JobStatus.cancelled)
    statuses = [status] if status in visible else ([] if status else visible)
    items, next_cursor = await JobRepository(session).list_by_client(user_id, statuses, cursor, limit)
    return Page(items=[JobRead.of(j, settings.currency) for j in items], next_cursor=next_cursor)


@router.get(
    "/{user_id}/payments",
    response_model=Page[PaymentRead],
    operation_id="list_user_payments",
    responses=problem_responses(401, 403, 422),
)
async def list_user_payments(
    user_id: SelfOrAdminUserId,
    session: SessionDep,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[PaymentRead]:
    """Payments where the user is payer or payee, newest first. Only the user and admins."""
    items, next_cursor = await PaymentRepository(session).list_by_user(user_id, cursor, limit)
    return Page(items=[PaymentRead.model_validate(p) for p in items], next_cursor=next_cursor)
