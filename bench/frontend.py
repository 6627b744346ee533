"""Web app benchmark: the JavaScript a first visit downloads, and the time from navigation to the first job
cards on screen, in Debian's Chromium, against `marketplace serve` with the demo data on a fresh database.
Optionally takes the screenshots of the main screens for the docs.

    python -m bench.frontend [--server-url postgresql://postgres@127.0.0.1:5432/postgres] [--runs 20]
    python -m bench.frontend --screenshots docs/img

Cold = a new browser context (empty cache) per run; warm = a reload in the same context (the hashed assets
come from the cache, the HTML is revalidated). The time is measured in the page: `performance.now()` (zero at
navigation start) when a MutationObserver first sees a job card.
"""

import argparse
import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from app.web import WEB_DIR

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
FIRST_CARD = """
window.__firstCard = null;
new MutationObserver((_, observer) => {
  if (document.querySelector('.card')) { window.__firstCard = performance.now(); observer.disconnect(); }
}).observe(document, { childList: true, subtree: true });
"""


def first_visit_js() -> tuple[int, int]:
    """(raw, gzip) bytes of the scripts index.html loads."""
    html = (WEB_DIR / "index.html").read_text()
    names = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(
        r'rel="modulepreload"[^>]*href="([^"]+)"', html
    )
    blobs = [(WEB_DIR / n.lstrip("/")).read_bytes() for n in names]
    return sum(map(len, blobs)), sum(len(gzip.compress(b, compresslevel=9)) for b in blobs)


@contextmanager
def demo_server(server_url: str) -> Iterator[str]:
    """`marketplace serve` (migrate, demo data, uvicorn) on a new database, dropped afterwards."""
    name = f"marketplace_frontend_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(server_url)
    psql = ["psql", "-h", admin.host or "127.0.0.1", "-p", str(admin.port or 5432), "-U", admin.username or "postgres"]
    subprocess.run([*psql, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "APP_DATABASE_URL": admin.set(database=name).render_as_string(hide_password=False)}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/marketplace"), "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            raise RuntimeError("marketplace serve did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        subprocess.run([*psql, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)


def time_to_cards(page: Any, url: str, reload: bool) -> float:
    if reload:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_selector(".card")
    return float(page.evaluate("window.__firstCard"))


def measure(browser: Any, url: str, runs: int) -> tuple[list[float], list[float]]:
    cold, warm = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(FIRST_CARD)
        page = context.new_page()
        cold.append(time_to_cards(page, f"{url}/", reload=False))
        warm.append(time_to_cards(page, f"{url}/", reload=True))
        context.close()
    return cold, warm


SHIFT_JOB = "Warehouse night shifts"  # the demo job with a timesheet in every state (app/seed/shifts.py)


def screenshots(browser: Any, url: str, out: Path) -> None:
    """The main screens as the demo client and worker see them."""
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector(".card")
    page.screenshot(path=out / "web-search.png")
    page.goto("/login")
    page.get_by_label("Email").fill("client@example.com")
    page.get_by_label("Password").fill("client-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    page.goto("/dashboard")
    # An open job someone applied to (the demo's shift jobs are hired already).
    open_jobs = page.get_by_role("region", name=re.compile(r"^Open")).locator("details")
    open_jobs.filter(has_not_text=" 0 applications").first.locator("summary").click()
    page.get_by_role("button", name="Accept").first.wait_for()
    page.screenshot(path=out / "web-dashboard.png")
    job = page.get_by_role("link", name="Open the job page").first
    job.click()
    page.get_by_role("heading", name="Best applicants").wait_for()
    page.screenshot(path=out / "web-job-owner.png", full_page=True)
    page.goto("/jobs/new")
    page.get_by_label("Title").wait_for()
    page.screenshot(path=out / "web-post-job.png")
    page.goto("/payments")
    page.get_by_role("heading", name="My payments").wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "web-payments.png")
    page.goto("/dashboard")
    page.locator("details", has_text=SHIFT_JOB).locator("summary").click()
    page.locator("details", has_text=SHIFT_JOB).get_by_role("link", name="Open the job page").click()
    page.locator("table.timesheets").wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "web-timesheets-owner.png", full_page=True)
    shift_job = page.url
    context.close()
    worker = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url).new_page()
    worker.goto("/login")
    worker.get_by_label("Email").fill("worker@example.com")
    worker.get_by_label("Password").fill("worker-password")
    worker.get_by_role("button", name="Sign in").click()
    worker.get_by_role("button", name="Sign out").wait_for()
    worker.goto("/applications")
    worker.get_by_role("heading", name="My applications").wait_for()
    worker.wait_for_load_state("networkidle")
    worker.screenshot(path=out / "web-applications.png")
    worker.goto(shift_job)
    worker.locator("table.timesheets").wait_for()
    worker.wait_for_load_state("networkidle")
    worker.screenshot(path=out / "web-timesheets-worker.png", full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, help="write screenshots of the main screens here instead")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    raw, gz = first_visit_js()
    with demo_server(args.server_url) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.screenshots:
            screenshots(browser, url, args.screenshots)
            print(f"screenshots in {args.screenshots}")
            return
        measure(browser, url, 2)  # warm-up: the server's first answers, its response cache
        cold, warm = measure(browser, url, args.runs)
        version = browser.version
        browser.close()

    def row(name: str, values: list[float]) -> str:
        q = statistics.quantiles(values, n=20)
        return f"| {name} | {statistics.median(values):.0f} ms | {q[18]:.0f} ms | {min(values):.0f} ms |"

    print(f"First-visit JavaScript: {raw / 1024:.1f} kB, {gz / 1024:.1f} kB gzip (budget 60 kB gzip)")
    print(f"Chromium {version}, {args.runs} runs, navigation to the first job card on screen:\n")
    print("| visit | median | p95 | best |\n|---|---|---|---|")
    print(row("cold (empty cache)", cold))
    print(row("warm (reload)", warm))


if __name__ == "__main__":
    sys.exit(main())
