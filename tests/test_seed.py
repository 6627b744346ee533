"""The seed generator without a database: the same plan, context and clock give the same rows, and the rows keep
the invariants the API maintains (app/seed/generator.py). tests/test_plans.py loads a large dataset for real."""

from collections import Counter, defaultdict
from typing import Any

import pytest

from app.models.enums import AccountKind
from app.repositories.payments import EXTERNAL_FUNDING, PLATFORM_FEES
from app.seed import SeedPlan
from app.seed.data import DEMO_CLIENT, DEMO_WORKER, TOPICS
from app.seed.generator import Context, Generator, SeedAccount, SeedUser
from app.seed.rows import copies
from app.settings import Settings

NOW = 1_760_000_000.0
PLAN = SeedPlan(users=120, jobs=300, applications=2_500, payments=120, reviews=150, random_seed=3)
Rows = dict[str, list[tuple[Any, ...]]]


def _context(*, demo: bool) -> Context:
    categories = [(i, slug, slug.title()) for i, slug in enumerate(TOPICS, 1)] + [(99, "misc", "Odd jobs")]
    skill_slugs = sorted({slug for topic in TOPICS.values() for slug in topic.skills})
    kinds = ((EXTERNAL_FUNDING, AccountKind.external), (PLATFORM_FEES, AccountKind.platform))
    system = {
        code: SeedAccount(id=i, code=code, kind=kind.value, user_id=None, created=0.0, existing=True)
        for i, (code, kind) in enumerate(kinds, 1)
    }
    users: dict[str, SeedUser] = {}
    if demo:
        created = NOW - 400 * 86_400
        users = {
            DEMO_CLIENT.email: SeedUser(id=1, role="client", created=created, location=None, existing=True),
            DEMO_WORKER.email: SeedUser(id=2, role="worker", created=created, location=None, existing=True),
        }
    return Context(
        base_ids={"users": 3 if demo else 0, "jobs": 0, "accounts": 2, "payments": 0},
        categories=categories,
        skills={slug: 100 + i for i, slug in enumerate(skill_slugs)},
        system_accounts=system,
        demo_users=users,
        user_accounts={},
    )


def _generate(plan: SeedPlan, *, demo: bool) -> tuple[Generator, Rows]:
    gen = Generator(plan, Settings(), _context(demo=demo), "hash", NOW)
    gen.build()
    return gen, {copy.table: list(copy.rows) for copy in copies(gen)}


def test_same_plan_context_and_clock_give_the_same_rows() -> None:
    _, first = _generate(PLAN, demo=True)
    _, again = _generate(PLAN, demo=True)
    _, other = _generate(SeedPlan(**{**PLAN.__dict__, "random_seed": 4}), demo=True)
    assert first == again
    assert first["jobs"] != other["jobs"]


@pytest.mark.parametrize("demo", [True, False])
def test_generated_rows_keep_the_api_invariants(demo: bool) -> None:
    gen, rows = _generate(PLAN, demo=demo)
    # every payment's legs sum to zero, and each account's balance is the sum of its legs
    per_payment: Counter[int] = Counter()
    per_account: Counter[int] = Counter()
    for payment_id, account_id, amount, _ in rows["ledger_entries"]:
        per_payment[payment_id] += amount
        per_account[account_id] += amount
    assert rows["payments"] and set(per_payment.values()) == {0}
    accounts = [*gen.accounts, *gen.ctx.system_accounts.values(), *gen.ctx.user_accounts.values()]
    assert {a.id: a.balance for a in accounts if a.balance} == {k: v for k, v in per_account.items() if v}
    # job counters match their applications; hires fill openings exactly once a job is in progress or completed
    statuses: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for job_id, _, status, *_ in rows["applications"]:
        statuses[job_id][status] += 1
    for job_id, *_, openings, _, status, _, hired, active in (row[:14] for row in rows["jobs"]):
        assert hired == statuses[job_id]["accepted"]
        assert active == sum(statuses[job_id].values()) - statuses[job_id]["withdrawn"]
        if status in ("in_progress", "completed"):
            assert hired == openings
    # users' rating counters match the reviews they received
    received: defaultdict[int, list[int]] = defaultdict(list)
    for _, _, reviewee, rating, *_ in rows["reviews"]:
        received[reviewee].append(rating)
    for user in [*gen.users, *gen.ctx.demo_users.values()]:
        assert (user.rating_sum, user.rating_count) == (sum(received[user.id]), len(received[user.id]))
