"""Query parameters shared by several routes (and by the loaders that read them)."""

from typing import Annotated

from fastapi import Query

from app.models.enums import ReviewFilter

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1..100).")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` from the previous page.")]
ReviewFilterName = Annotated[ReviewFilter, Query(description="recent: last 7 days")]
