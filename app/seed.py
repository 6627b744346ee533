"""Synthetic marketplace data for demos and load tests (`marketplace seed`, and `serve` on an empty database).

Everything is drawn from one `random.Random(random_seed)` and bulk-loaded with binary COPY in a single
transaction, appended to whatever the database holds: users, jobs, accounts and payments get explicit ids
above both the table's largest id and its sequence (the sequences are moved past them), the other tables
take ids from their sequences. The rows obey every CHECK and unique constraint and the invariants the API
maintains: job counters match their applications, hires fill openings exactly on in-progress and completed
jobs, escrow legs follow `PaymentService` (same payout formula), every account's balance is the sum of its
ledger entries, the whole ledger sums to zero, and users' rating and completed-job counters match reviews
and completions.

Skews: job popularity, worker activity, hiring and clients' posting follow Zipf-like weights, so at the
`large` scale some jobs get hundreds of applicants and some workers hundreds of reviews.

Why the rows come from plain generators, not polyfactory factories: a `DataclassFactory` row costs ~40 us
here against ~1.5 us for a tuple built from `random.Random`, i.e. ~45 s more for a million applications on a
2-core machine; and the rows are not independent (counters, hires and ledger legs must agree across tables),
which per-row factories do not model.
"""

import argparse
import dataclasses
import itertools
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tqdm import tqdm

from app.db import UnitOfWork, create_sessionmaker
from app.models import Skill, User
from app.models.enums import AccountKind, ApplicationStatus, EscrowStatus, JobStatus, PaymentKind, PaymentStatus
from app.repositories.payments import EXTERNAL_FUNDING, PLATFORM_FEES, escrow_account_code, user_account_code
from app.security import hash_password
from app.services.jobs import total_cost
from app.services.payments import payout_per_worker
from app.settings import Settings

GENERATED_PASSWORD = "password123"
T = TypeVar("T")
COPY_CHUNK = 50_000
DAY = 86_400.0
YEAR = 365 * DAY


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: str
    full_name: str


DEMO_CLIENT = DemoAccount("client@example.com", "client-password", "client", "Demo Client")
DEMO_WORKER = DemoAccount("worker@example.com", "worker-password", "worker", "Demo Worker")
DEMO_ADMIN = DemoAccount("admin@example.com", "admin-password", "admin", "Demo Admin")
DEMO_ACCOUNTS = (DEMO_CLIENT, DEMO_WORKER, DEMO_ADMIN)
DEMO_ROLES = {a.email: a.role for a in DEMO_ACCOUNTS}
DEMO_WORKER_SKILLS = ("plumbing", "carpentry", "assembly", "painting", "electrical")


@dataclass(frozen=True)
class SeedPlan:
    """How much to generate; `payments` is the number of jobs funded through escrow."""

    users: int = 300
    jobs: int = 800
    applications: int = 6_000
    payments: int = 300
    reviews: int = 400
    random_seed: int = 42

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "SeedPlan":
        overrides = {name: getattr(args, name, None) for name in COUNTS}
        return dataclasses.replace(
            SCALES[getattr(args, "scale", "demo")],
            random_seed=getattr(args, "random_seed", 42),
            **{name: value for name, value in overrides.items() if value is not None},
        )


COUNTS = ("users", "jobs", "applications", "payments", "reviews")
SCALES = {
    "demo": SeedPlan(),
    "large": SeedPlan(users=50_000, jobs=100_000, applications=1_000_000, payments=100_000, reviews=100_000),
}


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="demo",
        help="preset sizes (large: 50k users, 100k jobs, 1M applications)",
    )
    parser.add_argument("--users", type=_count, metavar="N", help="users to add (about 30%% clients, the rest workers)")
    parser.add_argument("--jobs", type=_count, metavar="N", help="jobs to add")
    parser.add_argument("--applications", type=_count, metavar="N", help="applications to add (roughly)")
    parser.add_argument(
        "--payments",
        type=_count,
        metavar="N",
        help="jobs funded through escrow (at most half the jobs: most stay open)",
    )
    parser.add_argument("--reviews", type=_count, metavar="N", help="reviews to add (capped by the completed jobs)")
    parser.add_argument("--random-seed", type=int, default=42, metavar="N", help="seed of the generator (default 42)")


