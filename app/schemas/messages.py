from datetime import datetime

from pydantic import Field

from app.schemas.common import Input, Output, UserRef


class MessageCreate(Input):
    body: str = Field(min_length=1, max_length=2000, description="Plain text (the web app escapes it).")


class MessageRead(Output):
    id: int
    application_id: int
    sender: UserRef
    body: str
    created_at: datetime
