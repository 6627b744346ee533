"""Shift work in the browser: a job with a shift, check-in and out on site, hours submitted, approved or disputed."""

import re
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_web_app import register_by_api, register_in_app, token_headers

# The job's place, and where the workers' browsers say they are (check-in is geofenced).
BERLIN = {"city": "Berlin", "lat": 52.52, "lng": 13.405}

LOCAL_TIME_IN = """minutes => {
  const d = new Date(Date.now() + minutes * 60000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""


async def on_site(new_context: Any) -> Page:
    context = await new_context()
    await context.grant_permissions(["geolocation"])
    await context.set_geolocation({"latitude": BERLIN["lat"], "longitude": BERLIN["lng"]})
    page: Page = await context.new_page()
    return page


async def serious_violations(page: Page) -> list[str]:
    # Not "networkidle": a signed-in page holds its notification stream open.
    await page.get_by_text("Loading…").first.wait_for(state="hidden")
    violations = (await Axe().run(page)).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


async def api_get(server: Server, email: str, path: str) -> Any:
    async with server.api() as api:
        response = await api.get(path, headers=await token_headers(server, email))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_shift_from_posting_to_approved_and_disputed_hours(new_context: Any, server: Server) -> None:
    client = await (await new_context()).new_page()
    client_email = await register_in_app(client, "client", "Sophie Shifts")

    # The client posts an hourly job for two workers with one shift starting in 10 minutes (check-in is open).
    await client.goto("/jobs/new")
    await client.get_by_label("Title").fill("Stock the shelves")
    await client.get_by_label("Category").select_option("handyman")
    await client.get_by_label("Pay type").select_option("hourly")
    await client.get_by_label("Pay rate").fill("20")
    await client.get_by_label("Openings").fill("2")
    await client.get_by_label("City").fill("Berlin")
    await client.get_by_role("button", name="Add shift").click()
    await client.get_by_label("Shift start").fill(await client.evaluate(LOCAL_TIME_IN, 10))
    await client.get_by_label("Shift end").fill(await client.evaluate(LOCAL_TIME_IN, 70))
    await expect(client.get_by_label("Hours")).to_be_disabled()  # an hourly job's hours come from its shifts
    await client.get_by_role("button", name="Post job").click()
    await client.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_id = int(client.url.rsplit("/", 1)[1])
    job = await api_get(server, client_email, f"/jobs/{job_id}")
    assert len(job["shifts"]) == 1 and job["hours"] == 1 and job["total_cost_minor"] == 2000 * 1 * 2
    assert job["location"]["lat"] == BERLIN["lat"] and job["location"]["lng"] == BERLIN["lng"]
    await expect(client.locator(".shifts li")).to_have_count(1)
    await client.get_by_role("button", name="Fund escrow").click()
    await expect(client.get_by_text("$40.00 held")).to_be_visible()

    # Two workers apply (one in the app, one by API); the client hires both from the best applicants.
    worker = await on_site(new_context)
    await register_in_app(worker, "worker", "Walter Shiftworker")
    await worker.goto(f"/jobs/{job_id}")
    await worker.get_by_role("button", name="Apply").click()
    await worker.get_by_role("button", name="Send application").click()
    await expect(worker.get_by_role("status")).to_contain_text("Application sent")
    _, other_email = await register_by_api(server, "worker", "Olga Other")
    other = await token_headers(server, other_email)
    async with server.api() as api:
        applied = await api.post(f"/jobs/{job_id}/applications", json={}, headers=other)
        assert applied.status_code == 201, applied.text
    await client.reload()
    ranking = client.locator("table.ranking tbody tr")
    await expect(ranking).to_have_count(2)
    await expect(client.locator("table.ranking thead")).to_contain_text("Reliability")
    await ranking.filter(has_text="Walter Shiftworker").get_by_role("button", name="Accept").click()
    await expect(client.get_by_text("hired 1 of 2")).to_be_visible()
    await ranking.filter(has_text="Olga Other").get_by_role("button", name="Accept").click()
    await expect(client.get_by_text("hired 2 of 2")).to_be_visible()

    # The worker checks in and out on site and submits their hours, each step shown as its status.
    await worker.reload()
    mine = worker.locator("table.timesheets tbody tr")
    await expect(mine).to_have_count(1)  # their own timesheet only
    await expect(mine).to_contain_text("scheduled")
    await mine.get_by_role("button", name="Check in").click()
    await expect(mine).to_contain_text("checked in")
    await mine.get_by_role("button", name="Check out").click()
    await expect(mine).to_contain_text("checked out")
    assert await serious_violations(worker) == []  # the hours form in the table
    await mine.get_by_label("Minutes worked").fill("50")
    await mine.get_by_label("Note").fill("Shelves done, left early.")
    await mine.get_by_role("button", name="Submit hours").click()
    await expect(mine).to_contain_text("submitted")
    await expect(worker.get_by_role("button", name="Cancel my booking")).to_be_visible()

    # The other worker does the same through the API.
    shift_id = job["shifts"][0]["id"]
    async with server.api() as api:
        position = {"lat": BERLIN["lat"], "lng": BERLIN["lng"]}
        for step in ("check-in", "check-out"):
            answer = await api.post(f"/shifts/{shift_id}/{step}", json=position, headers=other)
            assert answer.status_code == 200, answer.text
        submitted = await api.post(f"/timesheets/{answer.json()['id']}/submit", json={"minutes": 60}, headers=other)
        assert submitted.status_code == 200, submitted.text

    # The client sees every timesheet: approves Walter's, disputes Olga's.
    await client.reload()
    sheets = client.locator("table.timesheets tbody tr")
    await expect(sheets).to_have_count(2)
    walter = sheets.filter(has_text="Walter Shiftworker")
    await expect(walter).to_contain_text("claimed 50")
    await walter.get_by_role("button", name="Approve").click()
    await expect(walter).to_contain_text("approved")
    olga = sheets.filter(has_text="Olga Other")
    await olga.get_by_role("button", name="Dispute").click()
    assert await serious_violations(client) == []  # the dispute form in the table
    await olga.get_by_label("Proposed minutes").fill("30")
    await olga.get_by_label("Reason").fill("Arrived half an hour late.")
    await olga.get_by_role("button", name="Send dispute").click()
    await expect(olga).to_contain_text("disputed")

    # What the API reports afterwards.
    listed = (await api_get(server, client_email, f"/jobs/{job_id}/timesheets"))["items"]
    by_worker = {t["worker"]["full_name"]: t for t in listed}
    approved, disputed = by_worker["Walter Shiftworker"], by_worker["Olga Other"]
    assert approved["status"] == "approved"
    assert (approved["claimed_minutes"], approved["approved_minutes"]) == (50, 50)
    assert approved["note"] == "Shelves done, left early."
    assert approved["checked_in_at"] and approved["checked_out_at"] and approved["recorded_minutes"] is not None
    assert disputed["status"] == "disputed" and disputed["approved_minutes"] is None
    dispute = await api_get(server, client_email, f"/disputes/{disputed['dispute_id']}")
    assert (dispute["kind"], dispute["status"], dispute["timesheet_id"]) == ("timesheet", "open", disputed["id"])
    assert (dispute["proposed_minutes"], dispute["reason"]) == (30, "Arrived half an hour late.")
    await client.get_by_role("button", name="Mark completed").click()  # an open dispute blocks completion
    await expect(client.get_by_role("alert")).to_contain_text(f"Dispute {dispute['id']} is open")
    job = await api_get(server, client_email, f"/jobs/{job_id}")
    assert job["status"] == "in_progress"

    # The check-in counts in the worker's reliability, shown on their profile.
    walter_id = approved["worker"]["id"]
    profile = await api_get(server, client_email, f"/users/{walter_id}")
    assert profile["reliability"] == {"attended": 1, "no_shows": 0, "late_cancellations": 0, "score": 1.0}
    await client.goto(f"/users/{walter_id}")
    shown = "Reliability: 100% (1 attended, 0 no-shows, 0 late cancellations)"
    await expect(client.get_by_text("Reliability:")).to_have_text(shown)