# ---------------------------------------------------------------------------------------------------------------
# Word lists


@dataclass(frozen=True)
class Topic:
    """What jobs of one category look like: skills, titles, description sentences, an hourly rate range (minor)."""

    skills: tuple[str, ...]
    tasks: tuple[str, ...]
    details: tuple[str, ...]
    rate: tuple[int, int]
    trade: str
    remote: bool = False


TOPICS = {
    "cleaning": Topic(
        ("deep-cleaning",),
        (
            "Deep cleaning of a {n}-room apartment",
            "Move-out cleaning for a {n}-room flat",
            "Weekly office cleaning",
            "Window cleaning for a family house",
            "Post-renovation cleaning",
            "Carpet and upholstery cleaning",
            "Spring cleaning before guests arrive",
            "Kitchen and oven deep clean",
        ),
        (
            "Eco-friendly cleaning supplies are preferred.",
            "We have a cat, so please be comfortable with pets.",
            "Keys can be picked up from the concierge.",
            "Focus on the kitchen, the bathrooms and the floors.",
            "The flat is about {m} square metres.",
        ),
        (1500, 3500),
        "cleaner",
    ),
    "moving": Topic(
        ("lifting", "driving", "assembly"),
        (
            "Help moving a {n}-room apartment",
            "Van and driver for a small move",
            "Carry a sofa up {n} floors",
            "Deliver furniture across town",
            "Office relocation helpers needed",
            "Load and unload a moving truck",
            "Assemble furniture after the move",
        ),
        (
            "There is no elevator in the building.",
            "Heavy lifting is required; the boxes are packed.",
            "A driving licence and a van are a plus.",
            "Parking is available in front of the building.",
        ),
        (1800, 4000),
        "mover",
    ),
    "handyman": Topic(
        ("plumbing", "electrical", "carpentry", "painting", "assembly"),
        (
            "Plumbing repair: leaking kitchen sink",
            "Fix a dripping bathroom tap (plumbing)",
            "Install a new shower and fix plumbing leaks",
            "Replace light switches and sockets",
            "Electrical check of an old apartment",
            "Hang shelves, mirrors and pictures",
            "Paint a {n}-room apartment",
            "Carpentry: repair a wooden door and window frames",
            "Assemble an IKEA wardrobe and a bed",
            "Connect a washing machine (plumbing and electrical)",
        ),
        (
            "Tools are available on site.",
            "Please bring your own tools.",
            "Photos of the problem can be shared in advance.",
            "The building is from the 1950s and the pipes are old.",
        ),
        (2500, 7000),
        "handyman",
    ),
    "gardening": Topic(
        ("lawn-care", "lifting"),
        (
            "Garden maintenance and lawn mowing",
            "Trim hedges and tidy up the garden",
            "Plant a vegetable garden",
            "Autumn leaf removal in the garden",
            "Lawn care for a {m} m2 garden",
            "Design and plant a small balcony garden",
            "Prune the fruit trees in the back garden",
        ),
        (
            "Green waste must be taken away.",
            "A lawn mower and garden tools are available.",
            "The garden is about {m} square metres.",
            "Regular weekly garden work is possible.",
        ),
        (1500, 4000),
        "gardener",
    ),
    "software": Topic(
        ("python", "javascript", "sql", "react"),
        (
            "Python script to automate Excel reports",
            "Build a REST API in Python with FastAPI",
            "Fix bugs in a React web app",
            "SQL query optimisation for a reporting database",
            "Python web scraper for product prices",
            "JavaScript front end for a booking form",
            "Data analysis in Python with pandas",
            "Migrate a Django app to PostgreSQL",
            "Write unit tests for a Python library",
        ),
        (
            "The code is on GitHub; access will be shared.",
            "Please include examples of similar work.",
            "Remote work is fine; we meet weekly on video.",
            "Clean, documented code with tests is expected.",
        ),
        (4000, 15000),
        "software developer",
        remote=True,
    ),
    "design": Topic(
        ("figma", "illustration", "photography"),
        (
            "Logo design for a small bakery",
            "Figma mockups for a mobile app",
            "Illustrations for a children's book",
            "Product photography for an online shop",
            "Redesign of a restaurant menu",
            "Social media graphics for a product launch",
        ),
        (
            "A short brief and brand colours are ready.",
            "Two rounds of revisions are included.",
            "Please share a link to your portfolio.",
        ),
        (3500, 12000),
        "designer",
        remote=True,
    ),
    "writing": Topic(
        ("copywriting", "translation", "english"),
        (
            "Copywriting for a landing page",
            "Translate a website from German to English",
            "Proofread a {n}0-page English thesis",
            "Blog posts about sustainable gardening",
            "Product descriptions for an online store",
            "Translation of legal documents from Spanish to English",
        ),
        (
            "Native-level English is required.",
            "The texts are about {m}00 words in total.",
            "SEO experience is a plus.",
        ),
        (2500, 8000),
        "writer and translator",
        remote=True,
    ),
    "tutoring": Topic(
        ("math", "english", "python"),
        (
            "Math tutoring for a high-school student",
            "English conversation lessons",
            "Python programming lessons for beginners",
            "Exam preparation in mathematics",
            "Homework help twice a week",
        ),
        (
            "Lessons can be online or at our home.",
            "The student is {n}5 years old.",
            "Two sessions a week, about an hour each.",
        ),
        (2000, 6000),
        "tutor",
        remote=True,
    ),
    "events": Topic(
        ("bartending", "catering", "photography"),
        (
            "Bartender for a wedding with {m} guests",
            "Catering staff for a company party",
            "Event photography for a birthday party",
            "Waiters for a garden party",
            "Set up and tidy up after a conference",
        ),
        (
            "Black clothing is expected.",
            "The event runs from 6 pm to midnight.",
            "Food and drinks are provided for the staff.",
        ),
        (1500, 4000),
        "event professional",
    ),
    "care": Topic(
        ("pet-sitting", "elder-care"),
        (
            "Pet sitting while we are on holiday",
            "Dog walking twice a day",
            "Companion for an elderly lady",
            "Elder care assistance on weekends",
            "Cat sitting for {n} days",
            "Babysitter for two kids on Friday evenings",
        ),
        (
            "References from previous families are appreciated.",
            "Our dog is friendly but very energetic.",
            "First-aid training is a plus.",
        ),
        (1500, 3500),
        "carer",
    ),
}
GENERAL_DETAILS = (
    "Please describe your experience in your application.",
    "The start date is flexible.",
    "Payment goes through the platform's escrow.",
    "Reviews from previous clients are appreciated.",
    "Questions are welcome before you apply.",
)
TITLE_SUFFIXES = (" - urgent", " this weekend", " (ongoing)", " next week")
COVER_LETTERS = (
    "",
    "Hi! I have {y} years of experience with this kind of work and can start {when}.",
    "Hello, I am available {when} and have all the tools needed.",
    "I did very similar jobs recently and am happy to share references.",
    "Reliable and punctual; I can start {when}. Looking forward to hearing from you.",
    "This is exactly my field ({y} years). Happy to discuss the details.",
)
WHEN = ("tomorrow", "this week", "next Monday", "on the weekend", "right away")
REVIEW_COMMENTS = {
    5: ("Excellent work, highly recommended!", "Fast, friendly and very professional.", "Perfect result.", ""),
    4: ("Good job, would hire again.", "Solid work and good communication.", "Very good overall.", ""),
    3: ("Okay, but it took longer than agreed.", "Decent result, some details missed.", ""),
    2: ("Not very reliable; came late twice.", "The result needed rework.", ""),
    1: ("Did not finish the job.", "Very disappointing experience.", ""),
}
CLIENT_HEADLINES = ("Homeowner", "Small business owner", "Startup founder", "Property manager", "Busy parent")
FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Leo", "Maria",
    "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara", "Zoe", "Amir", "Chloe",
    "Diego", "Emma", "Farah", "Hannah", "Ivan", "Julia", "Kenji", "Lucia", "Mateo", "Nina", "Oscar", "Priya", "Sofia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Muller", "Garcia", "Rossi", "Novak", "Kowalski", "Johnson", "Schmidt", "Martin", "Silva", "Jensen",
    "Nielsen", "Dubois", "Fischer", "Weber", "Lopez", "Brown", "Wilson", "Tanaka", "Kim", "Nguyen", "Costa", "Meyer",
    "Hansen", "Popescu", "Horvat", "Murphy", "Walsh", "Becker", "Moreau", "Ferrari", "Santos", "Wagner", "Berg",
)  # fmt: skip
# (city, lat, lng); earlier cities are drawn more often.
CITIES = (
    ("Berlin", 52.5200, 13.4050), ("London", 51.5074, -0.1278), ("Paris", 48.8566, 2.3522),
    ("New York", 40.7128, -74.0060), ("Madrid", 40.4168, -3.7038), ("Amsterdam", 52.3676, 4.9041),
    ("Munich", 48.1351, 11.5820), ("Hamburg", 53.5511, 9.9937), ("Vienna", 48.2082, 16.3738),
    ("Warsaw", 52.2297, 21.0122), ("Prague", 50.0755, 14.4378), ("Barcelona", 41.3874, 2.1686),
    ("Rome", 41.9028, 12.4964), ("Milan", 45.4642, 9.1900), ("Lisbon", 38.7223, -9.1393),
    ("Stockholm", 59.3293, 18.0686), ("Copenhagen", 55.6761, 12.5683), ("Dublin", 53.3498, -6.2603),
    ("Zurich", 47.3769, 8.5417), ("Brussels", 50.8503, 4.3517), ("Los Angeles", 34.0522, -118.2437),
    ("Chicago", 41.8781, -87.6298), ("Toronto", 43.6532, -79.3832), ("San Francisco", 37.7749, -122.4194),
    ("Austin", 30.2672, -97.7431), ("Mexico City", 19.4326, -99.1332), ("Sao Paulo", -23.5505, -46.6333),
    ("Sydney", -33.8688, 151.2093), ("Tokyo", 35.6762, 139.6503), ("Singapore", 1.3521, 103.8198),
    ("Cape Town", -33.9249, 18.4241),
)  # fmt: skip
DEMO_CITY = ("Berlin", 52.5163, 13.3777)
OPENINGS = (1, 2, 3, 4, 5, 8, 10, 15, 20)
OPENINGS_WEIGHTS = (62, 14, 9, 5, 4, 3, 1.5, 1, 0.5)
# Jobs the demo client owns, by (status, escrow_status), so each of its screens has something to show.
DEMO_CLIENT_JOBS = {
    (JobStatus.open, EscrowStatus.none): 3,
    (JobStatus.open, EscrowStatus.held): 1,
    (JobStatus.in_progress, EscrowStatus.held): 2,
    (JobStatus.completed, EscrowStatus.released): 4,
    (JobStatus.cancelled, EscrowStatus.refunded): 1,
}


