"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_schemathesis.py): what the custom string
formats of the OpenAPI mean, so generated data that the schema calls valid is valid."""

from datetime import UTC

import schemathesis
from hypothesis import strategies as st

from app.pagination import encode_cursor

# `format: cursor` (app/params.py): the sort key of a row, (created_at, id) for every listing but the pay and
# distance orders of GET /jobs (whose 422 for such a cursor is an accepted finding).
schemathesis.openapi.format(
    "cursor",
    st.tuples(st.datetimes(timezones=st.just(UTC)), st.integers(1, 2**63 - 1)).map(encode_cursor),
)
