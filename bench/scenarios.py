"""What the load requests: the dataset's populations, the realistic mix and the saturation scenarios.

The request files are lines of bench/mix.lua's format (method, path, token, JSON body, tab-separated).
"""

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.security import create_access_token
from app.seed.generator import zipf_cum
from app.settings import Settings
from bench.plans import API, scenario_urls

# The realistic mix, in percent of requests. Reads: 95%; writes: applying and reviewing.
MIX = {
    "list_jobs": 10,
    "search_q": 8,
    "search_category": 6,
    "search_near": 6,
    "search_pay": 3,
    "search_q_near": 2,
    "job_detail": 25,
    "profile": 15,
    "reviews": 8,
    "reviews_given": 2,
    "best_applicants": 5,
    "client_jobs": 5,
    "apply": 3,
    "review_write": 2,
}
WRITES = ("apply", "review_write")
SATURATION = ("noop", "job_detail", "search", "reviews", "best_applicants")
# The raw yardsticks (bench/raw.py): the same scenarios without the /api/v1 prefix, a true no-op, and the job
# detail answered from one Redis GET.
RAW_SATURATION = ("noop", "job_detail", "search", "reviews", "best_applicants", "cached_job_detail")
SCENARIO_TITLES = {
    "noop": "no-op (project: GET /health; raw: GET /noop)",
    "job_detail": "GET /jobs/{id}",
    "search": "GET /jobs?q=&near=",
    "reviews": "GET /users/{id}/reviews",
    "best_applicants": "GET /jobs/{id}/best-applicants",
    "cached_job_detail": "raw: GET /jobs/{id} from one Redis GET",
    "mix_read_only": "read-only mix",
    "mix": "realistic mix",
}
# Fixed-rate endpoints the yardsticks also answer (their path is the project's without the /api/v1 prefix).
RAW_FIXED_RATE = ("get_job", "list_jobs q near", "list_user_reviews", "list_best_applicants")
# Every read endpoint at a fixed rate: names of bench.plans.scenario_urls (the heaviest instance of each).
FIXED_RATE = (
    "list_jobs newest",
    "list_jobs q",
    "list_jobs category",
    "list_jobs pay",
    "list_jobs near",
    "list_jobs q near",
    "get_job",
    "list_job_applications",
    "list_best_applicants",
    "get_user",
    "list_user_reviews",
    "list_user_given_reviews",
    "list_user_jobs",
    "list_my_applications",
    "get_me",
    "list_user_payments",
    "get_application",
    "get_payment",
    "list_categories",
    "list_skills",
)


@dataclass
class Dataset:
    """Who and what the load is about, read from the database once."""

    hot_jobs: list[tuple[int, int]]  # open jobs (id, owner), most applied-to first
    profiles: list[int]  # users with the most reviews received
    reviewers: list[int]  # users with the most reviews written
    clients: list[int]  # clients with the most jobs
    workers: list[int]  # every worker
    terms: list[str]  # the most frequent words of open jobs' titles
    cities: list[tuple[str, float, float]]  # (city, lat, lng) with the most open jobs
    categories: list[str]
    review_triples: list[tuple[int, int, str, int]]  # (job, reviewer, reviewer's role, reviewee), not yet reviewed
    fixed_rate: list[tuple[str, str, dict[str, str]]]  # (name, path, headers) per read endpoint


async def load_dataset(settings: Settings, reviews_wanted: int) -> Dataset:
    """Query the populations the load draws from (a few seconds on the large dataset)."""
    engine = create_async_engine(settings.database_url)
    try:
        return await _load_dataset(engine, settings, reviews_wanted)
    finally:
        await engine.dispose()


