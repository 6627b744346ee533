"""An application's message thread: its worker and the job's owner write, admins read, anyone else gets 404.
Private: never cached."""

from fastapi import APIRouter

from app.cache import invalidates
from app.deps import CurrentPrincipal, SessionDep
from app.errors import problem_responses
from app.limits import LimitMessages
from app.loaders import ApplicationForParticipant, ApplicationForParty
from app.params import Cursor, Limit
from app.repositories.messages import MessageRepository
from app.routers import API_PREFIX
from app.routers.invalidation import nothing
from app.schemas.common import Page
from app.schemas.messages import MessageCreate, MessageRead
from app.services.messages import MessageService

router = APIRouter(prefix=API_PREFIX, tags=["messages"])


@router.get(
    "/applications/{application_id}/messages",
    response_model=Page[MessageRead],
    operation_id="list_messages",
    responses=problem_responses(401, 404, 422),
)
async def list_messages(
    application: ApplicationForParticipant, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[MessageRead]:
    """The thread, oldest first."""
    items, next_cursor = await MessageRepository(session).list_thread(application.id, cursor, limit)
    return Page(items=[MessageRead.model_validate(m) for m in items], next_cursor=next_cursor)


@router.post(
    "/applications/{application_id}/messages",
    status_code=201,
    response_model=MessageRead,
    operation_id="create_message",
    responses=problem_responses(401, 403, 404, 409, 422, 429),
    dependencies=[LimitMessages],
)
@invalidates(nothing)
async def create_message(
    data: MessageCreate, application: ApplicationForParty, principal: CurrentPrincipal, session: SessionDep
) -> MessageRead:
    """Write to the other party (a notification for them). Closed 30 days after the job ended (409)."""
    return MessageRead.model_validate(await MessageService(session).post(principal, application, data.body))
