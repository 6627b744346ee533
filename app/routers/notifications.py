"""The caller's notifications, their live stream, and their per-kind settings. Private: never cached."""

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import StreamingResponse

from app.cache import invalidates
from app.deps import CurrentPrincipal, SessionDep, StateDep, oauth2_scheme
from app.errors import problem_responses
from app.live import LiveEvent, SubscriptionEnded
from app.loaders import NotificationForOwner
from app.models.enums import NotificationKind
from app.params import Cursor, Limit
from app.repositories.notifications import NotificationRepository
from app.routers import API_PREFIX
from app.routers.invalidation import nothing
from app.schemas.common import Page
from app.schemas.notifications import (
    NotificationPreference,
    NotificationRead,
    NotificationSettingsRead,
    NotificationSettingsUpdate,
    UnreadCount,
)
from app.security import access_token_expiry
from app.services.notifications import NotificationSettingsService, Preference

router = APIRouter(prefix=API_PREFIX, tags=["notifications"])

REPLAY_LIMIT = 100  # a client that missed more reloads GET /notifications


@router.get(
    "/notifications",
    response_model=Page[NotificationRead],
    operation_id="list_notifications",
    responses=problem_responses(401, 422),
)
async def list_notifications(
    principal: CurrentPrincipal, session: SessionDep, unread: bool = False, limit: Limit = 20, cursor: Cursor = None
) -> Page[NotificationRead]:
    """The caller's notifications, newest first; `unread=true` for the unread ones only."""
    items, next_cursor = await NotificationRepository(session).list_for_user(principal.id, unread, cursor, limit)
    return Page(items=[NotificationRead.model_validate(n) for n in items], next_cursor=next_cursor)


@router.get(
    "/notifications/unread-count",
    response_model=UnreadCount,
    operation_id="count_unread_notifications",
    responses=problem_responses(401),
)
async def count_unread_notifications(principal: CurrentPrincipal, session: SessionDep) -> UnreadCount:
    return UnreadCount(count=await NotificationRepository(session).count_unread(principal.id))


def _sse(event: LiveEvent) -> str:
    return f"id: {event.id}\nevent: notification\ndata: {event.data}\n\n"


@router.get(
    "/notifications/stream",
    response_class=StreamingResponse,
    operation_id="stream_notifications",
    responses={
        200: {
            "description": "Server-sent events: `id:` the notification's id, `data:` a NotificationRead (JSON)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problem_responses(401),
    },
)
async def stream_notifications(
    principal: CurrentPrincipal,
    state: StateDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    last_event_id: Annotated[str | None, Header(pattern=r"^[0-9]{1,18}$", description="The last event's id")] = None,
) -> StreamingResponse:
    """Live notifications (SSE): `id:` is the notification's id, `data:` the notification. With
    `Last-Event-ID` the missed ones (up to 100) come first. A comment line every 15 s keeps it alive; it
    ends when the access token expires (reconnect with a fresh one). No database connection while idle."""
    assert token is not None  # CurrentPrincipal refused a request without one
    expires_at = access_token_expiry(token, state.settings)
    heartbeat = state.settings.notifications_heartbeat_seconds

    async def events() -> AsyncIterator[str]:
        with state.live.subscribe(principal.id) as subscription:  # before the replay: nothing falls in between
            replayed: set[int] = set()
            if last_event_id is not None:
                async with state.database.sessionmaker() as session:
                    after = int(last_event_id)
                    missed = await NotificationRepository(session).list_after(principal.id, after, REPLAY_LIMIT)
                for n in missed:
                    replayed.add(n.id)
                    yield _sse(LiveEvent(n.id, NotificationRead.model_validate(n).model_dump_json()))
            yield ": connected\n\n"
            while (remaining := expires_at - time.time()) > 0:
                try:
                    event = await subscription.next(within=min(heartbeat, remaining))
                except SubscriptionEnded:
                    return
                if event is None:
                    if time.time() < expires_at:
                        yield ": heartbeat\n\n"
                elif event.id not in replayed:
                    yield _sse(event)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


@router.post(
    "/notifications/read-all",
    status_code=204,
    response_class=Response,
    operation_id="mark_all_notifications_read",
    responses=problem_responses(401),
)
@invalidates(nothing)
async def mark_all_notifications_read(principal: CurrentPrincipal, session: SessionDep) -> Response:
    await NotificationRepository(session).mark_all_read(principal.id)
    return Response(status_code=204)


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationRead,
    operation_id="mark_notification_read",
    responses=problem_responses(401, 404),
)
@invalidates(nothing)
async def mark_notification_read(notification: NotificationForOwner, session: SessionDep) -> NotificationRead:
    return NotificationRead.model_validate(await NotificationRepository(session).mark_read(notification))


def _settings(chosen: dict[NotificationKind, Preference]) -> NotificationSettingsRead:
    return NotificationSettingsRead.model_validate(
        {kind: NotificationPreference(in_app=p.in_app, email=p.email) for kind, p in chosen.items()}
    )


@router.get(
    "/users/me/notification-settings",
    response_model=NotificationSettingsRead,
    operation_id="get_notification_settings",
    responses=problem_responses(401),
)
async def get_notification_settings(principal: CurrentPrincipal, session: SessionDep) -> NotificationSettingsRead:
    """Per kind: in the app (on by default) and by e-mail (by default for hired, rejected, paid, messages, disputes)."""
    return _settings(await NotificationSettingsService(session).get(principal.id))


@router.patch(
    "/users/me/notification-settings",
    response_model=NotificationSettingsRead,
    operation_id="update_notification_settings",
    responses=problem_responses(401, 422),
)
@invalidates(nothing)
async def update_notification_settings(
    data: NotificationSettingsUpdate, principal: CurrentPrincipal, session: SessionDep
) -> NotificationSettingsRead:
    """Change some kinds' channels; a channel left out keeps its value."""
    return _settings(await NotificationSettingsService(session).update(principal.id, data.root))
