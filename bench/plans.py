"""Query-plan check: run every read endpoint against a (large) dataset, EXPLAIN ANALYZE each statement it
sent, and flag sequential scans of large tables and plans that read far more rows than they return.

    python -m bench.plans --database-url postgresql://postgres@127.0.0.1/marketplace_bench

The same check runs in CI on a small seeded dataset (tests/test_plans.py).
"""

import argparse
import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine, create_sessionmaker
from app.main import create_app
from app.security import create_access_token
from app.settings import Settings
from app.state import Database

API = "/api/v1"
LARGE_TABLE_ROWS = 10_000  # a sequential scan of a table this big is a finding
MIN_EXAMINED = 2_000  # reading this many rows is fine whatever the query returns
EXAMINED_PER_RETURNED = 50  # beyond that, rows read per row returned
# Endpoints that must read more than they return, by design.
EXPECTED_WIDE_READS = {
    "list_best_applicants": "ranks every pending applicant of the job (bounded by one job's applicants)",
    "count_unread_notifications": "counts the caller's unread notifications (in the partial index of unread ones)",
}
# Indexes that serve writes only (this check runs the read endpoints).
WRITE_PATH_INDEXES = {
    "ix_refresh_tokens_family_id": "POST /auth/refresh of a reused token and POST /auth/logout revoke a family",
    "ix_timesheets_scheduled": "the scheduler's no-show sweep (app/tasks/shifts.py)",
    "ix_timesheets_submitted": "the scheduler's auto-approval sweep (app/tasks/shifts.py)",
    "ix_shifts_unreminded": 'the scheduler\'s "shift starting within an hour" reminder (app/tasks/shifts.py)',
    "ix_disputes_job": "completion and cancellation name a job's open dispute",
    "ix_refresh_tokens_user_id": "POST /auth/password-reset/confirm revokes every token of the account",
    "ix_account_tokens_user_id": "POST /auth/password-reset/confirm spends the account's other reset links",
}
# Indexes of read endpoints whose tables the generated dataset does not fill yet (shift work, issue #10).
UNSEEDED_INDEXES = {
    "ix_timesheets_job_shift_worker": "GET /jobs/{id}/timesheets (and completion's pay)",
    "ix_disputes_status_created": "GET /disputes?status=",
}


@dataclass
class Statement:
    sql: str
    params: tuple[Any, ...]


@dataclass
class Finding:
    endpoint: str
    sql: str
    problems: list[str]
    plan: dict[str, Any] = field(repr=False)


