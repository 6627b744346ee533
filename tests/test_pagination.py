"""Keyset cursors: a bad cursor is the pagination module's own error, rendered by app/errors.py as a 422."""

from datetime import UTC, datetime

import pytest
from httpx import AsyncClient

from app.errors import DomainError
from app.pagination import InvalidCursor, decode_cursor, encode_cursor
from tests.factories import API, assert_problem

CURSOR_DETAIL = "The cursor is malformed; pass back a next_cursor from a previous page."


def test_a_cursor_decodes_to_the_values_it_encoded() -> None:
    values = (datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), 7)
    assert decode_cursor(encode_cursor(values), (datetime, int)) == values


@pytest.mark.parametrize("cursor", ["garbage", encode_cursor((1, 2, 3)), encode_cursor(("x", 1))])
def test_a_malformed_cursor_raises_invalid_cursor_not_an_http_error(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(cursor, (datetime, int))
    assert isinstance(raised.value, ValueError)
    assert not isinstance(raised.value, DomainError)


async def test_a_malformed_cursor_is_a_422_with_the_documented_detail(client: AsyncClient) -> None:
    problem = assert_problem(await client.get(f"{API}/jobs", params={"cursor": "garbage"}), 422)
    assert problem["detail"] == CURSOR_DETAIL
