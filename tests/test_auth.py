from httpx import AsyncClient

from tests.factories import API, PASSWORD, RegisterFactory, login, register


async def test_register_returns_the_account_without_secrets(client: AsyncClient) -> None:
    payload = RegisterFactory.build(role="client").model_dump(mode="json")
    response = await client.post(f"{API}/auth/register", json=payload)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == payload["email"] and body["role"] == "client"
    assert body["balance_minor"] == 0 and body["currency"] == "USD"
    assert not any("password" in key or "hash" in key for key in body)


async def test_emails_are_case_insensitive_and_unique(client: AsyncClient) -> None:
    payload = RegisterFactory.build(role="worker", email="Mixed.Case@Test.Example").model_dump(mode="json")
    assert (await client.post(f"{API}/auth/register", json=payload)).status_code == 201
    again = {**payload, "email": "mixed.case@test.example"}
    response = await client.post(f"{API}/auth/register", json=again)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await login(client, "MIXED.CASE@test.example"))["token_type"] == "bearer"


async def test_register_rejects_admin_role_unknown_fields_and_short_passwords(client: AsyncClient) -> None:
    base = RegisterFactory.build(role="worker").model_dump(mode="json")
    for bad in ({**base, "role": "admin"}, {**base, "is_admin": True}, {**base, "password": "short"}):
        response = await client.post(f"{API}/auth/register", json=bad)
        assert response.status_code == 422, bad
        problem = response.json()
        assert problem["status"] == 422 and problem["errors"]


async def test_token_with_wrong_password_is_401(client: AsyncClient) -> None:
    actor = await register(client)
    response = await client.post(f"{API}/auth/token", data={"username": actor.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


async def test_token_pair_shape(client: AsyncClient) -> None:
    actor = await register(client)
    tokens = await login(client, actor.email, PASSWORD)
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0


async def test_refresh_rotates_and_a_used_token_is_401(client: AsyncClient) -> None:
    actor = await register(client)
    first = await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert first.status_code == 200
    new_pair = first.json()
    assert new_pair["refresh_token"] != actor.refresh_token
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {new_pair['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == actor.id
    reused = await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert reused.status_code == 401


async def test_logout_revokes_the_refresh_token(client: AsyncClient) -> None:
    actor = await register(client)
    response = await client.post(f"{API}/auth/logout", json={"refresh_token": actor.refresh_token})
    assert response.status_code == 204
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})).status_code == 401


async def test_missing_and_bad_tokens_are_401_problems(client: AsyncClient) -> None:
    assert (await client.get(f"{API}/users/me")).status_code == 401
    bad = await client.get(f"{API}/users/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.headers["www-authenticate"] == "Bearer"


async def test_a_refresh_token_is_not_an_access_token(client: AsyncClient) -> None:
    actor = await register(client)
    response = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {actor.refresh_token}"})
    assert response.status_code == 401
