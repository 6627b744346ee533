"""The issue's browser scenario, screen by screen, as a person would do it (accessible names are the contract)."""

import re
import time
import uuid
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SHORT_TTL_SECONDS, Server

PASSWORD = "e2e-password-123"


def unique_email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@e2e.example"


def token_headers(server: Server, email: str) -> dict[str, str]:
    with server.api() as api:
        tokens = api.post("/auth/token", data={"username": email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def register_by_api(server: Server, role: str, full_name: str, **profile: Any) -> tuple[int, str]:
    email = unique_email(role)
    with server.api() as api:
        body = {"email": email, "password": PASSWORD, "full_name": full_name, "role": role}
        response = api.post("/auth/register", json=body)
        assert response.status_code == 201, response.text
        if profile:
            patched = api.patch("/users/me", json=profile, headers=token_headers(server, email))
            assert patched.status_code == 200, patched.text
    return int(response.json()["id"]), email


def register_in_app(page: Page, role: str, full_name: str) -> str:
    email = unique_email(role)
    page.goto("/register")
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Client" if role == "client" else "Worker", exact=True).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return email


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def post_job_in_app(page: Page, title: str) -> int:
    page.goto("/jobs/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Two shelves and a wardrobe, tools on site.")
    page.get_by_label("Category").select_option("handyman")
    page.get_by_label("Skills").select_option(["plumbing"])
    page.get_by_label("Pay type").select_option("fixed")
    page.get_by_label("Pay rate").fill("120")
    page.get_by_label("Openings").fill("1")
    page.get_by_label("City").fill("Berlin")
    page.get_by_role("button", name="Post job").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return int(page.url.rsplit("/", 1)[1])


def payments_of(server: Server, user_id: int, email: str) -> list[dict[str, Any]]:
    with server.api() as api:
        response = api.get(f"/users/{user_id}/payments", headers=token_headers(server, email))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_job_from_posting_to_reviews(new_context: Any, server: Server) -> None:
    client = new_context().new_page()
    client_email = register_in_app(client, "client", "Clara Client")
    client_id = int(client.get_by_role("link", name="Clara Client").get_attribute("href").rsplit("/", 1)[1])
    job_id = post_job_in_app(client, "Assemble IKEA furniture")

    # A double click on "Fund escrow" makes one payment.
    client.get_by_role("button", name="Fund escrow").dblclick()
    expect(client.get_by_text("$120.00 held")).to_be_visible()
    expect(client.get_by_role("button", name="Fund escrow")).to_have_count(0)
    escrows = [p for p in payments_of(server, client_id, client_email) if p["job_id"] == job_id]
    assert [(p["kind"], p["amount_minor"]) for p in escrows] == [("escrow", 12000)]

    # Workers apply: one in the app, a better-matching one (skill and place) through the API.
    worker = new_context().new_page()
    worker_email = register_in_app(worker, "worker", "Walter Worker")
    worker.goto(f"/jobs/{job_id}")
    worker.get_by_role("button", name="Apply").click()
    worker.get_by_label("Cover letter").fill("I assemble furniture every week.")
    worker.get_by_role("button", name="Send application").click()
    expect(worker.get_by_role("status")).to_contain_text("Application sent")
    other_id, other_email = register_by_api(
        server, "worker", "Paula Plumber", skills=["plumbing"], location={"city": "Berlin", "lat": 52.52, "lng": 13.40}
    )
    with server.api() as api:
        applied = api.post(f"/jobs/{job_id}/applications", json={"cover_letter": "Nearby, with tools."},
                           headers=token_headers(server, other_email))  # fmt: skip
        assert applied.status_code == 201, applied.text

    # The client hires from the best applicants: order and scores as the API gives them.
    client.reload()
    rows = client.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    with server.api() as api:
        ranked = api.get(f"/jobs/{job_id}/best-applicants", headers=token_headers(server, client_email)).json()
    shown = [(r.locator("th").inner_text(), float(r.locator(".score").inner_text())) for r in rows.all()]
    assert [name for name, _ in shown] == [r["application"]["worker"]["full_name"] for r in ranked]
    assert [name for name, _ in shown] == ["Paula Plumber", "Walter Worker"]
    for (_, score), r in zip(shown, ranked, strict=True):
        assert abs(score - r["score"]) <= 0.05
    rows.filter(has_text="Walter Worker").get_by_role("button", name="Accept").click()
    expect(client.get_by_text("hired 1 of 1").first).to_be_visible()
    client.get_by_role("button", name="Mark completed").click()
    expect(client.locator(".badge").first).to_have_text("completed")

    # Both review each other from the job page.
    client.get_by_label("Rating").select_option("5")
    client.get_by_label("Comment").fill("Quick and careful.")
    client.get_by_role("button", name="Submit review").click()
    expect(client.get_by_role("status")).to_contain_text("Review of Walter Worker submitted")
    worker.reload()
    worker.get_by_label("Rating").select_option("4")
    worker.get_by_label("Comment").fill("Clear instructions.")
    worker.get_by_role("button", name="Submit review").click()
    expect(worker.get_by_role("status")).to_contain_text("Review of Clara Client submitted")
    worker.goto(f"/users/{client_id}")
    expect(worker.get_by_text("Clear instructions.")).to_be_visible()

    # Each sees the payment: the client's escrow, the worker's payout (less the 10% fee).
    client.goto("/payments")
    expect(client.get_by_role("row").filter(has_text="Escrow")).to_contain_text("$120.00")
    worker.goto("/payments")
    expect(worker.get_by_role("row").filter(has_text="Payout")).to_contain_text("$108.00")
    worker_id = int(worker.get_by_role("link", name="Walter Worker").get_attribute("href").rsplit("/", 1)[1])
    assert [p["amount_minor"] for p in payments_of(server, worker_id, worker_email) if p["kind"] == "payout"] == [10800]

    # A reload keeps the session (one silent refresh on load).
    worker.reload()
    expect(worker.get_by_role("heading", name="My payments")).to_be_visible()
    expect(worker.get_by_role("button", name="Sign out")).to_be_visible()
    assert other_id != worker_id


def test_an_expired_access_token_is_refreshed_silently(new_context: Any, short_ttl_server: Server) -> None:
    user_id, email = register_by_api(short_ttl_server, "client", "Tina Timeout")
    page = new_context(short_ttl_server).new_page()
    sign_in(page, email)
    answers: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            answers.append((f"{r.request.method} {r.url.split('/api/v1')[1]}", r.status))
            if "/api/v1/" in r.url
            else None
        ),
    )
    time.sleep(SHORT_TTL_SECONDS + 1.5)

    page.get_by_role("link", name="Payments").click()  # a client-side navigation: no page load, no restore
    expect(page.get_by_role("heading", name="My payments")).to_be_visible()
    payments = f"GET /users/{user_id}/payments?limit=100"
    watched = [a for a in answers if a[0] in (payments, "POST /auth/session/refresh")]
    assert watched == [(payments, 401), ("POST /auth/session/refresh", 200), (payments, 200)]
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_sign_out_ends_the_session(new_context: Any, server: Server) -> None:
    _, email = register_by_api(server, "worker", "Sam Signout")
    context = new_context()
    page = context.new_page()
    sign_in(page, email)
    cookie = next(c for c in context.cookies() if c["name"] == "refresh_token")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth"
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.reload()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    refused = httpx.post(f"{server.url}/api/v1/auth/session/refresh", json={},
                         headers={"Cookie": f"refresh_token={cookie['value']}"})  # fmt: skip
    assert refused.status_code == 401


