"""Cache tags for rows a write changes that its response does not name (see app/cache/invalidation.py)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.cache import bust
from app.cache import tags as t
from app.repositories.applications import ApplicationRepository
from app.repositories.users import UserRepository


async def job_changed(session: AsyncSession, job_id: int) -> None:
    """The job's title, status or pay changed: every applicant's own list shows its summary, and a status
    change takes it off (or keeps it off) the search pages."""
    workers = await ApplicationRepository(session).applicant_ids(job_id)
    bust(session, t.JOBS_LIST, *(t.user_applications(w) for w in workers))


async def user_changed(session: AsyncSession, user_id: int, *, names: bool = False) -> None:
    """A user's public data (name, rating, completed jobs, skills...) changed: bust what embeds it.

    Their profile; the jobs they posted (job views and their jobs list embed the client's name and rating);
    the jobs they applied to (applicant lists and rankings embed the worker); with `names`, also the search
    pages (cards show the client's name) and the review pages that print their name.
    """
    users = UserRepository(session)
    posted, applied = await users.related_job_ids(user_id)
    tags = [t.user(user_id), t.user_jobs(user_id), *map(t.job, posted), *map(t.job_applicants, applied)]
    if names:
        reviewed, reviewers = await users.review_counterparts(user_id)
        tags += [t.JOBS_LIST, t.user_reviews(user_id), t.user_reviews_given(user_id)]
        tags += [t.user_reviews(x) for x in reviewed] + [t.user_reviews_given(y) for y in reviewers]
    bust(session, *tags)
