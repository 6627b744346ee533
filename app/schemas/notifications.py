from datetime import datetime
from typing import Any

from pydantic import Field, RootModel, StrictBool

from app.models.enums import NotificationKind
from app.schemas.common import Input, Output


class NotificationRead(Output):
    id: int
    kind: NotificationKind
    title: str
    body: str
    link: str = Field(description="The path in the web app, e.g. /jobs/42.")
    data: dict[str, Any] = Field(description="Ids of what the notification is about (job_id, application_id, ...).")
    created_at: datetime
    read_at: datetime | None


class UnreadCount(Output):
    count: int


class NotificationPreference(Output):
    in_app: bool
    email: bool


class NotificationPreferenceUpdate(Input):
    # Strict: `0`, `"yes"` or `"false"` are no booleans (lax coercion would accept them).
    in_app: StrictBool | None = None
    email: StrictBool | None = None


class NotificationSettingsRead(RootModel[dict[NotificationKind, NotificationPreference]]):
    """Every kind with its channels (GET/PATCH /users/me/notification-settings)."""


class NotificationSettingsUpdate(RootModel[dict[NotificationKind, NotificationPreferenceUpdate]]):
    """The kinds to change; a channel left out keeps its value."""