def test_api_errors_are_announced_with_the_problem_detail(new_context: Any, server: Server) -> None:
    _, email = register_by_api(server, "client", "Eve Error")
    page = new_context().new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")


def test_deep_links_survive_a_reload(new_context: Any, server: Server) -> None:
    user_id, email = register_by_api(server, "client", "Dora Deeplink")
    with server.api() as api:
        job = api.post("/jobs", json={"title": "Paint the fence", "category": "handyman", "pay_type": "fixed",
                                      "pay_rate_minor": 5000}, headers=token_headers(server, email)).json()  # fmt: skip
    page = new_context().new_page()
    sign_in(page, email)
    for path, heading in [
        (f"/jobs/{job['id']}", "Paint the fence"),
        (f"/users/{user_id}", "Dora Deeplink"),
        ("/dashboard", "My jobs"),
        ("/payments", "My payments"),
        ("/profile", "My profile"),
        ("/jobs/new", "Post a job"),
        ("/?q=fence", "Find work"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("link", name="Paint the fence")).to_be_visible()  # the search kept its keyword


def test_search_filters_and_load_more(new_context: Any, server: Server) -> None:
    _, email = register_by_api(server, "client", "Sue Search")
    marker = uuid.uuid4().hex[:8]
    with server.api() as api:
        for n in range(22):
            body = {"title": f"Garden job {marker} {n}", "category": "gardening", "pay_type": "fixed",
                    "pay_rate_minor": 1000 + n, "location": {"city": "Berlin", "lat": 52.52, "lng": 13.40}}  # fmt: skip
            assert api.post("/jobs", json=body, headers=token_headers(server, email)).status_code == 201
    page = new_context().new_page()
    page.goto("/")
    page.get_by_label("Keyword").fill(marker)
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Sort").select_option("pay")
    page.get_by_role("button", name="Search").click()
    cards = page.locator(".card")
    expect(cards).to_have_count(20)
    expect(cards.first).to_contain_text(f"Garden job {marker} 21")
    assert "near=52.52%2C13.405" in page.url and "sort=pay" in page.url
    page.get_by_role("button", name="Load more").click()
    expect(cards).to_have_count(22)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    page.get_by_role("button", name="Near me").click()  # the context's geolocation is Berlin
    page.get_by_role("button", name="Search").click()
    expect(cards).to_have_count(20)


def test_main_screens_have_no_serious_accessibility_violations(new_context: Any, server: Server) -> None:
    client_id, email = register_by_api(server, "client", "Ada Access")
    worker_id, worker_email = register_by_api(server, "worker", "Wes Worker")
    with server.api() as api:
        job = api.post("/jobs", json={"title": "Fix a leaking tap", "category": "handyman", "pay_type": "fixed",
                                      "pay_rate_minor": 8000}, headers=token_headers(server, email)).json()  # fmt: skip
        api.post(f"/jobs/{job['id']}/applications", json={}, headers=token_headers(server, worker_email))
    axe = Axe()
    page = new_context().new_page()
    screens = ["/", "/login", "/register", f"/jobs/{job['id']}", f"/users/{worker_id}"]
    signed_in = ["/dashboard", "/jobs/new", f"/jobs/{job['id']}", "/payments", "/profile"]
    problems: dict[str, list[str]] = {}

    def check(path: str) -> None:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        violations = axe.run(page).response["violations"]
        serious = [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]
        if serious:
            problems[path] = serious

    for path in screens:
        check(path)
    sign_in(page, email)
    for path in signed_in:
        check(path)
    page.goto("/dashboard")
    page.locator("summary").first.click()
    expect(page.get_by_role("button", name="Accept")).to_be_visible()
    check("/dashboard")
    assert problems == {}
    assert client_id
