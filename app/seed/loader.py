"""Into the database: read what it holds, COPY the generated rows in one transaction, then ANALYZE.

The data is appended to whatever the database holds: users, jobs, accounts and payments get explicit ids above
both the table's largest id and its sequence (the sequences are moved past them), the other tables take ids
from their sequences.

Why SQL of its own rather than the repositories: at a million rows only binary COPY on the raw asyncpg
connection is fast enough, and the few statements around it (table locks, id bases, moving sequences, adding
generated totals to rows that existed before) have no counterpart in a repository, whose methods move one
row by one event. Where a repository has the statement (the system accounts' upsert), it is called.
"""

import itertools
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tqdm import tqdm

from app.db import UnitOfWork, create_sessionmaker
from app.models import Skill, User
from app.models.enums import AccountKind
from app.repositories.payments import EXTERNAL_FUNDING, PLATFORM_FEES, PaymentRepository
from app.security import hash_password
from app.seed.data import (
    DEMO_ACCOUNTS,
    DEMO_ADMIN,
    DEMO_CITY,
    DEMO_CLIENT,
    DEMO_ROLES,
    DEMO_WORKER,
    DEMO_WORKER_SKILLS,
    GENERATED_PASSWORD,
)
from app.seed.generator import Context, Generator, SeedAccount, SeedUser
from app.seed.plan import SeedPlan
from app.seed.rows import Copy, copies
from app.seed.shifts import seed_shift_demo
from app.settings import Settings

COPY_CHUNK = 50_000
# Tables whose ids the generator assigns (rows of other tables refer to them).
EXPLICIT_ID_TABLES = ("users", "jobs", "accounts", "payments")
TOUCHED_TABLES = (
    "users", "user_skills", "jobs", "job_skills", "applications", "accounts", "payments", "ledger_entries", "reviews",
)  # fmt: skip
Timing = tuple[str, int, float]  # (table, rows, seconds)


# ---------------------------------------------------------------------------------------------------------------
# What the database holds


