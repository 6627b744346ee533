"""The rows COPY loads, table by table: each table's columns beside the function that builds its tuples.

The builders draw from the generator's random stream while the rows are copied (a million applications need
not sit in memory), so `copies()` lists them in the one order the loader must follow.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.models.enums import ApplicationStatus, JobStatus
from app.seed.data import COVER_LETTERS, GENERAL_DETAILS, TITLE_SUFFIXES, WHEN
from app.seed.generator import DAY, Generator, dt

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


def user_rows(gen: Generator) -> Iterator[tuple[Any, ...]]:
    for u in gen.users:
        name, phone, headline, bio, rate, payout_method, payout_account = u.profile
        city, lat, lng = u.location or (None, None, None)
        updated = u.created + (gen.now - u.created) * gen.rng.random()
        yield (
            u.id, f"user{u.id}@seed.example", gen.password_hash, name, u.role, phone, headline, bio, rate,
            city, lat, lng, payout_method, payout_account, u.rating_sum, u.rating_count, u.completed_jobs,
            dt(u.created), dt(updated),
        )  # fmt: skip


def account_rows(gen: Generator) -> Iterator[tuple[Any, ...]]:
    for a in gen.accounts:
        yield (a.id, a.code, a.kind, a.user_id, a.balance, dt(a.created), dt(max(a.updated, a.created)))


def application_rows(gen: Generator) -> Iterator[tuple[Any, ...]]:
    """The applications, job by job; generated while they are copied (a million rows need not sit in memory)."""
    rng, now = gen.rng, gen.now
    for job in gen.jobs:
        end = job.filled or job.ended or now
        taken = {u.id for u in job.hired + job.forced_pending}
        others = gen.pick(gen.applying, len(job.others), taken)
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
            created_at = dt(created)
            decided_at = dt(decided) if decided is not None else None
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


def application_count(gen: Generator) -> int:
    return sum(len(j.hired) + len(j.forced_pending) + len(j.others) for j in gen.jobs)


def job_rows(gen: Generator) -> Iterator[tuple[Any, ...]]:
    rng = gen.rng
    for job in gen.jobs:
        assert job.topic is not None
        words = {"n": rng.randint(2, 5), "m": rng.randint(3, 15) * 10}
        title = rng.choice(job.topic.tasks).format(**words)
        if job.location is not None and rng.random() < 0.3:
            title += f" in {job.location[0]}"
        elif rng.random() < 0.15:
            title += rng.choice(TITLE_SUFFIXES)
        details = [*job.topic.details, *GENERAL_DETAILS]
        description = " ".join([f"{title}.", *(s.format(**words) for s in rng.sample(details, min(3, len(details))))])
        starts_at = ends_at = None
        if rng.random() < 0.6:
            start = job.created + DAY * rng.uniform(1, 21)
            starts_at = dt(start - start % 3600)
            ends_at = starts_at + timedelta(hours=job.hours or rng.randint(2, 48))
        city, lat, lng = job.location or (None, None, None)
        n_active = len(job.hired) + len(job.forced_pending) + len(job.others) - job.others.count("w")
        updated = max(t for t in (job.created, job.funded, job.filled, job.ended) if t is not None)
        yield (
            job.id, job.client.id, job.category_id, title[:120], description, job.pay_type, job.pay_rate,
            job.hours, job.openings, job.total, job.status.value, job.escrow.value, len(job.hired), n_active,
            city, lat, lng, starts_at, ends_at,
            dt(job.ended) if job.status == JobStatus.completed and job.ended else None,
            dt(job.ended) if job.status == JobStatus.cancelled and job.ended else None,
            dt(job.created), dt(updated),
        )  # fmt: skip


@dataclass(frozen=True)
class Copy:
    """One table's COPY: its columns, its rows (lazy where they are drawn while copied) and how many."""

    table: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[Any, ...]]
    total: int


def copies(gen: Generator) -> list[Copy]:
    """Every table's rows, in load order (users before what refers to them; the draws follow this order)."""
    users, jobs = gen.users, gen.jobs
    return [
        Copy("users", USER_COLUMNS, user_rows(gen), len(users)),
        Copy("user_skills", ("user_id", "skill_id"), ((u.id, s) for u in users for s in u.skills),
             sum(len(u.skills) for u in users)),
        Copy("jobs", JOB_COLUMNS, job_rows(gen), len(jobs)),
        Copy("job_skills", ("job_id", "skill_id"), ((j.id, s) for j in jobs for s in j.skills),
             sum(len(j.skills) for j in jobs)),
        Copy("applications", APPLICATION_COLUMNS, application_rows(gen), application_count(gen)),
        Copy("accounts", ACCOUNT_COLUMNS, account_rows(gen), len(gen.accounts)),
        Copy("payments", PAYMENT_COLUMNS, gen.payments, len(gen.payments)),
        Copy("ledger_entries", LEDGER_COLUMNS, gen.ledger, len(gen.ledger)),
        Copy("reviews", REVIEW_COLUMNS, gen.reviews, len(gen.reviews)),
    ]  # fmt: skip
