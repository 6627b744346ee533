"""The generator: plans users, jobs, applications, payments with their ledger legs, and reviews.

Everything is drawn from one `random.Random(random_seed)`, in a fixed order (the row builders of `rows.py`
draw too, while the rows are copied), so the same plan, context and clock give the same data. Users, jobs,
accounts and payments get explicit ids above the context's id bases; the rows obey every CHECK and unique
constraint and the invariants the API maintains: job counters match their applications, hires fill openings
exactly on in-progress and completed jobs, escrow legs follow `PaymentService` (same payout formula), every
account's balance is the sum of its ledger entries, the whole ledger sums to zero, and users' rating and
completed-job counters match reviews and completions.

Skews: job popularity, worker activity, hiring and clients' posting follow Zipf-like weights, so at the
`large` scale some jobs get hundreds of applicants and some workers hundreds of reviews.

Why plain generators, not polyfactory factories: a `DataclassFactory` row costs ~40 us here against ~1.5 us for
a tuple built from `random.Random`, i.e. ~45 s more for a million applications on a 2-core machine; and the
rows are not independent (counters, hires and ledger legs must agree across tables), which per-row factories
do not model.
"""

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.models.enums import AccountKind, EscrowStatus, JobStatus, PaymentKind, PaymentStatus
from app.repositories.payments import EXTERNAL_FUNDING, PLATFORM_FEES, escrow_account_code, user_account_code
from app.seed.data import (
    CITIES,
    CLIENT_HEADLINES,
    DEMO_CLIENT,
    DEMO_CLIENT_JOBS,
    DEMO_WORKER,
    FIRST_NAMES,
    GENERAL_DETAILS,
    LAST_NAMES,
    OPENINGS,
    OPENINGS_WEIGHTS,
    REVIEW_COMMENTS,
    TOPICS,
    Topic,
)
from app.seed.plan import SeedPlan
from app.services.jobs import total_cost
from app.services.payments import payout_per_worker
from app.settings import Settings

T = TypeVar("T")
DAY = 86_400.0
YEAR = 365 * DAY


@dataclass(slots=True)
class SeedUser:
    id: int
    role: str
    created: float
    location: tuple[str, float, float] | None
    existing: bool = False
    skills: list[int] = field(default_factory=list)
    profile: tuple[Any, ...] = ()
    rating_sum: int = 0
    rating_count: int = 0
    completed_jobs: int = 0


@dataclass(slots=True)
class SeedJob:
    id: int
    client: SeedUser
    status: JobStatus
    escrow: EscrowStatus
    category_id: int = 0
    topic: Topic | None = None
    openings: int = 1
    pay_type: str = "fixed"
    pay_rate: int = 0
    hours: int | None = None
    total: int = 0
    location: tuple[str, float, float] | None = None
    created: float = 0.0
    funded: float | None = None
    filled: float | None = None  # when the last opening was filled
    ended: float | None = None  # completed_at or cancelled_at
    forced_hires: list[SeedUser] = field(default_factory=list)
    forced_pending: list[SeedUser] = field(default_factory=list)
    hired: list[SeedUser] = field(default_factory=list)
    others: str = ""  # statuses of the other applications: p(ending), r(ejected), w(ithdrawn)
    skills: tuple[int, ...] = ()


@dataclass(slots=True)
class SeedAccount:
    """A ledger account; `existing` ones get no row (their balance is added), so their `created` is unused."""

    id: int
    code: str
    kind: str
    user_id: int | None
    created: float
    existing: bool = False
    balance: int = 0
    updated: float = 0.0


@dataclass
class Context:
    """What the database holds already: id bases, catalog, system accounts, demo users."""

    base_ids: dict[str, int]
    categories: list[tuple[int, str, str]]
    skills: dict[str, int]
    system_accounts: dict[str, SeedAccount]
    demo_users: dict[str, SeedUser]
    user_accounts: dict[int, SeedAccount]


def zipf_cum(n: int, exponent: float) -> list[float]:
    """Cumulative weights 1/rank^exponent, for `random.choices(cum_weights=...)`."""
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


def dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Generator:
    """The plan of every row, built by `build()`; `now` (epoch seconds) is the clock all timestamps precede."""

    def __init__(self, plan: SeedPlan, settings: Settings, ctx: Context, password_hash: str, now: float) -> None:
        self.plan = plan
        self.settings = settings
        self.ctx = ctx
        self.password_hash = password_hash
        self.rng = random.Random(plan.random_seed)
        self.now = now
        self.city_cum = zipf_cum(len(CITIES), 0.8)
        self.users: list[SeedUser] = []
        self.clients: list[SeedUser] = []
        self.workers: list[SeedUser] = []
        self.jobs: list[SeedJob] = []
        self.accounts: list[SeedAccount] = []
        self.applying: tuple[list[SeedUser], list[float]] = ([], [])
        # rows as COPY takes them, in the column order of rows.PAYMENT_COLUMNS, LEDGER_COLUMNS, REVIEW_COLUMNS
        self.payments: list[tuple[Any, ...]] = []
        self.ledger: list[tuple[Any, ...]] = []
        self.reviews: list[tuple[Any, ...]] = []
        self.next_id = dict(ctx.base_ids)

    def _new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def build(self) -> None:
        self._users()
        self._jobs()
        self._money()
        self._reviews()

    # users ------------------------------------------------------------------------------------------------------

    def _city(self) -> tuple[str, float, float]:
        name, lat, lng = self.rng.choices(CITIES, cum_weights=self.city_cum)[0]
        # jitter within the city (a few km) so distances differ
        return name, round(lat + self.rng.uniform(-0.06, 0.06), 6), round(lng + self.rng.uniform(-0.09, 0.09), 6)

    def _users(self) -> None:
        rng, n = self.rng, self.plan.users
        n_clients = n if n < 2 else max(1, round(n * 0.3))
        roles = ["client"] * n_clients + ["worker"] * (n - n_clients)
        rng.shuffle(roles)
        topics = list(TOPICS.values())
        for role in roles:
            user = SeedUser(
                id=self._new_id("users"),
                role=role,
                created=self.now - 30 * DAY - 370 * DAY * rng.random() ** 0.7,
                location=self._city() if rng.random() < (0.85 if role == "worker" else 0.6) else None,
            )
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            phone = f"+1 555 {rng.randint(1_000_000, 9_999_999)}" if rng.random() < 0.5 else None
            if role == "worker":
                topic = rng.choice(topics)
                years = rng.randint(1, 25)
                slugs = rng.sample(topic.skills, rng.randint(1, len(topic.skills)))
                if rng.random() < 0.3:
                    slugs.append(rng.choice(topics).skills[0])
                user.skills = sorted({self.ctx.skills[s] for s in slugs if s in self.ctx.skills})
                payout = None
                if rng.random() < 0.7:
                    payout = rng.choice(
                        (
                            ("bank_transfer", f"DE{rng.randint(10**19, 10**20 - 1)}"),
                            ("paypal", f"user{user.id}@seed.example"),
                        )
                    )
                user.profile = (
                    name,
                    phone,
                    f"{rng.choice(('Reliable', 'Experienced', 'Friendly', 'Certified'))} {topic.trade}, {years} years",
                    f"I have worked as a {topic.trade} for {years} years. {rng.choice(GENERAL_DETAILS)}",
                    round(rng.randint(*topic.rate), -2),
                    *(payout or (None, None)),
                )
            else:
                headline = rng.choice(CLIENT_HEADLINES) if rng.random() < 0.4 else None
                user.profile = (name, phone, headline, None, None, None, None)
            self.users.append(user)
        demo = self.ctx.demo_users
        self.clients = [u for u in self.users if u.role == "client"]
        self.workers = [u for u in self.users if u.role == "worker"]
        if DEMO_CLIENT.email in demo:
            self.clients.append(demo[DEMO_CLIENT.email])
        if DEMO_WORKER.email in demo:
            self.workers.append(demo[DEMO_WORKER.email])

    # jobs and applications --------------------------------------------------------------------------------------

    def _ranking(self, items: list[T], exponent: float, top: T | None = None) -> tuple[list[T], list[float]]:
        """Items in a random order with Zipf weights by position; `top` (the demo worker) among the first few."""
        order = list(items)
        self.rng.shuffle(order)
        if top is not None:
            order.remove(top)
            order.insert(min(3, len(order)), top)
        return order, zipf_cum(len(order), exponent)

    def pick(self, ranking: tuple[list[SeedUser], list[float]], k: int, taken: set[int]) -> list[SeedUser]:
        """k distinct workers drawn by the ranking's skew, none in `taken` (which grows by them)."""
        order, cum = ranking
        picked: list[SeedUser] = []
        for _ in range(6):
            if len(picked) == k:
                return picked
            for user in self.rng.choices(order, cum_weights=cum, k=k - len(picked)):
                if user.id not in taken:
                    taken.add(user.id)
                    picked.append(user)
        # heavy skew on a small pool: fill up uniformly
        rest = [u for u in order if u.id not in taken]
        extra = self.rng.sample(rest, k - len(picked))
        taken.update(u.id for u in extra)
        return picked + extra

    def _kinds(self) -> list[tuple[JobStatus, EscrowStatus]]:
        """(status, escrow_status) per job: most open, a funded share that is completed, in progress, refunded."""
        n = self.plan.jobs
        funded = min(self.plan.payments, n // 2)
        can_hire = bool(self.workers)
        completed = round(funded * 0.6) if can_hire else 0
        in_progress = round(funded * 0.15) if can_hire else 0
        refunded = round(funded * 0.1)
        cancelled = round((n - funded) * 0.08)
        counts = {
            (JobStatus.completed, EscrowStatus.released): completed,
            (JobStatus.in_progress, EscrowStatus.held): in_progress,
            (JobStatus.cancelled, EscrowStatus.refunded): refunded,
            (JobStatus.open, EscrowStatus.held): funded - completed - in_progress - refunded,
            (JobStatus.cancelled, EscrowStatus.none): cancelled,
            (JobStatus.open, EscrowStatus.none): n - funded - cancelled,
        }
        kinds = [kind for kind, count in counts.items() for _ in range(count)]
        self.rng.shuffle(kinds)
        return kinds

    def _jobs(self) -> None:
        rng = self.rng
        if not self.clients or not self.plan.jobs:
            return
        client_order, client_cum = self._ranking(self.clients, 0.6)
        for status, escrow in self._kinds():
            client = rng.choices(client_order, cum_weights=client_cum)[0]
            self.jobs.append(SeedJob(id=self._new_id("jobs"), client=client, status=status, escrow=escrow))
        self._wire_demo()

        demo_worker = self.ctx.demo_users.get(DEMO_WORKER.email)
        hiring = self._ranking(self.workers, 0.6, demo_worker)
        self.applying = self._ranking(self.workers, 0.5, demo_worker)
        wanted = [0] * len(self.jobs)
        if self.workers:
            job_order, job_cum = self._ranking(list(range(len(self.jobs))), 0.5)
            for index in rng.choices(job_order, cum_weights=job_cum, k=self.plan.applications):
                wanted[index] += 1
        for job, n_applications in zip(self.jobs, wanted, strict=True):
            self._shape(job)
            self._timeline(job)
            self._applicants(job, n_applications, hiring)

    def _wire_demo(self) -> None:
        """Give the demo client jobs in every state and the demo worker hires and pending applications."""
        demo = self.ctx.demo_users
        client, worker = demo.get(DEMO_CLIENT.email), demo.get(DEMO_WORKER.email)
        by_kind: dict[tuple[JobStatus, EscrowStatus], list[SeedJob]] = {}
        for job in self.jobs:
            by_kind.setdefault((job.status, job.escrow), []).append(job)
        own: dict[tuple[JobStatus, EscrowStatus], list[SeedJob]] = {}
        if client is not None:
            for kind, count in DEMO_CLIENT_JOBS.items():
                own[kind] = by_kind.get(kind, [])[:count]
                for job in own[kind]:
                    job.client = client
        if worker is None:
            return
        completed = (JobStatus.completed, EscrowStatus.released)
        in_progress = (JobStatus.in_progress, EscrowStatus.held)
        owned = {job.id for jobs in own.values() for job in jobs}
        others = {kind: [j for j in jobs if j.id not in owned] for kind, jobs in by_kind.items()}
        for job in own.get(completed, [])[:3] + own.get(in_progress, [])[:1]:
            job.forced_hires.append(worker)
        for job in others.get(completed, [])[:3] + others.get(in_progress, [])[:1]:
            job.forced_hires.append(worker)
        open_none = (JobStatus.open, EscrowStatus.none)
        for job in own.get(open_none, [])[:2] + others.get(open_none, [])[:5]:
            job.forced_pending.append(worker)

    def _shape(self, job: SeedJob) -> None:
        """Category, skills, pay, openings and location."""
        rng = self.rng
        category_id, slug, name = rng.choice(self.ctx.categories)
        topic = TOPICS.get(slug) or Topic(
            (), (f"{name} help needed", f"Experienced help wanted: {name}"), (), (2000, 6000), name
        )
        job.category_id, job.topic = category_id, topic
        known = [self.ctx.skills[s] for s in topic.skills if s in self.ctx.skills]
        job.skills = tuple(rng.sample(known, rng.randint(0, min(3, len(known))))) if known else ()
        rate = round(rng.randint(*topic.rate), -1)
        if rng.random() < 0.45:
            job.pay_type, job.pay_rate, job.hours = "hourly", rate, min(160, 1 + int(rng.expovariate(1 / 8)))
        else:
            job.pay_type, job.pay_rate = "fixed", max(1000, int(round(rate * (2 + rng.expovariate(1 / 10)), -2)))
        openings = rng.choices(OPENINGS, weights=OPENINGS_WEIGHTS)[0]
        job.openings = max(1, min(openings, len(self.workers)))
        job.total = total_cost(job.pay_type, job.pay_rate, job.hours, job.openings)
        if rng.random() < (0.25 if topic.remote else 0.92):
            home = job.client.location
            job.location = home if home is not None and rng.random() < 0.7 else self._city()

    def _timeline(self, job: SeedJob) -> None:
        """created < funded <= filled < ended <= now, as the API's state machine would have produced them."""
        rng, now = self.rng, self.now
        if job.status == JobStatus.open:
            age = max(3600.0, YEAR * rng.random() ** 2.2)  # open jobs are mostly recent
        else:
            age = max(3 * DAY, YEAR * rng.random() ** 0.8)
        job.created = min(max(now - age, job.client.created + 3600), now - 60)
        span = now - job.created
        if job.status in (JobStatus.in_progress, JobStatus.completed):
            job.filled = job.created + span * rng.uniform(0.05, 0.35)
        elif (
            job.status == JobStatus.cancelled
            and self.workers
            and rng.random() < (0.5 if job.escrow == EscrowStatus.refunded else 0.2)
        ):
            job.filled = job.created + span * rng.uniform(0.05, 0.35)  # cancelled while in progress
        if job.status in (JobStatus.completed, JobStatus.cancelled):
            start = job.filled or job.created
            job.ended = start + (now - start) * rng.uniform(0.15, 0.8)
        if job.escrow != EscrowStatus.none:
            until = job.filled or job.ended or now
            job.funded = job.created + (until - job.created) * rng.uniform(0.1, 1.0)

    def _applicants(self, job: SeedJob, wanted: int, hiring: tuple[list[SeedUser], list[float]]) -> None:
        """Hired workers (accepted) and the statuses of the other applications."""
        rng = self.rng
        if job.filled is not None:
            n_hired = job.openings
        elif job.openings > 1 and rng.random() < 0.35:
            n_hired = rng.randint(1, job.openings - 1)
        else:
            n_hired = 0
        if job.status == JobStatus.open and job.client.existing:
            wanted = max(wanted, 4)  # the demo client sees applicants on every open job
        taken = {u.id for u in job.forced_hires + job.forced_pending}
        job.hired = job.forced_hires + self.pick(hiring, n_hired - len(job.forced_hires), taken)
        n_others = max(0, min(wanted, len(self.workers)) - len(job.hired) - len(job.forced_pending))
        codes, weights = ("prw", (78, 12, 10)) if job.status == JobStatus.open else ("rw", (90, 10))
        job.others = "".join(rng.choices(codes, weights=weights, k=n_others))

    # money ------------------------------------------------------------------------------------------------------

    def _account(self, code: str, kind: AccountKind, user_id: int | None, at: float) -> SeedAccount:
        account = SeedAccount(id=self._new_id("accounts"), code=code, kind=kind.value, user_id=user_id, created=at)
        self.accounts.append(account)
        return account

    def _record(
        self, job: SeedJob, kind: PaymentKind, status: PaymentStatus, amount: int, payer: int | None,
        payee: int | None, at: float, legs: Sequence[tuple[SeedAccount, int]], updated: float | None = None,
    ) -> None:  # fmt: skip
        """A payment and its ledger legs, moving the balances (as `PaymentRepository.record`)."""
        payment_id = self._new_id("payments")
        self.payments.append(
            (payment_id, job.id, kind.value, status.value, amount, self.settings.currency, payer, payee, dt(at),
             dt(updated or at))
        )  # fmt: skip
        for account, leg in legs:
            if leg:
                self.ledger.append((payment_id, account.id, leg, dt(at)))
                account.balance += leg
                account.updated = max(account.updated, at)

    def _money(self) -> None:
        external = self.ctx.system_accounts[EXTERNAL_FUNDING]
        fees = self.ctx.system_accounts[PLATFORM_FEES]
        user_accounts = self.ctx.user_accounts
        for job in self.jobs:
            if job.escrow == EscrowStatus.none:
                continue
            assert job.funded is not None
            client = job.client.id
            escrow = self._account(escrow_account_code(job.id), AccountKind.escrow, None, job.funded)
            status = PaymentStatus(job.escrow.value)  # held, released, refunded: the same words
            legs = [(external, -job.total), (escrow, job.total)]
            self._record(job, PaymentKind.escrow, status, job.total, client, None, job.funded, legs, job.ended)
            if job.escrow == EscrowStatus.released:
                assert job.ended is not None
                payout = payout_per_worker(job.total, len(job.hired), self.settings.platform_fee_bps)
                for worker in job.hired:
                    account = user_accounts.get(worker.id)
                    if account is None:
                        code = user_account_code(worker.id)
                        account = user_accounts[worker.id] = self._account(code, AccountKind.user, worker.id, job.ended)
                    legs = [(escrow, -payout), (account, payout)]
                    self._record(
                        job, PaymentKind.payout, PaymentStatus.completed, payout, client, worker.id, job.ended, legs
                    )
                    worker.completed_jobs += 1
                job.client.completed_jobs += 1
                fee = job.total - payout * len(job.hired)
                if fee:
                    legs = [(escrow, -fee), (fees, fee)]
                    self._record(job, PaymentKind.fee, PaymentStatus.completed, fee, client, None, job.ended, legs)
            elif job.escrow == EscrowStatus.refunded:
                assert job.ended is not None
                legs = [(escrow, -job.total), (external, job.total)]
                self._record(job, PaymentKind.refund, PaymentStatus.completed, job.total, None, client, job.ended, legs)

    # reviews ----------------------------------------------------------------------------------------------------

    def _reviews(self) -> None:
        rng = self.rng
        demo_ids = {u.id for u in self.ctx.demo_users.values()}
        forced: list[tuple[SeedJob, SeedUser, SeedUser]] = []
        optional: list[tuple[SeedJob, SeedUser, SeedUser]] = []
        for job in self.jobs:
            if job.status != JobStatus.completed:
                continue
            for worker in job.hired:
                for pair in ((job.client, worker), (worker, job.client)):
                    demo = job.client.id in demo_ids or worker.id in demo_ids
                    (forced if demo else optional).append((job, *pair))
        wanted = max(0, self.plan.reviews - len(forced))
        quality: dict[int, float] = {}  # each reviewee's typical rating
        for job, reviewer, reviewee in forced + rng.sample(optional, min(wanted, len(optional))):
            assert job.ended is not None
            if reviewee.id not in quality:
                quality[reviewee.id] = 4.7 if reviewee.existing else min(5.0, rng.gauss(4.3, 0.45))
            mean = quality[reviewee.id]
            rating = min(5, max(1, round(rng.gauss(mean, 0.7))))
            created = job.ended + (self.now - job.ended) * rng.uniform(0.02, 0.9)
            read = created + (self.now - created) * rng.random() if rng.random() < 0.65 else None
            self.reviews.append(
                (job.id, reviewer.id, reviewee.id, rating, rng.choice(REVIEW_COMMENTS[rating]),
                 dt(read) if read else None, dt(created), dt(read or created))
            )  # fmt: skip
            reviewee.rating_sum += rating
            reviewee.rating_count += 1