# ---------------------------------------------------------------------------------------------------------------
# Generation


@dataclass(slots=True)
class _User:
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
class _Job:
    id: int
    client: _User
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
    forced_hires: list[_User] = field(default_factory=list)
    forced_pending: list[_User] = field(default_factory=list)
    hired: list[_User] = field(default_factory=list)
    others: str = ""  # statuses of the other applications: p(ending), r(ejected), w(ithdrawn)
    skills: tuple[int, ...] = ()


@dataclass(slots=True)
class _Account:
    id: int
    code: str
    kind: str
    user_id: int | None
    created: float
    existing: bool = False
    balance: int = 0
    updated: float = 0.0


@dataclass
class _Context:
    """What the database holds already: id bases, catalog, system accounts, demo users."""

    base_ids: dict[str, int]
    categories: list[tuple[int, str, str]]
    skills: dict[str, int]
    system_accounts: dict[str, _Account]
    demo_users: dict[str, _User]
    user_accounts: dict[int, _Account]


def _zipf_cum(n: int, exponent: float) -> list[float]:
    """Cumulative weights 1/rank^exponent, for `random.choices(cum_weights=...)`."""
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class _Generator:
    def __init__(self, plan: SeedPlan, settings: Settings, ctx: _Context, password_hash: str) -> None:
        self.plan = plan
        self.settings = settings
        self.ctx = ctx
        self.password_hash = password_hash
        self.rng = random.Random(plan.random_seed)
        self.now = time.time()
        self.city_cum = _zipf_cum(len(CITIES), 0.8)
        self.users: list[_User] = []
        self.clients: list[_User] = []
        self.workers: list[_User] = []
        self.jobs: list[_Job] = []
        self.accounts: list[_Account] = []
        self.applying: tuple[list[_User], list[float]] = ([], [])
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
            user = _User(
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
        return order, _zipf_cum(len(order), exponent)

    def _pick(self, ranking: tuple[list[_User], list[float]], k: int, taken: set[int]) -> list[_User]:
        """k distinct workers drawn by the ranking's skew, none in `taken` (which grows by them)."""
        order, cum = ranking
        picked: list[_User] = []
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
            self.jobs.append(_Job(id=self._new_id("jobs"), client=client, status=status, escrow=escrow))
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
        by_kind: dict[tuple[JobStatus, EscrowStatus], list[_Job]] = {}
        for job in self.jobs:
            by_kind.setdefault((job.status, job.escrow), []).append(job)
        own: dict[tuple[JobStatus, EscrowStatus], list[_Job]] = {}
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

    def _shape(self, job: _Job) -> None:
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

    def _timeline(self, job: _Job) -> None:
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

    def _applicants(self, job: _Job, wanted: int, hiring: tuple[list[_User], list[float]]) -> None:
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
        job.hired = job.forced_hires + self._pick(hiring, n_hired - len(job.forced_hires), taken)
        n_others = max(0, min(wanted, len(self.workers)) - len(job.hired) - len(job.forced_pending))
        codes, weights = ("prw", (78, 12, 10)) if job.status == JobStatus.open else ("rw", (90, 10))
        job.others = "".join(rng.choices(codes, weights=weights, k=n_others))

    def application_rows(self) -> Iterator[tuple[Any, ...]]:
        """The applications, job by job; generated while they are copied (a million rows need not sit in memory)."""
        rng, now = self.rng, self.now
        for job in self.jobs:
            end = job.filled or job.ended or now
            taken = {u.id for u in job.hired + job.forced_pending}
            others = self._pick(self.applying, len(job.others), taken)
            entries = (
                [(u, "a") for u in job.hired]
                + [(u, "p") for u in job.forced_pending]
                + list(zip(others, job.others, strict=True))
            )
            for worker, code in entries:
                low = worker.created if job.created < worker.created < end else job.created
                created = low + (end - low) * rng.random()
                if code == "p":
                    status, decided = ApplicationStatus.pending, None
                elif code == "a":
                    status, decided = ApplicationStatus.accepted, created + (end - created) * rng.random()
                elif code == "w":
                    status, decided = ApplicationStatus.withdrawn, created + (end - created) * rng.random()
                else:
                    status = ApplicationStatus.rejected
                    # pending ones were rejected when the job filled up or was cancelled
                    decided = end if end < now else created + (now - created) * rng.random()
                bid = int(round(job.pay_rate * rng.uniform(0.85, 1.15), -1)) if rng.random() < 0.5 else None
                hours = (
                    max(1, round(job.hours * rng.uniform(0.7, 1.3)))
                    if job.hours is not None and rng.random() < 0.5
                    else None
                )
                letter = rng.choice(COVER_LETTERS).format(y=rng.randint(1, 20), when=rng.choice(WHEN))
                created_at = _dt(created)
                decided_at = _dt(decided) if decided is not None else None
                yield (
                    job.id,
                    worker.id,
                    status.value,
                    letter,
                    bid,
                    hours,
                    decided_at,
                    created_at,
                    decided_at or created_at,
                )

    def application_count(self) -> int:
        return sum(len(j.hired) + len(j.forced_pending) + len(j.others) for j in self.jobs)

    def job_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for job in self.jobs:
            assert job.topic is not None
            words = {"n": rng.randint(2, 5), "m": rng.randint(3, 15) * 10}
            title = rng.choice(job.topic.tasks).format(**words)
            if job.location is not None and rng.random() < 0.3:
                title += f" in {job.location[0]}"
            elif rng.random() < 0.15:
                title += rng.choice(TITLE_SUFFIXES)
            details = [*job.topic.details, *GENERAL_DETAILS]
            description = " ".join(
                [f"{title}.", *(s.format(**words) for s in rng.sample(details, min(3, len(details))))]
            )
            starts_at = ends_at = None
            if rng.random() < 0.6:
                start = job.created + DAY * rng.uniform(1, 21)
                starts_at = _dt(start - start % 3600)
                ends_at = starts_at + timedelta(hours=job.hours or rng.randint(2, 48))
            city, lat, lng = job.location or (None, None, None)
            n_active = len(job.hired) + len(job.forced_pending) + len(job.others) - job.others.count("w")
            updated = max(t for t in (job.created, job.funded, job.filled, job.ended) if t is not None)
            yield (
                job.id, job.client.id, job.category_id, title[:120], description, job.pay_type, job.pay_rate,
                job.hours, job.openings, job.total, job.status.value, job.escrow.value, len(job.hired), n_active,
                city, lat, lng, starts_at, ends_at,
                _dt(job.ended) if job.status == JobStatus.completed and job.ended else None,
                _dt(job.ended) if job.status == JobStatus.cancelled and job.ended else None,
                _dt(job.created), _dt(updated),
            )  # fmt: skip

    # money ------------------------------------------------------------------------------------------------------

    def _account(self, code: str, kind: AccountKind, user_id: int | None, at: float) -> _Account:
        account = _Account(id=self._new_id("accounts"), code=code, kind=kind.value, user_id=user_id, created=at)
        self.accounts.append(account)
        return account

    def _record(
        self, job: _Job, kind: PaymentKind, status: PaymentStatus, amount: int, payer: int | None,
        payee: int | None, at: float, legs: Sequence[tuple[_Account, int]], updated: float | None = None,
    ) -> None:  # fmt: skip
        """A payment and its ledger legs, moving the balances (as `PaymentRepository.record`)."""
        payment_id = self._new_id("payments")
        self.payments.append(
            (payment_id, job.id, kind.value, status.value, amount, self.settings.currency, payer, payee, _dt(at),
             _dt(updated or at))
        )  # fmt: skip
        for account, leg in legs:
            if leg:
                self.ledger.append((payment_id, account.id, leg, _dt(at)))
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
        forced: list[tuple[_Job, _User, _User]] = []
        optional: list[tuple[_Job, _User, _User]] = []
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
                 _dt(read) if read else None, _dt(created), _dt(read or created))
            )  # fmt: skip
            reviewee.rating_sum += rating
            reviewee.rating_count += 1

    # rows -------------------------------------------------------------------------------------------------------

    def user_rows(self) -> Iterator[tuple[Any, ...]]:
        for u in self.users:
            name, phone, headline, bio, rate, payout_method, payout_account = u.profile
            city, lat, lng = u.location or (None, None, None)
            updated = u.created + (self.now - u.created) * self.rng.random()
            yield (
                u.id, f"user{u.id}@seed.example", self.password_hash, name, u.role, phone, headline, bio, rate,
                city, lat, lng, payout_method, payout_account, u.rating_sum, u.rating_count, u.completed_jobs,
                _dt(u.created), _dt(updated),
            )  # fmt: skip

    def account_rows(self) -> Iterator[tuple[Any, ...]]:
        for a in self.accounts:
            yield (a.id, a.code, a.kind, a.user_id, a.balance, _dt(a.created), _dt(max(a.updated, a.created)))


