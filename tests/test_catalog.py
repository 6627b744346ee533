"""The catalog, the API description (OpenAPI, docs), health checks and the one error shape."""

import re

from httpx import AsyncClient

from tests.factories import API, assert_problem, completed_job, post_job, register

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


# GET /categories, GET /skills


async def test_categories_are_public_with_slug_and_name(client: AsyncClient) -> None:
    response = await client.get(f"{API}/categories")
    assert response.status_code == 200
    categories = response.json()
    assert len(categories) >= 5
    assert all(set(c) >= {"id", "slug", "name"} and c["slug"] and c["name"] for c in categories)
    assert {"handyman": "Handyman & repairs"}.items() <= {c["slug"]: c["name"] for c in categories}.items()
    assert len({c["slug"] for c in categories}) == len(categories)


async def test_skills_are_public_with_slug_and_name(client: AsyncClient) -> None:
    response = await client.get(f"{API}/skills")
    assert response.status_code == 200
    skills = response.json()
    assert len(skills) >= 10
    assert all(set(s) >= {"id", "slug", "name"} and s["slug"] and s["name"] for s in skills)
    assert {"plumbing": "Plumbing"}.items() <= {s["slug"]: s["name"] for s in skills}.items()


async def test_catalog_slugs_are_the_ones_jobs_accept(client: AsyncClient) -> None:
    owner = await register(client, "client")
    category = (await client.get(f"{API}/categories")).json()[-1]["slug"]
    skills = [s["slug"] for s in (await client.get(f"{API}/skills")).json()][:3]
    job = await post_job(client, owner, category=category, skills=skills)
    assert job["category"]["slug"] == category and sorted(s["slug"] for s in job["skills"]) == sorted(skills)


# The API description


async def test_every_route_has_an_operation_id_a_tag_and_a_success_schema(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operations = [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operations) >= 30
    ids = [op.get("operationId") for _, _, op in operations]
    assert all(ids) and len(set(ids)) == len(ids)
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert success, where
        for code, answer in success.items():
            if code != "204":
                assert any("schema" in media for media in answer.get("content", {}).values()), where


async def test_error_responses_are_documented_as_problems(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    get_job = schema["paths"][f"{API}/jobs/{{job_id}}"]["get"]
    assert "application/problem+json" in get_job["responses"]["404"]["content"]
    assert "Problem" in schema["components"]["schemas"]


async def test_docs_are_served_without_external_assets(client: AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    assert not [u for u in urls if u.startswith(("http://", "https://", "//"))]
    for url in urls:
        assert (await client.get(url)).status_code == 200, url


async def test_health_and_readiness(client: AsyncClient) -> None:
    health = await client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


# The one error shape


async def test_every_error_is_a_problem_document(client: AsyncClient) -> None:
    owner = await register(client, "client")
    worker = await register(client, "worker")
    assert assert_problem(await client.get(f"{API}/jobs/987654321"), 404)["title"] == "Not Found"
    assert assert_problem(await client.get(f"{API}/users/me"), 401)["title"] == "Unauthorized"
    forbidden = await client.post(f"{API}/jobs", json={}, headers=worker.headers)
    assert assert_problem(forbidden, 403)["title"] == "Forbidden"
    job = await completed_job(client, owner, [worker])
    conflict = await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)
    assert assert_problem(conflict, 409)["title"] == "Conflict"
    invalid = assert_problem(await client.get(f"{API}/jobs", params={"limit": 0}), 422)
    assert invalid["errors"][0]["loc"] == ["query", "limit"]


async def test_an_unknown_route_is_a_404_problem(client: AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/no-such-thing"), 404)