async def _load_dataset(engine: AsyncEngine, settings: Settings, reviews_wanted: int) -> Dataset:
    """The queries of load_dataset on an open engine."""
    async with engine.connect() as conn:

        async def rows(sql: str, **params: Any) -> list[Any]:
            return list((await conn.execute(text(sql), params)).all())

        hot_jobs = await rows(
            "SELECT id, client_id FROM jobs WHERE status = 'open' ORDER BY applications_count DESC, id LIMIT 2000"
        )
        profiles = await rows("SELECT reviewee_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2000")
        reviewers = await rows("SELECT reviewer_id FROM reviews GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500")
        clients = await rows("SELECT client_id FROM jobs GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500")
        workers = await rows("SELECT id FROM users WHERE role = 'worker' ORDER BY id")
        terms = await rows(
            "SELECT w FROM jobs, regexp_split_to_table(lower(title), '[^a-z]+') AS w "
            "WHERE status = 'open' AND length(w) >= 4 AND numnode(plainto_tsquery('english', w)) > 0 "
            "GROUP BY w ORDER BY count(*) DESC, w LIMIT 24"
        )
        cities = await rows(
            "SELECT city, avg(lat), avg(lng) FROM jobs WHERE status = 'open' AND lat IS NOT NULL "
            "GROUP BY city ORDER BY count(*) DESC, city LIMIT 12"
        )
        categories = await rows("SELECT slug FROM categories ORDER BY id")
        # Both sides of every hire on a completed job, minus the pairs that reviewed already.
        triples = await rows(
            "WITH hires AS (SELECT j.id AS job_id, j.client_id, a.worker_id FROM jobs j "
            "  JOIN applications a ON a.job_id = j.id AND a.status = 'accepted' WHERE j.status = 'completed'), "
            "pairs AS (SELECT job_id, client_id AS reviewer, worker_id AS reviewee FROM hires "
            "  UNION ALL SELECT job_id, worker_id, client_id FROM hires) "
            "SELECT p.job_id, p.reviewer, u.role, p.reviewee FROM pairs p JOIN users u ON u.id = p.reviewer "
            "WHERE NOT EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = p.job_id "
            "  AND r.reviewer_id = p.reviewer AND r.reviewee_id = p.reviewee) "
            "ORDER BY random() LIMIT :n",
            n=reviews_wanted,
        )
    by_name = {name: (url, headers) for name, url, headers in await scenario_urls(engine, settings)}
    missing = [name for name in FIXED_RATE if name not in by_name]
    if missing:
        raise SystemExit(f"bench.plans.scenario_urls has no scenario named {missing}")
    return Dataset(
        hot_jobs=[(job, owner) for job, owner in hot_jobs],
        profiles=[user for (user,) in profiles],
        reviewers=[user for (user,) in reviewers],
        clients=[user for (user,) in clients],
        workers=[user for (user,) in workers],
        terms=[term for (term,) in terms],
        cities=[(city, float(lat), float(lng)) for city, lat, lng in cities],
        categories=[slug for (slug,) in categories],
        review_triples=[(job, reviewer, role, reviewee) for job, reviewer, role, reviewee in triples],
        fixed_rate=[(name, *by_name[name]) for name in FIXED_RATE],
    )


class Zipf:
    """Draws items with weight 1/rank^s: a few hot items get most of the traffic, as in real browsing."""

    def __init__(self, items: Sequence[Any], s: float = 1.0) -> None:
        self.items = list(items)
        self.cum_weights = zipf_cum(len(self.items), s)

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.items, cum_weights=self.cum_weights)[0]