# ---------------------------------------------------------------------------------------------------------------
# Database


USER_COLUMNS = (
    "id", "email", "password_hash", "full_name", "role", "phone", "headline", "bio", "hourly_rate_minor", "city",
    "lat", "lng", "payout_method", "payout_account", "rating_sum", "rating_count", "completed_jobs", "created_at",
    "updated_at",
)  # fmt: skip
JOB_COLUMNS = (
    "id", "client_id", "category_id", "title", "description", "pay_type", "pay_rate_minor", "hours", "openings",
    "total_cost_minor", "status", "escrow_status", "hired_count", "applications_count", "city", "lat", "lng",
    "starts_at", "ends_at", "completed_at", "cancelled_at", "created_at", "updated_at",
)  # fmt: skip
APPLICATION_COLUMNS = (
    "job_id", "worker_id", "status", "cover_letter", "bid_minor", "estimated_hours", "decided_at", "created_at",
    "updated_at",
)  # fmt: skip
ACCOUNT_COLUMNS = ("id", "code", "kind", "user_id", "balance_minor", "created_at", "updated_at")
PAYMENT_COLUMNS = (
    "id", "job_id", "kind", "status", "amount_minor", "currency", "payer_id", "payee_id", "created_at", "updated_at",
)  # fmt: skip
LEDGER_COLUMNS = ("payment_id", "account_id", "amount_minor", "created_at")
REVIEW_COLUMNS = ("job_id", "reviewer_id", "reviewee_id", "rating", "comment", "read_at", "created_at", "updated_at")
# Tables whose ids the generator assigns (rows of other tables refer to them).
EXPLICIT_ID_TABLES = ("users", "jobs", "accounts", "payments")
TOUCHED_TABLES = (
    "users", "user_skills", "jobs", "job_skills", "applications", "accounts", "payments", "ledger_entries", "reviews",
)  # fmt: skip


