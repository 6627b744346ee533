"""Cookie-mode sessions for browsers: the refresh token only in an HttpOnly cookie, rotated like the JSON one."""

from datetime import timedelta
from http.cookies import SimpleCookie

from httpx import AsyncClient, Response
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RefreshToken
from app.security import refresh_token_id
from tests.factories import API, PASSWORD, assert_problem, register

SESSION = f"{API}/auth/session"


def session_cookie(response: Response) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


async def used_long_ago(db: AsyncSession, response: Response) -> None:
    """Move the first use of the response's cookie token back past the grace period."""
    jti = refresh_token_id(session_cookie(response)["refresh_token"].value)
    await db.execute(
        update(RefreshToken).where(RefreshToken.jti == jti).values(used_at=func.now() - timedelta(minutes=5))
    )


def cookie_header(response: Response) -> dict[str, str]:
    return {"Cookie": f"refresh_token={session_cookie(response)['refresh_token'].value}"}


async def sign_in(client: AsyncClient, email: str) -> Response:
    response = await client.post(SESSION, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


async def test_sign_in_puts_the_refresh_token_only_in_a_strict_http_only_cookie(client: AsyncClient) -> None:
    actor = await register(client)
    response = await sign_in(client, actor.email)

    assert set(response.json()) == {"access_token", "token_type", "expires_in"}
    assert response.json()["token_type"] == "bearer"
    morsel = session_cookie(response)["refresh_token"]
    assert morsel.value and morsel.value not in response.text
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"] == "strict" and morsel["path"] == "/api/v1/auth"
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == actor.id


async def test_wrong_password_is_a_401_without_a_cookie(client: AsyncClient) -> None:
    actor = await register(client)
    response = await client.post(SESSION, json={"email": actor.email, "password": "wrong-password"})
    assert assert_problem(response, 401)["code"] == "invalid_credentials"
    assert "set-cookie" not in response.headers


async def test_refresh_rotates_the_cookie_and_the_old_one_stops_working(client: AsyncClient, db: AsyncSession) -> None:
    """After the grace, the old cookie is a replay: it is refused and ends the whole session (issue #9: reuse
    revokes the token family), so the cookie it was rotated into stops working too."""
    actor = await register(client)
    signed_in = await sign_in(client, actor.email)

    refreshed = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))
    assert refreshed.status_code == 200, refreshed.text
    assert set(refreshed.json()) == {"access_token", "token_type", "expires_in"}
    assert session_cookie(refreshed)["refresh_token"].value != session_cookie(signed_in)["refresh_token"].value
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert me.json()["id"] == actor.id

    await used_long_ago(db, signed_in)
    reused = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))
    assert assert_problem(reused, 401)["code"] == "invalid_refresh_token"
    again = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(refreshed))
    assert assert_problem(again, 401)["code"] == "invalid_refresh_token"


async def test_a_just_rotated_cookie_works_again_within_the_grace(client: AsyncClient, db: AsyncSession) -> None:
    """A page reloaded while its refresh was in flight presents the old cookie: it keeps the session."""
    actor = await register(client)
    signed_in = await sign_in(client, actor.email)
    first = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))
    second = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))
    assert first.status_code == second.status_code == 200
    assert session_cookie(first)["refresh_token"].value != session_cookie(second)["refresh_token"].value
    # The grace counts from the first use: replays do not extend it.
    await used_long_ago(db, signed_in)
    assert_problem(await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in)), 401)


async def test_the_json_refresh_has_no_grace(client: AsyncClient) -> None:
    actor = await register(client)
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})).status_code == 200
    assert_problem(await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token}), 401)


async def test_the_cookie_and_the_json_tokens_share_one_store(client: AsyncClient) -> None:
    actor = await register(client)  # holds a JSON refresh token
    # A JSON refresh token works as a session cookie and is consumed by it (one rotation for both).
    as_cookie = await client.post(
        f"{SESSION}/refresh", json={}, headers={"Cookie": f"refresh_token={actor.refresh_token}"}
    )
    assert as_cookie.status_code == 200
    assert (await client.post(f"{API}/auth/refresh", json={"refresh_token": actor.refresh_token})).status_code == 401


async def test_refresh_without_a_cookie_is_401(client: AsyncClient) -> None:
    assert_problem(await client.post(f"{SESSION}/refresh", json={}), 401)


async def test_logout_revokes_the_session_and_clears_the_cookie(client: AsyncClient) -> None:
    actor = await register(client)
    signed_in = await sign_in(client, actor.email)

    response = await client.post(f"{SESSION}/logout", json={}, headers=cookie_header(signed_in))
    assert response.status_code == 204
    cleared = session_cookie(response)["refresh_token"]
    assert cleared.value == "" and cleared["path"] == "/api/v1/auth" and cleared["max-age"] == "0"
    assert_problem(await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in)), 401)


async def test_logout_also_ends_the_grace_of_a_just_rotated_cookie(client: AsyncClient) -> None:
    actor = await register(client)
    signed_in = await sign_in(client, actor.email)
    rotated = await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))
    assert rotated.status_code == 200
    assert (await client.post(f"{SESSION}/logout", json={}, headers=cookie_header(signed_in))).status_code == 204
    assert_problem(await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in)), 401)


async def test_the_session_endpoints_refuse_plain_forms(client: AsyncClient) -> None:
    """A cross-site HTML form can send urlencoded, multipart or text/plain bodies, never JSON."""
    actor = await register(client)
    signed_in = await sign_in(client, actor.email)
    form = await client.post(SESSION, data={"email": actor.email, "password": PASSWORD})
    assert_problem(form, 422)
    text = await client.post(
        SESSION,
        content=f'{{"email": "{actor.email}", "password": "{PASSWORD}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert_problem(text, 422)
    for path in ("/refresh", "/logout"):
        assert_problem(await client.post(f"{SESSION}{path}", headers=cookie_header(signed_in)), 422)
        plain = await client.post(
            f"{SESSION}{path}", content="{}", headers={**cookie_header(signed_in), "Content-Type": "text/plain"}
        )
        assert_problem(plain, 422)
    # The session is untouched by the refused attempts.
    assert (await client.post(f"{SESSION}/refresh", json={}, headers=cookie_header(signed_in))).status_code == 200
