"""Problems a generated client can type: one stable `type` URI per kind, a machine-readable `code`, and an
OpenAPI document that lists every error under application/problem+json with the Problem schema."""

from httpx import AsyncClient

from app.errors import problem_type
from tests.factories import API, apply, assert_problem, fund, hire, post_job, register


def assert_code(response_body: dict[str, object], code: str) -> None:
    assert response_body["code"] == code
    assert response_body["type"] == problem_type(code) == f"tag:marketplace,2026:problem:{code}"


async def test_each_kind_of_problem_has_its_own_type_and_code(client: AsyncClient) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    assert_code(assert_problem(await client.get(f"{API}/jobs/987654321"), 404), "not_found")
    assert_code(assert_problem(await client.get(f"{API}/users/me"), 401), "unauthorized")
    assert_code(assert_problem(await client.post(f"{API}/jobs", json={}, headers=worker.headers), 403), "forbidden")
    assert_code(assert_problem(await client.get(f"{API}/jobs", params={"limit": 0}), 422), "validation_failed")
    assert_code(assert_problem(await client.get(f"{API}/no-such-thing"), 404), "not_found")
    assert_code(assert_problem(await client.delete(f"{API}/jobs"), 405), "method_not_allowed")
    job = await post_job(client, owner)
    wrong_amount = await client.post(
        f"{API}/jobs/{job['id']}/payments", json={"amount_minor": 1}, headers={**owner.headers, "Idempotency-Key": "x"}
    )
    assert_code(assert_problem(wrong_amount, 422), "unprocessable")


async def test_a_funded_job_and_a_filled_job_are_told_apart_by_code(client: AsyncClient) -> None:
    owner = await register(client, "client")
    first, second = await register(client, "worker"), await register(client, "worker")
    job = await post_job(client, owner, openings=1)
    await fund(client, owner, job, key="first-payment")
    again = await client.post(
        f"{API}/jobs/{job['id']}/payments",
        json={"amount_minor": job["total_cost_minor"]},
        headers={**owner.headers, "Idempotency-Key": "second-payment"},
    )
    assert_code(assert_problem(again, 409), "job_already_funded")

    a1 = await apply(client, first, job["id"])
    a2 = await apply(client, second, job["id"])
    await hire(client, owner, a1["id"])
    full = await client.post(f"{API}/applications/{a2['id']}/accept", headers=owner.headers)
    assert_code(assert_problem(full, 409), "openings_full")
    rejected_again = await client.post(f"{API}/applications/{a1['id']}/reject", headers=owner.headers)
    assert_code(assert_problem(rejected_again, 409), "job_not_open")


async def test_auth_problems_have_their_codes(client: AsyncClient) -> None:
    actor = await register(client)
    taken = await client.post(
        f"{API}/auth/register",
        json={"email": actor.email, "password": "long-enough-1", "full_name": "Again", "role": "worker"},
    )
    assert_code(assert_problem(taken, 409), "email_taken")
    wrong = await client.post(f"{API}/auth/token", data={"username": actor.email, "password": "wrong-password"})
    assert_code(assert_problem(wrong, 401), "invalid_credentials")
    await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})
    reused = await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert_code(assert_problem(reused, 401), "invalid_refresh_token")


async def test_a_missing_required_header_is_a_400_naming_it(client: AsyncClient) -> None:
    owner = await register(client, "client")
    job = await post_job(client, owner)
    response = await client.post(
        f"{API}/jobs/{job['id']}/payments", json={"amount_minor": job["total_cost_minor"]}, headers=owner.headers
    )
    body = assert_problem(response, 400)
    assert_code(body, "header_missing")
    assert body["detail"] == "The Idempotency-Key header is required."


async def test_openapi_lists_every_error_as_problem_json_only(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "code", "title", "status", "detail"} <= set(problem["required"])
    errors = [
        (f"{method} {path} {status}", response)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert len(errors) > 50
    for where, response in errors:
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, where


async def test_openapi_marks_the_idempotency_key_required(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    fund_job = document["paths"][f"{API}/jobs/{{job_id}}/payments"]["post"]
    header = next(p for p in fund_job["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["required"] is True
    assert header["schema"]["type"] == "string"