async def _read_context(session: AsyncSession) -> _Context:
    # Explicit ids are only safe while nobody else inserts: concurrent writers wait until the commit.
    await session.execute(text(f"LOCK TABLE {', '.join(EXPLICIT_ID_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
    base_ids = {}
    for table in EXPLICIT_ID_TABLES:
        base_ids[table] = await session.scalar(
            text(
                f"SELECT GREATEST(COALESCE(MAX(id), 0),"
                f" COALESCE(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')::regclass), 0))"
                f" FROM {table}"
            )
        )
    categories = [
        tuple(row) for row in await session.execute(text("SELECT id, slug, name FROM categories ORDER BY id"))
    ]
    if not categories:
        raise RuntimeError("no categories: run the migrations first")
    skills = {slug: id_ for id_, slug in await session.execute(text("SELECT id, slug FROM skills"))}
    system: dict[str, _Account] = {}
    for code, kind in ((EXTERNAL_FUNDING, AccountKind.external), (PLATFORM_FEES, AccountKind.platform)):
        # as PaymentRepository.account_id: the migration creates them, but never assume
        row = (
            await session.execute(
                text(
                    "INSERT INTO accounts (code, kind) VALUES (:code, :kind)"
                    " ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code"
                    " RETURNING id, extract(epoch FROM created_at)"
                ),
                {"code": code, "kind": kind.value},
            )
        ).one()
        system[code] = _Account(
            id=row[0], code=code, kind=kind.value, user_id=None, created=float(row[1]), existing=True
        )
    demo_users: dict[str, _User] = {}
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
            demo_users[email] = _User(id=id_, role=role, created=float(created), location=location, existing=True)
    user_accounts = {
        user_id: _Account(id=id_, code=code, kind=AccountKind.user.value, user_id=user_id, created=0.0, existing=True)
        for id_, code, user_id in await session.execute(
            text("SELECT id, code, user_id FROM accounts WHERE user_id = ANY(:ids)"),
            {"ids": [u.id for u in demo_users.values()]},
        )
    }
    return _Context(base_ids, categories, skills, system, demo_users, user_accounts)


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def _copy(
    raw: asyncpg.Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], total: int
) -> tuple[str, int, float]:
    started = time.perf_counter()
    done = 0
    with tqdm(total=total, desc=f"{table:<14}", unit=" rows", unit_scale=True, disable=None, leave=False) as bar:
        for chunk in _chunks(rows, COPY_CHUNK):
            await raw.copy_records_to_table(table, records=chunk, columns=list(columns))
            done += len(chunk)
            bar.update(len(chunk))
    return table, done, time.perf_counter() - started


async def _load(session: AsyncSession, gen: _Generator) -> list[tuple[str, int, float]]:
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    users = gen.users
    timings = [
        await _copy(raw, "users", USER_COLUMNS, gen.user_rows(), len(users)),
        await _copy(
            raw, "user_skills", ("user_id", "skill_id"), ((u.id, s) for u in users for s in u.skills),
            sum(len(u.skills) for u in users),
        ),
        await _copy(raw, "jobs", JOB_COLUMNS, gen.job_rows(), len(gen.jobs)),
        await _copy(
            raw, "job_skills", ("job_id", "skill_id"), ((j.id, s) for j in gen.jobs for s in j.skills),
            sum(len(j.skills) for j in gen.jobs),
        ),
        await _copy(raw, "applications", APPLICATION_COLUMNS, gen.application_rows(), gen.application_count()),
        await _copy(raw, "accounts", ACCOUNT_COLUMNS, gen.account_rows(), len(gen.accounts)),
        await _copy(raw, "payments", PAYMENT_COLUMNS, gen.payments, len(gen.payments)),
        await _copy(raw, "ledger_entries", LEDGER_COLUMNS, gen.ledger, len(gen.ledger)),
        await _copy(raw, "reviews", REVIEW_COLUMNS, gen.reviews, len(gen.reviews)),
    ]  # fmt: skip
    # Rows that existed before (system accounts, the demo users and their accounts) are moved by adding.
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
    for table in EXPLICIT_ID_TABLES:
        if gen.next_id[table] > gen.ctx.base_ids[table]:
            await raw.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), $1)", gen.next_id[table])
    return timings


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
        gen = _Generator(plan, settings, await _read_context(session), password_hash)
        gen.build()
        generated = time.perf_counter()
        print(f"planned in {generated - started:.1f}s; loading with COPY")
        timings = await _load(session, gen)
    analyze_started = time.perf_counter()
    async with sessionmaker() as session, session.begin():
        await session.execute(text(f"ANALYZE {', '.join(TOUCHED_TABLES)}"))
    for table, rows, seconds in timings:
        print(f"  {table:<14} {rows:>10,} rows {seconds:7.1f}s")
    print(f"  {'ANALYZE':<14} {'':>10}      {time.perf_counter() - analyze_started:7.1f}s")
    print(
        f"seeded {len(gen.users):,} users, {len(gen.jobs):,} jobs, {gen.application_count():,} applications,"
        f" {len(gen.payments):,} payments, {len(gen.reviews):,} reviews in {time.perf_counter() - started:.1f}s"
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
        logins = ", ".join(f"{a.email} / {a.password}" for a in DEMO_ACCOUNTS)
        print(f"demo data ready; log in as {logins}")
    finally:
        await engine.dispose()