class Tokens:
    """Access tokens minted with the bench secret (no login traffic), one per user."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.minted: dict[int, str] = {}

    def __call__(self, user_id: int, role: str) -> str:
        if user_id not in self.minted:
            self.minted[user_id] = create_access_token(user_id, role, self.settings)
        return self.minted[user_id]


def line(method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None) -> str:
    """One request of a bench/mix.lua request file: method, path, token, JSON body, tab-separated."""
    return "\t".join((method, path, token or "-", json.dumps(body, separators=(",", ":")) if body else "-"))


def near(city: tuple[str, float, float]) -> str:
    """The `near=lat,lng` value of a city."""
    return f"{city[1]:.4f},{city[2]:.4f}"


def jobs_url(**params: Any) -> str:
    """GET /jobs with these query parameters."""
    return f"{API}/jobs" + (f"?{urlencode(params)}" if params else "")


class MixBuilder:
    """Draws the requests of the realistic mix from the dataset."""

    def __init__(self, data: Dataset, tokens: Tokens, rng: random.Random) -> None:
        self.data = data
        self.tokens = tokens
        self.rng = rng
        self.jobs = Zipf(data.hot_jobs)
        self.busy_jobs = Zipf(data.hot_jobs[:200])
        self.profiles = Zipf(data.profiles)
        self.reviewers = Zipf(data.reviewers)
        self.clients = Zipf(data.clients)
        self.terms = Zipf(data.terms)
        self.cities = Zipf(data.cities)
        self.categories = Zipf(data.categories)

    def request(self, kind: str, reviews: list[tuple[int, int, str, int]]) -> str:
        """One request of `kind`; review writes take (and consume) the next triple of `reviews`."""
        rng = self.rng
        match kind:
            case "list_jobs":
                return line("GET", jobs_url())
            case "search_q":
                return line("GET", jobs_url(q=self.terms.pick(rng)))
            case "search_category":
                return line("GET", jobs_url(category=self.categories.pick(rng)))
            case "search_near":
                return line("GET", jobs_url(near=near(self.cities.pick(rng)), radius_km=25, sort="distance"))
            case "search_pay":
                return line("GET", jobs_url(sort="pay"))
            case "search_q_near":
                return line("GET", jobs_url(q=self.terms.pick(rng), near=near(self.cities.pick(rng)), radius_km=50))
            case "job_detail":
                return line("GET", f"{API}/jobs/{self.jobs.pick(rng)[0]}")
            case "profile":
                return line("GET", f"{API}/users/{self.profiles.pick(rng)}")
            case "reviews":
                return line("GET", f"{API}/users/{self.profiles.pick(rng)}/reviews")
            case "reviews_given":
                return line("GET", f"{API}/users/{self.reviewers.pick(rng)}/reviews/given")
            case "best_applicants":
                job, owner = self.busy_jobs.pick(rng)
                return line("GET", f"{API}/jobs/{job}/best-applicants", self.tokens(owner, "client"))
            case "client_jobs":
                client = self.clients.pick(rng)
                return line("GET", f"{API}/users/{client}/jobs", self.tokens(client, "client"))
            case "apply":
                worker = rng.choice(self.data.workers)
                body = {"cover_letter": "Available this week.", "bid_minor": rng.randrange(2_000, 20_000, 100)}
                return line(
                    "POST", f"{API}/jobs/{self.jobs.pick(rng)[0]}/applications", self.tokens(worker, "worker"), body
                )
            case "review_write":
                job, reviewer, role, reviewee = reviews.pop()
                body = {"reviewee_id": reviewee, "rating": rng.choice((3, 4, 4, 5, 5, 5)), "comment": "Bench review."}
                return line("POST", f"{API}/jobs/{job}/reviews", self.tokens(reviewer, role), body)
        raise ValueError(kind)

    def mix(
        self, length: int, reviews: list[tuple[int, int, str, int]], writes: bool
    ) -> tuple[list[str], Counter[str]]:
        """`length` requests drawn with the MIX weights (reads only unless `writes`), and what they are."""
        kinds = [kind for kind in MIX if writes or kind not in WRITES]
        weights = [MIX[kind] for kind in kinds]
        lines: list[str] = []
        drawn: Counter[str] = Counter()
        for kind in self.rng.choices(kinds, weights=weights, k=length):
            if kind == "review_write" and not reviews:
                kind = "apply"  # no eligible pair left: another write instead
            lines.append(self.request(kind, reviews))
            drawn[kind] += 1
        return lines, drawn

    def raw_scenario(self, name: str) -> list[str]:
        """A saturation scenario of the raw yardsticks: the project's requests without the /api/v1 prefix."""
        if name == "noop":
            return [line("GET", "/noop")]
        if name == "cached_job_detail":
            return [line("GET", f"/cached/jobs/{job}") for job, _ in self.data.hot_jobs[:1000]]
        return [entry.replace(f"\t{API}/", "\t/", 1) for entry in self.scenario(name)]

    def scenario(self, name: str) -> list[str]:
        """The request file of one saturation scenario (reads only, rotated by every wrk thread)."""
        data = self.data
        if name == "noop":
            return [line("GET", "/health")]
        if name == "reviews":
            return [line("GET", f"{API}/users/{user}/reviews") for user in data.profiles[:1000]]
        if name == "job_detail":
            return [line("GET", f"{API}/jobs/{job}") for job, _ in data.hot_jobs[:1000]]
        if name == "search":
            return [
                line("GET", jobs_url(q=term, near=near(city), radius_km=50))
                for term in data.terms
                for city in data.cities
            ]
        if name == "best_applicants":
            return [
                line("GET", f"{API}/jobs/{job}/best-applicants", self.tokens(owner, "client"))
                for job, owner in data.hot_jobs[:200]
            ]
        raise ValueError(name)