@contextmanager
def capture(engine: AsyncEngine) -> Iterator[list[Statement]]:
    """Collect the SELECT statements (and their parameters) sent on `engine`."""
    captured: list[Statement] = []

    def listen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            captured.append(Statement(sql, tuple(params or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield captured
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_problems(plan: dict[str, Any], table_rows: dict[str, float], *, wide_ok: bool = False) -> list[str]:
    """What is wrong with one EXPLAIN (ANALYZE, FORMAT JSON) plan tree."""
    problems = []
    examined = 0.0
    for node in _nodes(plan):
        loops = node.get("Actual Loops", 1) or 1
        relation = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and table_rows.get(relation or "", 0) >= LARGE_TABLE_ROWS:
            problems.append(f"sequential scan of {relation} ({table_rows[relation or '']:,.0f} rows)")
        if relation is not None or node["Node Type"].startswith("Bitmap Index"):
            removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
            if node["Node Type"].startswith("Bitmap Index"):
                continue  # its rows are counted again by the Bitmap Heap Scan above it
            examined += (node.get("Actual Rows", 0) + removed) * loops
    returned = plan.get("Actual Rows", 0)
    if not wide_ok and examined > max(MIN_EXAMINED, EXAMINED_PER_RETURNED * max(returned, 1)):
        problems.append(f"reads {examined:,.0f} rows to return {returned:,.0f}")
    return problems


async def explain(engine: AsyncEngine, statement: Statement) -> dict[str, Any]:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        rows = await raw.driver_connection.fetch(  # type: ignore[union-attr]
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, *statement.params
        )
        await conn.rollback()
    document = rows[0][0]  # SQLAlchemy's asyncpg connection decodes json columns already
    plan: dict[str, Any] = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return plan


async def table_sizes(engine: AsyncEngine) -> dict[str, float]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        )
        return {name: float(n) for name, n in rows}


async def scenario_urls(engine: AsyncEngine, settings: Settings) -> list[tuple[str, str, dict[str, str]]]:
    """(name, url, headers) for every read endpoint, aimed at the heaviest rows of the dataset."""
    async with engine.connect() as conn:

        async def one(sql: str) -> Any:
            return (await conn.execute(text(sql))).scalar_one()

        busy_job = await one("SELECT id FROM jobs WHERE status = 'open' ORDER BY applications_count DESC LIMIT 1")
        owner = await one(f"SELECT client_id FROM jobs WHERE id = {busy_job}")
        big_client = await one("SELECT client_id FROM jobs GROUP BY client_id ORDER BY count(*) DESC LIMIT 1")
        reviewed = await one("SELECT reviewee_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        reviewer = await one("SELECT reviewer_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        applicant = await one("SELECT worker_id FROM applications GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        application = await one(f"SELECT id FROM applications WHERE worker_id = {applicant} LIMIT 1")
        payer = await one(
            "SELECT payer_id FROM payments WHERE payer_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        )
        payment = await one(f"SELECT id FROM payments WHERE payer_id = {payer} LIMIT 1")
        city = (await conn.execute(text("SELECT lat, lng FROM jobs WHERE lat IS NOT NULL LIMIT 1"))).one()
        # notifications and messages: present when the dataset has them (tests/test_plans.py adds some)
        notified = await conn.scalar(
            text("SELECT user_id FROM notifications GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        )
        thread = (
            await conn.execute(
                text(
                    "SELECT m.application_id, a.worker_id FROM messages m JOIN applications a"
                    " ON a.id = m.application_id GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one_or_none()
        rare_skill = await one(
            "SELECT s.slug FROM skills s LEFT JOIN job_skills js ON js.skill_id = s.id "
            "GROUP BY s.slug ORDER BY count(js.job_id), s.slug LIMIT 1"
        )

    def auth(user_id: int, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(user_id, role, settings)}"}

    near = f"{city[0]:.4f},{city[1]:.4f}"
    return [
        ("list_jobs newest", f"{API}/jobs", {}),
        ("list_jobs pay", f"{API}/jobs?sort=pay", {}),
        ("list_jobs q", f"{API}/jobs?q=plumbing", {}),
        ("list_jobs q rare", f"{API}/jobs?q=zzzxqy", {}),
        ("list_jobs category", f"{API}/jobs?category=software", {}),
        ("list_jobs skill", f"{API}/jobs?skill=python&skill=sql", {}),
        ("list_jobs rare skill", f"{API}/jobs?skill={rare_skill}", {}),
        ("list_jobs pay range", f"{API}/jobs?pay_min=5000&pay_max=8000&sort=pay", {}),
        ("list_jobs near", f"{API}/jobs?near={near}&radius_km=25&sort=distance", {}),
        ("list_jobs q near", f"{API}/jobs?q=cleaning&near={near}&radius_km=50", {}),
        ("get_job", f"{API}/jobs/{busy_job}", {}),
        ("list_job_applications", f"{API}/jobs/{busy_job}/applications", auth(owner, "client")),
        ("list_job_applications pending", f"{API}/jobs/{busy_job}/applications?status=pending", auth(owner, "client")),
        ("list_best_applicants", f"{API}/jobs/{busy_job}/best-applicants", auth(owner, "client")),
        ("get_application", f"{API}/applications/{application}", auth(applicant, "worker")),
        ("get_me", f"{API}/users/me", auth(reviewed, "worker")),
        ("get_user", f"{API}/users/{reviewed}", {}),
        ("list_user_reviews", f"{API}/users/{reviewed}/reviews", {}),
        ("list_user_reviews unread", f"{API}/users/{reviewed}/reviews?filter=unread", auth(reviewed, "worker")),
        ("list_user_reviews recent", f"{API}/users/{reviewed}/reviews?filter=recent", {}),
        ("list_user_given_reviews", f"{API}/users/{reviewer}/reviews/given", {}),
        ("list_user_jobs", f"{API}/users/{big_client}/jobs", {}),
        ("list_user_jobs owner", f"{API}/users/{big_client}/jobs", auth(big_client, "client")),
        ("list_user_payments", f"{API}/users/{payer}/payments", auth(payer, "client")),
        ("list_my_applications", f"{API}/users/me/applications", auth(applicant, "worker")),
        ("get_payment", f"{API}/payments/{payment}", auth(payer, "client")),
        ("list_categories", f"{API}/categories", {}),
        ("list_skills", f"{API}/skills", {}),
        *(
            [
                ("list_notifications", f"{API}/notifications", auth(notified, "client")),
                ("list_notifications unread", f"{API}/notifications?unread=true", auth(notified, "client")),
                ("count_unread_notifications", f"{API}/notifications/unread-count", auth(notified, "client")),
                ("get_notification_settings", f"{API}/users/me/notification-settings", auth(notified, "client")),
            ]
            if notified is not None
            else []
        ),
        *(
            [("list_messages", f"{API}/applications/{thread[0]}/messages", auth(thread[1], "worker"))]
            if thread is not None
            else []
        ),
    ]


async def check(engine: AsyncEngine, settings: Settings) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Run every scenario, EXPLAIN each statement; (findings, one report row per statement)."""
    app = create_app(
        settings.model_copy(update={"cache_enabled": False}), database=Database(engine, create_sessionmaker(engine))
    )
    sizes = await table_sizes(engine)
    findings: list[Finding] = []
    report: list[dict[str, Any]] = []
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://plans") as http,
    ):
        for name, url, headers in await scenario_urls(engine, settings):
            with capture(engine) as statements:
                response = await http.get(url, headers=headers)
            assert response.status_code == 200, (name, response.status_code, response.text)
            for statement in statements:
                plan = await explain(engine, statement)
                problems = plan_problems(plan, sizes, wide_ok=name.split()[0] in EXPECTED_WIDE_READS)
                indexes = sorted({n["Index Name"] for n in _nodes(plan) if "Index Name" in n})
                report.append(
                    {
                        "endpoint": name,
                        "ms": plan.get("Actual Total Time", 0.0),
                        "indexes": indexes,
                        "rows": plan.get("Actual Rows", 0),
                        "problems": problems,
                    }
                )
                if problems:
                    findings.append(Finding(name, statement.sql, problems, plan))
    return findings, report


async def unused_indexes(engine: AsyncEngine, report: list[dict[str, Any]]) -> list[str]:
    """Indexes of the migrations that no checked plan used (primary keys and unique constraints aside)."""
    used = {index for row in report for index in row["indexes"]}
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix\\_%'")
        )
        exempt = WRITE_PATH_INDEXES | UNSEEDED_INDEXES
        return sorted(name for (name,) in rows if name not in used and name not in exempt)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url)
    engine = create_engine(settings.database_url, settings)
    try:
        findings, report = await check(engine, settings)
        unused = await unused_indexes(engine, report)
    finally:
        await engine.dispose()
    for row in report:
        print(
            f"{row['endpoint']:<32} {row['ms']:8.2f} ms {row['rows']:>6} rows  {', '.join(row['indexes'])}"
            + (f"  !! {'; '.join(row['problems'])}" if row["problems"] else "")
        )
    print(f"indexes no plan used: {', '.join(unused) or 'none'}")
    raise SystemExit(1 if findings else 0)


if __name__ == "__main__":
    asyncio.run(main())
