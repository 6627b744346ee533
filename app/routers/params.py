"""Query parameters shared by list endpoints."""

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1..100).")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` from the previous page.")]
