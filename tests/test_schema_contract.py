"""What schemathesis found (issue #9), one test each: the OpenAPI states what the API enforces, and the API
answers what the OpenAPI states."""

import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.main import create_app
from app.pagination import encode_cursor
from app.security import JWT_ALGORITHM
from app.settings import Settings
from tests.factories import API, assert_problem, post_job, register


def _openapi(settings: Settings) -> dict[str, Any]:
    app: FastAPI = create_app(settings)
    return app.openapi()


async def test_a_token_whose_sub_is_beyond_64_bits_is_a_401(client: AsyncClient, settings: Settings) -> None:
    now = int(time.time())
    for sub in (str(2**64), "0", "-1"):
        claims = {"sub": sub, "role": "admin", "type": "access", "iat": now, "exp": now + 60}
        token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
        assert_problem(await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_ids_beyond_64_bits_in_a_body_are_a_422(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    body = {"reviewee_id": 2**63, "rating": 5}
    answer = await client.post(f"{API}/jobs/{job['id']}/reviews", json=body, headers=owner.headers)
    problem = assert_problem(answer, 422)
    assert problem["errors"][0]["loc"] == ["body", "reviewee_id"]


@pytest.mark.parametrize("path", ["/payments/{}", "/reviews/{}/read", "/jobs/{}/payments", "/jobs/{}/reviews"])
async def test_path_ids_beyond_64_bits_are_a_422(client: AsyncClient, path: str) -> None:
    user = await register(client, "client")  # a client passes every role guard of these routes
    method = "GET" if path.startswith("/payments") else "POST"
    answer = await client.request(method, API + path.format(2**63), headers=user.headers, json={})
    assert_problem(answer, 422)


@pytest.mark.parametrize("lng", [False, True, "13.4", None])
async def test_a_coordinate_is_a_json_number_never_a_boolean_or_a_string(client: AsyncClient, lng: Any) -> None:
    user = await register(client, "worker")
    body = {"location": {"city": "Berlin", "lat": 52.5, "lng": lng}}
    assert_problem(await client.patch(f"{API}/users/me", json=body, headers=user.headers), 422)


async def test_whole_floats_are_integers_and_booleans_are_not(client: AsyncClient) -> None:
    """JSON Schema's `integer` includes 28990.0; lax coercion of `true` to 1 is nonsense."""
    user = await register(client, "worker")
    accepted = await client.patch(f"{API}/users/me", json={"hourly_rate_minor": 28990.0}, headers=user.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["hourly_rate_minor"] == 28990
    for value in (True, "28990", 28990.5):
        refused = await client.patch(f"{API}/users/me", json={"hourly_rate_minor": value}, headers=user.headers)
        assert_problem(refused, 422)


@pytest.mark.parametrize("near", ["52.52,13.40", "90,180", "-90.0,-180.0", "0,0"])
async def test_near_as_the_schema_states_it_is_accepted(client: AsyncClient, near: str) -> None:
    assert (await client.get(f"{API}/jobs", params={"near": near})).status_code == 200


@pytest.mark.parametrize("near", ["0000", "91,0", "0,181", "nan,0", "1e1,2", " 1,2", "1,2,3", "90.5,0"])
async def test_near_outside_the_pattern_is_a_422(client: AsyncClient, near: str) -> None:
    assert_problem(await client.get(f"{API}/jobs", params={"near": near}), 422)


def test_the_schema_states_the_near_pattern_and_the_cursor_format(settings: Settings) -> None:
    parameters = {p["name"]: p["schema"] for p in _openapi(settings)["paths"][f"{API}/jobs"]["get"]["parameters"]}
    assert parameters["near"]["anyOf"][0]["pattern"].startswith("^-?")
    assert parameters["cursor"]["anyOf"][0]["format"] == "cursor"


@pytest.mark.parametrize(
    "path", ["/jobs?sort=newest", "/users/{}/reviews/given", "/users/{}/jobs", "/users/me/applications"]
)
async def test_a_cursor_as_the_hooks_draw_it_is_accepted(client: AsyncClient, path: str) -> None:
    """The format tests/schemathesis_hooks.py teaches the fuzzer: (a timestamp, an id), base64url."""
    worker = await register(client, "worker")
    separator = "&" if "?" in path else "?"
    cursor = encode_cursor((datetime(1, 1, 1, tzinfo=UTC), 2**63 - 1))
    answer = await client.get(f"{API}{path.format(worker.id)}{separator}cursor={cursor}", headers=worker.headers)
    assert answer.status_code == 200, answer.text


async def test_an_unparseable_body_is_a_400_problem_and_documented(client: AsyncClient, settings: Settings) -> None:
    user = await register(client, "worker")
    headers = {**user.headers, "Content-Type": "application/json"}
    answer = await client.patch(f"{API}/users/me", content=b"\xff\xfe not json", headers=headers)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    for path, operations in _openapi(settings)["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(operation["responses"]), f"{method} {path}"


def test_every_error_status_is_documented_in_the_problem_shape(settings: Settings) -> None:
    for path, operations in _openapi(settings)["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    assert "application/problem+json" in response["content"], f"{method} {path} {status}"


def test_public_reads_that_look_at_the_caller_document_the_401_of_a_bad_token(settings: Settings) -> None:
    paths = _openapi(settings)["paths"]
    assert "401" in paths[f"{API}/users/{{user_id}}"]["get"]["responses"]
    assert "401" not in paths[f"{API}/jobs"]["get"]["responses"]  # it never reads a token


async def test_a_bad_token_on_a_public_read_is_a_401(client: AsyncClient) -> None:
    answer = await client.get(f"{API}/users/1", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(answer, 401)


async def test_a_login_with_nul_in_the_email_is_a_401_not_a_500(client: AsyncClient) -> None:
    answer = await client.post(f"{API}/auth/token", data={"username": "a\x00@example.org", "password": "x" * 12})
    assert_problem(answer, 401)


@pytest.mark.parametrize("field", ["refresh_token"])
async def test_nul_in_a_body_string_is_a_422_and_the_schema_says_so(
    client: AsyncClient, settings: Settings, field: str
) -> None:
    assert_problem(await client.post(f"{API}/auth/logout", json={field: "a\x00b"}), 422)
    schema = _openapi(settings)["components"]["schemas"]["TokenRefresh"]
    assert schema["properties"][field]["pattern"] == r"^[^\x00]*$"
