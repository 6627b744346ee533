"""Message threads: one per application, between its worker and the job's owner (app.loaders decides who
reads and writes). A thread closes for writing 30 days after its job completed or was cancelled."""

from datetime import UTC, datetime, timedelta

from app.db import UnitOfWork
from app.errors import Conflict
from app.models import Application, Message
from app.models.enums import NotificationKind
from app.repositories.messages import MessageRepository
from app.security import Principal
from app.services.notifications import notify

OPEN_AFTER_JOB_ENDS = timedelta(days=30)
PREVIEW_CHARS = 280


def closed_since(application: Application) -> datetime | None:
    """When the thread closed for writing, or None while it is open."""
    ended = application.job.completed_at or application.job.cancelled_at
    if ended is None or datetime.now(UTC) < ended + OPEN_AFTER_JOB_ENDS:
        return None
    return ended + OPEN_AFTER_JOB_ENDS


class MessageService:
    def __init__(self, session: UnitOfWork) -> None:
        self.session = session
        self.messages = MessageRepository(session)

    async def post(self, principal: Principal, application: Application, body: str) -> Message:
        """`application` is one the caller is a party to (its job loaded)."""
        if (closed := closed_since(application)) is not None:
            raise Conflict(f"This conversation closed on {closed:%Y-%m-%d}, 30 days after the job ended.")
        message = await self.messages.add(Message(application_id=application.id, sender_id=principal.id, body=body))
        message_id = message.id
        self.messages.forget(message)  # re-read with its sender and created_at
        detail = await self.messages.get_detail(message_id)
        assert detail is not None  # written by this transaction
        other = application.job.client_id if principal.id == application.worker_id else application.worker_id
        preview = body if len(body) <= PREVIEW_CHARS else body[: PREVIEW_CHARS - 1] + "…"
        await notify(
            self.session,
            NotificationKind.message_received,
            [other],
            actor=principal.id,
            title=f"New message from {detail.sender.full_name} about {application.job.title}",
            body=preview,
            link=f"/applications/{application.id}",
            data={"application_id": application.id, "job_id": application.job_id, "message_id": detail.id},
        )
        return detail
