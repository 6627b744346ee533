"""Notifications, messages and account e-mails in the browser: the bell and the thread update live from the
stream (in-process, no Redis), and the links of the outbox's e-mails lead to working landing pages."""

import asyncio
import re
import subprocess
import sys
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.e2e.conftest import ROOT, Server
from tests.e2e.test_web_app import PASSWORD, post_job_by_api, register_by_api, sign_in


def bell(page: Page, unread: int) -> Any:
    return page.get_by_role("link", name=f"Notifications, {unread} unread")


async def test_the_bell_and_the_thread_update_live(new_context: Any, server: Server) -> None:
    _, client_email = await register_by_api(server, "client", "Cora Client")
    job = await post_job_by_api(server, client_email, title="Hang three lamps")
    _, worker_email = await register_by_api(server, "worker", "Wim Worker")
    client = await (await new_context()).new_page()
    await sign_in(client, client_email)
    await expect(bell(client, 0)).to_be_visible()
    worker = await (await new_context()).new_page()
    await sign_in(worker, worker_email)

    # A worker applies: the client's bell counts it without a reload.
    loads: list[str] = []
    client.on("framenavigated", lambda frame: loads.append(frame.url) if frame == client.main_frame else None)
    await worker.goto(f"/jobs/{job['id']}")
    await worker.get_by_role("button", name="Apply").click()
    await worker.get_by_label("Cover letter").fill("I have a ladder.")
    await worker.get_by_role("button", name="Send application").click()
    await expect(worker.get_by_role("status")).to_contain_text("Application sent")
    await expect(bell(client, 1)).to_be_visible()
    assert loads == []

    # The client follows the bell to the notification, then to the applicant's thread.
    await bell(client, 1).click()
    await client.get_by_role("link", name="Wim Worker applied to Hang three lamps").click()
    await client.get_by_role("link", name="Messages with Wim Worker").click()
    await expect(client.get_by_role("heading", level=1)).to_have_text("Application for Hang three lamps")
    # The worker opens the same thread from their applications.
    await worker.goto("/applications")
    await worker.get_by_role("link", name="Messages about Hang three lamps").click()
    await expect(worker.get_by_text("No messages yet.")).to_be_visible()

    # Messages are plain text: markup is shown, never interpreted.
    await client.get_by_label("Message", exact=True).fill("Parking <b>behind</b> the house.")
    await client.get_by_role("button", name="Send").click()
    await expect(client.get_by_label("Message", exact=True)).to_have_value("")
    await expect(worker.get_by_text("Parking <b>behind</b> the house.")).to_be_visible()
    assert await worker.locator(".thread b").count() == 0
    await expect(bell(worker, 1)).to_be_visible()  # the message: their own application notified only the client
    await worker.get_by_label("Message", exact=True).fill("See you at nine.")
    await worker.get_by_role("button", name="Send").click()
    await expect(client.get_by_text("See you at nine.")).to_be_visible()
    await expect(bell(client, 2)).to_be_visible()

    # "Mark all read" zeroes the client's bell; the worker reads one notification at a time.
    await client.get_by_role("link", name="Notifications, 2 unread").click()
    await expect(client.get_by_role("listitem").filter(has_text="New message from Wim Worker")).to_be_visible()
    await client.get_by_role("button", name="Mark all read").click()
    await expect(bell(client, 0)).to_be_visible()
    await expect(client.get_by_role("button", name="Mark read")).to_have_count(0)
    await worker.goto("/notifications")
    first = worker.get_by_role("listitem").filter(has_text="New message from Cora Client")
    await first.get_by_role("button", name="Mark read").click()
    await expect(bell(worker, 0)).to_be_visible()
    await expect(first.get_by_role("button", name="Mark read")).to_have_count(0)
    await worker.reload()
    await expect(bell(worker, 0)).to_be_visible()


def _start_task_worker(server: Server, log: Path) -> subprocess.Popen[bytes]:
    """`marketplace worker` on the server's database and data dir: it sends the queued e-mails to the outbox."""
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=server.environment,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip


async def _email_to(server: Server, address: str, subject: str) -> EmailMessage:
    deadline = time.monotonic() + 30  # the worker starts, then sends what is queued
    while time.monotonic() < deadline:
        for path in server.outbox.glob("*.eml") if server.outbox.is_dir() else []:
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if address in str(message["To"]) and subject in str(message["Subject"]):
                return message
        await asyncio.sleep(0.2)
    raise AssertionError(f"no e-mail to {address} about {subject!r} in {server.outbox}")


def _link(message: EmailMessage, server: Server, page: str) -> str:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = re.search(rf"{re.escape(server.url)}{page}#token=[\w\-.~%]+", text.get_content())
    assert found, text.get_content()
    return found.group(0)


async def test_password_reset_and_email_verification_through_the_outbox(
    new_context: Any, server: Server, tmp_path: Path
) -> None:
    _, email = await register_by_api(server, "worker", "Rosa Reset")
    page = await (await new_context()).new_page()
    await page.goto("/login")
    await page.get_by_role("link", name="Forgot password?").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Send reset link").click()
    await expect(page.get_by_role("status")).to_contain_text("If an account has this address")

    worker = _start_task_worker(server, tmp_path / "worker.log")
    try:
        reset = await _email_to(server, email, "Reset your Marketplace password")
        verification = await _email_to(server, email, "Confirm your e-mail address")
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    # The reset link sets a new password, which then signs in (and the old one no longer does).
    await page.goto(_link(reset, server, "/reset-password"))
    new_password = "a-brand-new-password-1"
    await page.get_by_label("New password").fill(new_password)
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is set")
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(new_password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1") as api:
        old = await api.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert old.status_code == 401
    # A second use of the link is refused, with the problem's detail.
    await page.goto(_link(reset, server, "/reset-password"))
    await page.get_by_label("New password").fill("yet-another-password-2")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("alert")).not_to_be_empty()

    # The verification link confirms on load; the profile shows the flag.
    await page.goto("/profile")
    await expect(page.get_by_text("not verified yet")).to_be_visible()
    await page.goto(_link(verification, server, "/verify-email"))
    await expect(page.get_by_role("status")).to_contain_text("Your e-mail address is verified")
    await page.goto("/profile")
    await expect(page.get_by_text(f"{email} (verified)")).to_be_visible()
