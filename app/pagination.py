"""Opaque keyset cursors: the sort-key values of the last row, as base64url JSON."""

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any


class InvalidCursor(ValueError):
    """A cursor that no page of ours produced (app/errors.py renders it as a 422)."""


# The syntax of a cursor: base64url without padding (OpenAPI states it as `format: cursor`, app/params.py).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"


def encode_cursor(values: tuple[Any, ...]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """Decode and type-check a cursor against the sort key's column types; anything else is an InvalidCursor."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(_coerce(value, kind) for value, kind in zip(raw, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"malformed cursor: {exc}") from exc


def _coerce(value: Any, kind: type) -> Any:
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value  # within BIGINT, so the driver never overflows
    raise ValueError(f"expected {kind.__name__}")
