"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by tests/test_schemathesis.py): what the custom string
formats of the OpenAPI mean, so generated data that the schema calls valid is valid."""

import schemathesis
from hypothesis import strategies as st

from app.pagination import encode_cursor

# `format: cursor` (app/params.py): an array of numbers, base64url; arrays of two integers fit every listing.
schemathesis.openapi.format(
    "cursor",
    st.tuples(st.integers(0, 2**53), st.integers(1, 2**63 - 1)).map(encode_cursor),
)