async def read_context(session: AsyncSession) -> Context:
    """Lock the tables with explicit ids, then read id bases, catalog, system accounts and demo users."""
    # Explicit ids are only safe while nobody else inserts: concurrent writers wait until the commit.
    await session.execute(text(f"LOCK TABLE {', '.join(EXPLICIT_ID_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
    base_ids = await _id_bases(session)
    categories = [
        tuple(row) for row in await session.execute(text("SELECT id, slug, name FROM categories ORDER BY id"))
    ]
    if not categories:
        raise RuntimeError("no categories: run the migrations first")
    skills = {slug: id_ for id_, slug in await session.execute(text("SELECT id, slug FROM skills"))}
    system_accounts = await _system_accounts(session)
    demo_users = await _demo_users(session)
    user_accounts = await _user_accounts(session, demo_users)
    return Context(base_ids, categories, skills, system_accounts, demo_users, user_accounts)


async def _id_bases(session: AsyncSession) -> dict[str, int]:
    """Per table with explicit ids: the larger of its largest id and its sequence's last value."""
    bases = {}
    for table in EXPLICIT_ID_TABLES:
        bases[table] = await session.scalar(
            text(
                f"SELECT GREATEST(COALESCE(MAX(id), 0),"
                f" COALESCE(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), 0))"
                f" FROM {table}"
            )
        )
    return bases


async def _system_accounts(session: AsyncSession) -> dict[str, SeedAccount]:
    """The external and platform accounts: the migration creates them, but never assume."""
    repository = PaymentRepository(session)
    return {
        code: SeedAccount(
            id=await repository.ensure_account(code, kind), code=code, kind=kind.value, user_id=None, created=0.0,
            existing=True,
        )
        for code, kind in ((EXTERNAL_FUNDING, AccountKind.external), (PLATFORM_FEES, AccountKind.platform))
    }  # fmt: skip


async def _demo_users(session: AsyncSession) -> dict[str, SeedUser]:
    """The demo client and worker, if they exist with their demo roles (the generator weaves data around them)."""
    demo_users: dict[str, SeedUser] = {}
    rows = await session.execute(
        text(
            "SELECT id, email, role, extract(epoch FROM created_at), city, lat, lng"
            " FROM users WHERE email = ANY(:emails)"
        ),
        {"emails": [a.email for a in DEMO_ACCOUNTS]},
    )
    for id_, email, role, created, city, lat, lng in rows:
        if role == DEMO_ROLES[email] and role != "admin":
            location = (city, lat, lng) if lat is not None else None
            demo_users[email] = SeedUser(id=id_, role=role, created=float(created), location=location, existing=True)
    return demo_users


async def _user_accounts(session: AsyncSession, users: dict[str, SeedUser]) -> dict[int, SeedAccount]:
    """The accounts the demo users have already, by user id."""
    return {
        user_id: SeedAccount(
            id=id_, code=code, kind=AccountKind.user.value, user_id=user_id, created=0.0, existing=True
        )
        for id_, code, user_id in await session.execute(
            text("SELECT id, code, user_id FROM accounts WHERE user_id = ANY(:ids)"),
            {"ids": [u.id for u in users.values()]},
        )
    }


# ---------------------------------------------------------------------------------------------------------------
# COPY


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def _copy(raw: asyncpg.Connection, copy: Copy) -> Timing:
    started = time.perf_counter()
    done = 0
    with tqdm(
        total=copy.total, desc=f"{copy.table:<14}", unit=" rows", unit_scale=True, disable=None, leave=False
    ) as bar:
        for chunk in _chunks(copy.rows, COPY_CHUNK):
            await raw.copy_records_to_table(copy.table, records=chunk, columns=list(copy.columns))
            done += len(chunk)
            bar.update(len(chunk))
    return copy.table, done, time.perf_counter() - started


async def _load(session: AsyncSession, gen: Generator) -> list[Timing]:
    """COPY every table, add the generated totals to rows that existed before, move the sequences."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    timings = [await _copy(raw, copy) for copy in copies(gen)]
    await _update_existing(raw, gen)
    for table in EXPLICIT_ID_TABLES:
        if gen.next_id[table] > gen.ctx.base_ids[table]:
            await raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), $1)", gen.next_id[table])
    return timings


async def _update_existing(raw: asyncpg.Connection, gen: Generator) -> None:
    """Rows that existed before (system accounts, the demo users and their accounts) are moved by adding."""
    accounts = [*gen.ctx.system_accounts.values(), *gen.ctx.user_accounts.values()]
    await raw.executemany(
        "UPDATE accounts SET balance_minor = balance_minor + $2, updated_at = now() WHERE id = $1",
        [(a.id, a.balance) for a in accounts if a.existing and a.balance],
    )
    await raw.executemany(
        "UPDATE users SET rating_sum = rating_sum + $2, rating_count = rating_count + $3,"
        " completed_jobs = completed_jobs + $4, updated_at = now() WHERE id = $1",
        [
            (u.id, u.rating_sum, u.rating_count, u.completed_jobs)
            for u in gen.ctx.demo_users.values()
            if u.rating_count or u.completed_jobs
        ],
    )


# ---------------------------------------------------------------------------------------------------------------
# Entry points


async def seed(sessionmaker: async_sessionmaker[UnitOfWork], settings: Settings, plan: SeedPlan) -> None:
    """Append `plan`'s worth of generated data, in one transaction, then ANALYZE the tables."""
    started = time.perf_counter()
    # One argon2 hash for every generated user: hashing 50k passwords would take longer than the rest.
    password_hash = hash_password(GENERATED_PASSWORD, settings)
    async with sessionmaker() as session, session.begin():
        if await session.scalar(select(User.id).limit(1)) is None:
            # The README's demo logins exist whichever command filled the database first.
            await _create_demo_accounts(session, settings)
            await session.flush()
        gen = Generator(plan, settings, await read_context(session), password_hash, time.time())
        gen.build()
        print(f"planned in {time.perf_counter() - started:.1f}s; loading with COPY")
        timings = await _load(session, gen)
    analyze_started = time.perf_counter()
    async with sessionmaker() as session, session.begin():
        await session.execute(text(f"ANALYZE {', '.join(TOUCHED_TABLES)}"))
    for table, rows, seconds in timings:
        print(f"  {table:<14} {rows:>10,} rows {seconds:7.1f}s")
    print(f"  {'ANALYZE':<14} {'':>10}      {time.perf_counter() - analyze_started:7.1f}s")
    loaded = {table: rows for table, rows, _ in timings}
    print(
        f"seeded {loaded['users']:,} users, {loaded['jobs']:,} jobs, {loaded['applications']:,} applications,"
        f" {loaded['payments']:,} payments, {loaded['reviews']:,} reviews in {time.perf_counter() - started:.1f}s"
        f" (generated users' password: {GENERATED_PASSWORD})"
    )


async def _create_demo_accounts(session: AsyncSession, settings: Settings) -> None:
    skills = list(await session.scalars(select(Skill).where(Skill.slug.in_(DEMO_WORKER_SKILLS))))
    year_ago = datetime.now(UTC) - timedelta(days=400)
    city, lat, lng = DEMO_CITY
    details: dict[str, dict[str, Any]] = {
        DEMO_CLIENT.email: {
            "phone": "+49 30 5550100",
            "headline": "Homeowner in Berlin",
            "city": city,
            "lat": lat,
            "lng": lng,
        },
        DEMO_WORKER.email: {
            "phone": "+49 30 5550200",
            "headline": "Handyman: plumbing, carpentry, painting and furniture assembly",
            "bio": "Ten years of small repairs in Berlin flats. Punctual, tidy, and I bring my own tools.",
            "hourly_rate_minor": 3500,
            "city": city,
            "lat": round(lat + 0.01, 6),
            "lng": round(lng + 0.02, 6),
            "payout_method": "bank_transfer",
            "payout_account": "DE89370400440532013000",
            "skills": skills,
        },
        DEMO_ADMIN.email: {},
    }
    for account in DEMO_ACCOUNTS:
        session.add(
            User(
                email=account.email,
                password_hash=hash_password(account.password, settings),
                full_name=account.full_name,
                role=account.role,
                created_at=year_ago,
                updated_at=year_ago,
                **details[account.email],
            )
        )


async def seed_demo_if_empty(engine: AsyncEngine, settings: Settings) -> None:
    """On an empty database: the demo accounts, then a demo-size dataset woven around them."""
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            # A second server starting at the same moment waits here, then finds the users.
            await session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            if await session.scalar(select(User.id).limit(1)) is not None:
                return
            await _create_demo_accounts(session, settings)
        await seed(sessionmaker, settings, SeedPlan())
        async with sessionmaker() as session, session.begin():
            await seed_shift_demo(session, settings)
        logins = ", ".join(f"{a.email} / {a.password}" for a in DEMO_ACCOUNTS)
        print(f"demo data ready; log in as {logins}")
    finally:
        await engine.dispose()
