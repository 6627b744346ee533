"""Query parameters shared by several routes (and by the loaders that read them)."""

from typing import Annotated

from fastapi import Query
from pydantic import Field

from app.models.enums import ReviewFilter
from app.pagination import CURSOR_PATTERN

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1..100).")]
# The pattern and `format: cursor` sit on the string itself (inside OpenAPI's anyOf with null).
CursorText = Annotated[str, Field(pattern=CURSOR_PATTERN, max_length=512, json_schema_extra={"format": "cursor"})]
Cursor = Annotated[
    CursorText | None,
    Query(description="`next_cursor` from the previous page (opaque: a well-formed cursor no page made is a 422)."),
]
ReviewFilterName = Annotated[ReviewFilter, Query(description="recent: last 7 days")]
