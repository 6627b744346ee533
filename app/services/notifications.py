"""Notifications: the one function every service calls where something happens to someone, and preferences.

`await notify(session, kind, recipients, actor=..., title=..., link=...)` in the event's own transaction:
- writes one row per recipient who wants it in the app (a rolled-back event leaves none);
- defers one e-mail per recipient who wants it by e-mail (app/tasks/emails.py; the job commits with the
  event, so it is never lost and never sent for a rolled-back one);
- registers the live publish on the unit of work's after-commit hooks: streams hear of it only once it
  is committed (app/live.py).
The actor is never notified of their own action. A new event is a NotificationKind and one such call.
"""

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.db import UnitOfWork
from app.live import LiveEvent, Publisher
from app.models import Notification
from app.models.enums import NotificationKind
from app.repositories.notifications import NotificationRepository, NotificationSettingRepository
from app.schemas.notifications import NotificationPreferenceUpdate, NotificationRead
from app.tasks import defer
from app.tasks.emails import send_notification_email

logger = logging.getLogger(__name__)

# In the app every kind is on by default; by e-mail only what a person would not want to miss.
EMAIL_BY_DEFAULT = frozenset(
    {
        NotificationKind.application_accepted,
        NotificationKind.application_rejected,
        NotificationKind.payout_received,
        NotificationKind.message_received,
        NotificationKind.timesheet_disputed,
        NotificationKind.work_disputed,
        NotificationKind.dispute_resolved,
    }
)


@dataclass(frozen=True)
class Preference:
    in_app: bool
    email: bool


def default_preference(kind: NotificationKind) -> Preference:
    return Preference(in_app=True, email=kind in EMAIL_BY_DEFAULT)


async def notify(
    session: UnitOfWork,
    kind: NotificationKind,
    recipients: Iterable[int],
    *,
    actor: int | None,
    title: str,
    link: str,
    body: str = "",
    data: Mapping[str, Any] | None = None,
) -> list[Notification]:
    """Notify `recipients` (but never `actor`) of an event of `kind`; returns the in-app rows written."""
    users = sorted(set(recipients) - {actor})
    if not users:
        return []
    stored = await NotificationSettingRepository(session).list_for_users(users, kind)
    default = default_preference(kind)
    chosen = {u: Preference(s.in_app, s.email) if (s := stored.get(u)) else default for u in users}
    rows = await NotificationRepository(session).add_many(
        [
            {"user_id": u, "kind": kind, "title": title, "body": body, "link": link, "data": dict(data or {})}
            for u in users
            if chosen[u].in_app
        ]
    )
    for user_id in users:
        if chosen[user_id].email:
            key = f"notification.{uuid.uuid4().hex}"  # the e-mail's idempotency key, kept across retries
            await defer(session, send_notification_email, user_id=user_id, title=title, body=body, link=link, key=key)
    if rows and (live := session.live) is not None:
        events = [(n.user_id, LiveEvent(n.id, NotificationRead.model_validate(n).model_dump_json())) for n in rows]

        async def publish() -> None:
            await _publish(live, events)

        session.after_commit(publish)
    return rows


async def _publish(live: Publisher, events: list[tuple[int, LiveEvent]]) -> None:
    """After the commit: a failure here loses no notification (streams replay from the table), so the
    committed request still succeeds."""
    try:
        for user_id, event in events:
            await live.publish(user_id, [event])
    except Exception as exc:
        logger.warning("live notifications: publish failed (%s); streams catch up on reconnect", type(exc).__name__)


class NotificationSettingsService:
    def __init__(self, session: UnitOfWork) -> None:
        self.settings = NotificationSettingRepository(session)

    async def get(self, user_id: int) -> dict[NotificationKind, Preference]:
        stored = await self.settings.list_for_user(user_id)
        chosen = {}
        for kind in NotificationKind:
            row = stored.get(kind)
            chosen[kind] = Preference(row.in_app, row.email) if row else default_preference(kind)
        return chosen

    async def update(
        self, user_id: int, changes: Mapping[NotificationKind, NotificationPreferenceUpdate]
    ) -> dict[NotificationKind, Preference]:
        current = await self.get(user_id)
        merged = {
            kind: (
                change.in_app if change.in_app is not None else current[kind].in_app,
                change.email if change.email is not None else current[kind].email,
            )
            for kind, change in changes.items()
        }
        await self.settings.save(user_id, {str(k): v for k, v in merged.items()})
        return {**current, **{k: Preference(*v) for k, v in merged.items()}}
