"""What each kind of write invalidates, from the response body and the Change it returned (used by
`@invalidates` at the routes, beside the reads' `@cached`). Tag names come from app.cache.tags only."""

from collections.abc import Iterable

from app.cache import WriteContext
from app.cache import tags as t
from app.changes import UserLinks


def nothing(_: WriteContext) -> list[str]:
    """Writes no cached read depends on (accounts that exist only from now on, tokens)."""
    return []


def _people(people: Iterable[UserLinks]) -> list[str]:
    """Users whose public data changed: their profile and lists, and the pages that embed them."""
    tags: list[str] = []
    for u in people:
        tags += [t.user(u.user_id), t.user_jobs(u.user_id), *map(t.job, u.posted), *map(t.job_applicants, u.applied)]
        if u.names:  # the review pages that print the name
            tags += [t.user_reviews(u.user_id), t.user_reviews_given(u.user_id)]
            tags += [t.user_reviews(x) for x in u.reviewed] + [t.user_reviews_given(y) for y in u.reviewers]
    return tags


def _fan_out(c: WriteContext) -> list[str]:
    return [
        *([t.JOBS_LIST] if c.change.search else []),
        *(t.user_applications(w) for w in c.change.applicants),
        *_people(c.change.users),
    ]


def job_write(c: WriteContext) -> list[str]:
    """A job's search cards, detail, ranking (its skills and place) and its client's list."""
    job = c.result
    return [t.JOBS_LIST, t.job(job.id), t.job_applicants(job.id), t.user_jobs(job.client.id), *_fan_out(c)]


def application_write(c: WriteContext) -> list[str]:
    """The job's counters (detail, client's list), its applicants, the worker's own list."""
    application = c.result
    return [
        t.job(application.job_id),
        t.job_applicants(application.job_id),
        t.user_jobs(application.job.client_id),
        t.user_applications(application.worker_id),
        *_fan_out(c),
    ]


def review_write(c: WriteContext) -> list[str]:
    review = c.result
    return [
        t.user_reviews(review.reviewee.id),
        t.user_reviews_given(review.reviewer.id),
        t.user(review.reviewee.id),
        *_fan_out(c),
    ]


def profile_write(c: WriteContext) -> list[str]:
    return [t.user(c.result.id), *_fan_out(c)]


def attendance_write(c: WriteContext) -> list[str]:
    """Timesheets are not cached; a check-in or a no-show moves the worker's reliability (their profile, the
    rankings that embed them)."""
    return _fan_out(c)


def funding_write(c: WriteContext) -> list[str]:
    """Payments are not cached; funding changes the job's `funded` (its detail and its client's list)."""
    assert c.principal is not None
    return [t.job(c.result.job_id), t.user_jobs(c.principal.id)]
