"""Tag builders: the one place that names what a cached response depends on.

A read declares its tags before it runs (from its parameters); a write busts tags after it commits
(see invalidation.py). Every entry also carries ALL, which a global flush deletes.
"""

ALL = "all"
CATALOG = "catalog"
JOBS_LIST = "jobs:list"  # every search page of open jobs (their cards: no counters, no ratings)


def job(job_id: int | str) -> str:
    """A job's detail (with its counters and its client's name and rating)."""
    return f"job:{int(job_id)}"


def job_applicants(job_id: int | str) -> str:
    """A job's applications list and its ranking (they embed the workers' profiles)."""
    return f"job:{int(job_id)}:applicants"


def user(user_id: int | str) -> str:
    """A user's profile (name, skills, rating, completed jobs) and everything that embeds it."""
    return f"user:{int(user_id)}"


def user_jobs(user_id: int | str) -> str:
    return f"user:{int(user_id)}:jobs"


def user_reviews(user_id: int | str) -> str:
    """Reviews a user received."""
    return f"user:{int(user_id)}:reviews"


def user_reviews_given(user_id: int | str) -> str:
    return f"user:{int(user_id)}:reviews-given"


def user_applications(user_id: int | str) -> str:
    """A worker's own applications list."""
    return f"user:{int(user_id)}:applications"
