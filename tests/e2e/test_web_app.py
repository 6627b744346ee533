"""The issue's browser scenario, screen by screen, as a person would do it (accessible names are the contract)."""

import asyncio
import re
import uuid
from typing import Any

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.conftest import SHORT_TTL_SECONDS, Server

PASSWORD = "e2e-password-123"


def unique_email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@e2e.example"


async def token_headers(server: Server, email: str) -> dict[str, str]:
    async with server.api() as api:
        tokens = (await api.post("/auth/token", data={"username": email, "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def register_by_api(server: Server, role: str, full_name: str, **profile: Any) -> tuple[int, str]:
    email = unique_email(role)
    async with server.api() as api:
        body = {"email": email, "password": PASSWORD, "full_name": full_name, "role": role}
        response = await api.post("/auth/register", json=body)
        assert response.status_code == 201, response.text
        if profile:
            patched = await api.patch("/users/me", json=profile, headers=await token_headers(server, email))
            assert patched.status_code == 200, patched.text
    return int(response.json()["id"]), email


async def post_job_by_api(server: Server, email: str, **job: Any) -> dict[str, Any]:
    async with server.api() as api:
        body = {"category": "handyman", "pay_type": "fixed", "pay_rate_minor": 5000, **job}
        response = await api.post("/jobs", json=body, headers=await token_headers(server, email))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def register_in_app(page: Page, role: str, full_name: str) -> str:
    email = unique_email(role)
    await page.goto("/register")
    await page.get_by_label("Full name").fill(full_name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Client" if role == "client" else "Worker", exact=True).check()
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return email


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def own_id(page: Page, full_name: str) -> int:
    """The signed-in person's id, from the header's link to their profile."""
    href = await page.get_by_role("link", name=full_name).first.get_attribute("href")
    assert href is not None
    return int(href.rsplit("/", 1)[1])


async def post_job_in_app(page: Page, title: str) -> int:
    await page.goto("/jobs/new")
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Description").fill("Two shelves and a wardrobe, tools on site.")
    await page.get_by_label("Category").select_option("handyman")
    await page.get_by_label("Skills").select_option(["plumbing"])
    await page.get_by_label("Pay type").select_option("fixed")
    await page.get_by_label("Pay rate").fill("120")
    await page.get_by_label("Openings").fill("1")
    await page.get_by_label("City").fill("Berlin")
    await page.get_by_role("button", name="Post job").click()
    await page.wait_for_url(re.compile(r"/jobs/\d+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return int(page.url.rsplit("/", 1)[1])


async def payments_of(server: Server, user_id: int, email: str) -> list[dict[str, Any]]:
    async with server.api() as api:
        response = await api.get(f"/users/{user_id}/payments", headers=await token_headers(server, email))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_job_from_posting_to_reviews(new_context: Any, server: Server) -> None:
    client = await (await new_context()).new_page()
    client_email = await register_in_app(client, "client", "Clara Client")
    client_id = await own_id(client, "Clara Client")
    job_id = await post_job_in_app(client, "Assemble IKEA furniture")

    # A double click on "Fund escrow" makes one payment.
    await client.get_by_role("button", name="Fund escrow").dblclick()
    await expect(client.get_by_text("$120.00 held")).to_be_visible()
    await expect(client.get_by_role("button", name="Fund escrow")).to_have_count(0)
    escrows = [p for p in await payments_of(server, client_id, client_email) if p["job_id"] == job_id]
    assert [(p["kind"], p["amount_minor"]) for p in escrows] == [("escrow", 12000)]

    # Workers apply: one in the app, a better-matching one (skill and place) through the API.
    worker = await (await new_context()).new_page()
    worker_email = await register_in_app(worker, "worker", "Walter Worker")
    worker_id = await own_id(worker, "Walter Worker")
    await worker.goto(f"/jobs/{job_id}")
    await worker.get_by_role("button", name="Apply").click()
    await worker.get_by_label("Cover letter").fill("I assemble furniture every week.")
    await worker.get_by_role("button", name="Send application").click()
    await expect(worker.get_by_role("status")).to_contain_text("Application sent")
    _, other_email = await register_by_api(
        server, "worker", "Paula Plumber", skills=["plumbing"], location={"city": "Berlin", "lat": 52.52, "lng": 13.40}
    )
    async with server.api() as api:
        applied = await api.post(f"/jobs/{job_id}/applications", json={"cover_letter": "Nearby, with tools."},
                                 headers=await token_headers(server, other_email))  # fmt: skip
        assert applied.status_code == 201, applied.text

    # The client hires from the best applicants: order and scores as the API gives them.
    await client.reload()
    rows = client.get_by_role("table").locator("tbody tr")
    await expect(rows).to_have_count(2)
    async with server.api() as api:
        ranked = (
            await api.get(f"/jobs/{job_id}/best-applicants", headers=await token_headers(server, client_email))
        ).json()
    shown = [
        (await r.locator("th").inner_text(), float(await r.locator(".score").inner_text())) for r in await rows.all()
    ]
    assert [name for name, _ in shown] == [r["application"]["worker"]["full_name"] for r in ranked]
    assert [name for name, _ in shown] == ["Paula Plumber", "Walter Worker"]
    for (_, score), r in zip(shown, ranked, strict=True):
        assert abs(score - r["score"]) <= 0.05
    await rows.filter(has_text="Walter Worker").get_by_role("button", name="Accept").click()
    await expect(client.get_by_text("hired 1 of 1").first).to_be_visible()
    await client.get_by_role("button", name="Mark completed").click()
    await expect(client.locator(".badge").first).to_have_text("completed")

    # Both review each other from the job page.
    await client.get_by_label("Rating").select_option("5")
    await client.get_by_label("Comment").fill("Quick and careful.")
    await client.get_by_role("button", name="Submit review").click()
    await expect(client.get_by_role("status")).to_contain_text("Review of Walter Worker submitted")
    await worker.reload()
    await worker.get_by_label("Rating").select_option("4")
    await worker.get_by_label("Comment").fill("Clear instructions.")
    await worker.get_by_role("button", name="Submit review").click()
    await expect(worker.get_by_role("status")).to_contain_text("Review of Clara Client submitted")
    await worker.goto(f"/users/{client_id}")
    await expect(worker.get_by_text("Clear instructions.")).to_be_visible()

    # Each sees the payment: the client's escrow, the worker's payout (less the 10% fee).
    await client.goto("/payments")
    await expect(client.get_by_role("row").filter(has_text="Escrow")).to_contain_text("$120.00")
    await worker.goto("/payments")
    await expect(worker.get_by_role("row").filter(has_text="Payout")).to_contain_text("$108.00")
    payouts = [p["amount_minor"] for p in await payments_of(server, worker_id, worker_email) if p["kind"] == "payout"]
    assert payouts == [10800]

    # A reload keeps the session, restored with one refresh.
    refreshes: list[str] = []
    worker.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/auth/session/refresh") else None)
    await worker.reload()
    await expect(worker.get_by_role("heading", name="My payments")).to_be_visible()
    await expect(worker.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(worker.get_by_role("row").filter(has_text="Payout")).to_contain_text("$108.00")
    assert len(refreshes) == 1


async def test_an_expired_access_token_is_refreshed_silently(new_context: Any, short_ttl_server: Server) -> None:
    user_id, email = await register_by_api(short_ttl_server, "client", "Tina Timeout")
    page = await (await new_context(short_ttl_server)).new_page()
    await sign_in(page, email)
    answers: list[tuple[str, int]] = []

    def record(response: Any) -> None:
        if "/api/v1/" in response.url:
            answers.append((f"{response.request.method} {response.url.split('/api/v1')[1]}", response.status))

    page.on("response", record)
    await asyncio.sleep(SHORT_TTL_SECONDS + 1.5)

    await page.get_by_role("link", name="Payments").click()  # a client-side navigation: no page load, no restore
    await expect(page.get_by_role("heading", name="My payments")).to_be_visible()
    # The notification stream ends with each token (every SHORT_TTL_SECONDS); each time its reconnect is
    # refused, refreshed and retried. Every refused request (the stream's, the page's) is followed by a
    # refresh and its successful retry, and the page got its payments.
    stream, refresh = "GET /notifications/stream", "POST /auth/session/refresh"
    payments = f"GET /users/{user_id}/payments?limit=100"
    watched = [a for a in answers if a[0] in (stream, refresh, payments)]
    refused = [i for i, (_, status) in enumerate(watched) if status == 401]
    assert refused and watched[refused[0]][0] == stream, watched  # the stream noticed the expiry first
    for i in refused:
        after = watched[i + 1 :]
        assert (refresh, 200) in after, watched
        assert (watched[i][0], 200) in after[after.index((refresh, 200)) :], watched
    assert {status for request, status in watched if request == refresh} == {200}
    assert (payments, 200) in watched
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_sign_out_ends_the_session(new_context: Any, server: Server) -> None:
    _, email = await register_by_api(server, "worker", "Sam Signout")
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, email)
    cookie = next(c for c in await context.cookies() if c["name"] == "refresh_token")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth"
    assert await page.evaluate("document.cookie") == ""
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login")
    await page.reload()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    async with httpx.AsyncClient() as http:
        refused = await http.post(f"{server.url}/api/v1/auth/session/refresh", json={},
                                  headers={"Cookie": f"refresh_token={cookie['value']}"})  # fmt: skip
    assert refused.status_code == 401


async def test_reloading_during_the_session_refresh_keeps_the_session(new_context: Any, server: Server) -> None:
    _, email = await register_by_api(server, "client", "Rita Reload")
    page = await (await new_context()).new_page()
    await sign_in(page, email)
    for _ in range(3):  # each reload interrupts the previous page's refresh on load
        await page.reload(wait_until="commit")
    await page.goto("/payments")
    await expect(page.get_by_role("heading", name="My payments")).to_be_visible()


async def test_api_errors_are_announced_with_the_problem_detail(new_context: Any, server: Server) -> None:
    _, email = await register_by_api(server, "client", "Eve Error")
    page = await (await new_context()).new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")


async def test_deep_links_survive_a_reload(new_context: Any, server: Server) -> None:
    user_id, email = await register_by_api(server, "client", "Dora Deeplink")
    job = await post_job_by_api(server, email, title="Paint the fence")
    page = await (await new_context()).new_page()
    await sign_in(page, email)
    for path, heading in [
        (f"/jobs/{job['id']}", "Paint the fence"),
        (f"/users/{user_id}", "Dora Deeplink"),
        ("/dashboard", "My jobs"),
        ("/payments", "My payments"),
        ("/profile", "My profile"),
        ("/jobs/new", "Post a job"),
        ("/?q=fence", "Find work"),
    ]:
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await page.reload()
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await expect(page.get_by_role("link", name="Paint the fence")).to_be_visible()  # the search kept its keyword


async def test_search_filters_and_load_more(new_context: Any, server: Server) -> None:
    _, email = await register_by_api(server, "client", "Sue Search")
    marker = uuid.uuid4().hex[:8]
    for n in range(22):
        berlin = {"city": "Berlin", "lat": 52.52, "lng": 13.40}
        title = f"Garden job {marker} {n}"
        await post_job_by_api(
            server, email, title=title, category="gardening", pay_rate_minor=1000 + n, location=berlin
        )
    page = await (await new_context()).new_page()
    await page.goto("/")
    await page.get_by_label("Keyword").fill(marker)
    await page.get_by_label("City").fill("Berlin")
    await page.get_by_label("Sort").select_option("pay")
    await page.get_by_role("button", name="Search").click()
    cards = page.locator(".card")
    await expect(cards).to_have_count(20)
    await expect(cards.first).to_contain_text(f"Garden job {marker} 21")
    assert "near=52.52%2C13.405" in page.url and "sort=pay" in page.url
    await page.get_by_role("button", name="Load more").click()
    await expect(cards).to_have_count(22)
    await expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    await page.get_by_label("City").fill("")
    await page.get_by_role("button", name="Near me").click()  # the context's geolocation is Berlin
    await expect(page.get_by_label("City")).to_have_value("My location")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"near=52\.52\d*%2C13\.40"))
    await expect(cards).to_have_count(20)


async def test_main_screens_have_no_serious_accessibility_violations(new_context: Any, server: Server) -> None:
    _, email = await register_by_api(server, "client", "Ada Access")
    worker_id, worker_email = await register_by_api(server, "worker", "Wes Worker")
    job = await post_job_by_api(server, email, title="Fix a leaking tap")
    async with server.api() as api:
        applied = await api.post(f"/jobs/{job['id']}/applications", json={},
                                 headers=await token_headers(server, worker_email))  # fmt: skip
    axe = Axe()
    page = await (await new_context()).new_page()
    problems: dict[str, list[str]] = {}

    async def check(path: str, *, open_first_job: bool = False) -> None:
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        if open_first_job:
            await page.locator("summary").first.click()
            await expect(page.get_by_role("button", name="Accept")).to_be_visible()
        # Not "networkidle": a signed-in page holds its notification stream open.
        await expect(page.get_by_text("Loading…")).to_have_count(0)
        violations = (await axe.run(page)).response["violations"]
        serious = [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]
        if serious:
            problems[path] = serious

    for path in ["/", "/login", "/register", "/forgot-password", f"/jobs/{job['id']}", f"/users/{worker_id}"]:
        await check(path)
    await sign_in(page, email)
    thread = f"/applications/{applied.json()['id']}"
    for path in ["/jobs/new", f"/jobs/{job['id']}", "/payments", "/profile", "/notifications", thread]:
        await check(path)
    await check("/dashboard", open_first_job=True)
    assert problems == {}
