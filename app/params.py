"""Query parameters shared by several routes (and by the loaders that read them)."""

from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from app.models.enums import ReviewFilter
from app.pagination import CURSOR_PATTERN

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1..100).")]


def _cursor_format(schema: dict[str, Any]) -> None:
    """OpenAPI states a cursor as `format: cursor`: base64url (`A-Z a-z 0-9 _ -`), at most 512 characters, a
    `next_cursor` of this API (tests/schemathesis_hooks.py teaches the format to the fuzzer, which draws from
    the pattern instead when the schema also names one)."""
    schema.pop("pattern", None)
    schema.pop("maxLength", None)
    schema["format"] = "cursor"


CursorText = Annotated[str, Field(pattern=CURSOR_PATTERN, max_length=512, json_schema_extra=_cursor_format)]
Cursor = Annotated[
    CursorText | None,
    Query(description="`next_cursor` from the previous page (opaque: a well-formed cursor no page made is a 422)."),
]
ReviewFilterName = Annotated[ReviewFilter, Query(description="recent: last 7 days")]
