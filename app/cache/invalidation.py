"""Which tags each write busts, applied after its transaction commits.

`WRITE_TAGS` maps every write endpoint (by operation id) to the tags derivable from its path parameters,
its caller and its response. Rows a write touches that its response does not name (a client's other jobs
after their rating changed, the applicants of a job that filled) are added by the services through
`bust()`. The unit of work (app.deps.get_session) invalidates the union right after the commit succeeds and
before the response is sent; a rollback invalidates nothing.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.cache import tags as t
from app.security import Principal

TAGS_KEY = "cache_tags"


def bust(session: AsyncSession, *names: str) -> None:
    """Record tags to invalidate once this unit of work commits."""
    session.info.setdefault(TAGS_KEY, set()).update(names)


@dataclass(frozen=True)
class WriteContext:
    params: dict[str, Any]
    principal: Principal | None
    result: Any


def _job_write(c: WriteContext) -> list[str]:
    job = c.result  # search cards, the detail, the ranking (job skills and place), the client's list
    return [t.JOBS_LIST, t.job(job.id), t.job_applicants(job.id), t.user_jobs(job.client.id)]


def _application_write(c: WriteContext) -> list[str]:
    application = c.result  # the job's counters (detail, client's list), its applicants, the worker's list
    return [
        t.job(application.job_id),
        t.job_applicants(application.job_id),
        t.user_jobs(application.job.client_id),
        t.user_applications(application.worker_id),
    ]


def _review_write(c: WriteContext) -> list[str]:
    review = c.result
    return [t.user_reviews(review.reviewee.id), t.user_reviews_given(review.reviewer.id), t.user(review.reviewee.id)]


WRITE_TAGS: dict[str, Callable[[WriteContext], list[str]]] = {
    # auth: nothing cached depends on accounts that only exist from now on, or on tokens
    "register": lambda c: [],
    "create_token": lambda c: [],
    "refresh_token": lambda c: [],
    "logout": lambda c: [],
    "create_session": lambda c: [],
    "refresh_session": lambda c: [],
    "end_session": lambda c: [],
    # users (+ services.users fans out to everything that embeds the user's public data)
    "update_me": lambda c: [t.user(c.result.id)],
    # jobs (+ the applicants' own lists, fanned out by services.jobs)
    "create_job": _job_write,
    "update_job": _job_write,
    "cancel_job": _job_write,
    "complete_job": _job_write,
    # applications (+ search pages and the other applicants when the last opening fills)
    "create_application": _application_write,
    "withdraw_application": _application_write,
    "accept_application": _application_write,
    "reject_application": _application_write,
    # payments are not cached; funding changes the job's `funded`
    "fund_job": lambda c: [t.job(c.params["job_id"]), t.user_jobs(c.principal.id)],  # type: ignore[union-attr]
    # reviews (+ the reviewee's rating where it is embedded, fanned out by services.reviews)
    "create_review": _review_write,
    "mark_review_read": _review_write,
}


def invalidates(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Mark a write endpoint: after it returns, add its WRITE_TAGS entry to the unit of work's tags."""
    tags_of = WRITE_TAGS[func.__name__]
    parameters = inspect.signature(func).parameters

    @functools.wraps(func)
    async def wrapper(**kwargs: Any) -> Any:
        result = await func(**kwargs)
        session = next(v for v in kwargs.values() if isinstance(v, AsyncSession))
        principal = next((v for v in kwargs.values() if isinstance(v, Principal)), None)
        params = {name: kwargs[name] for name in parameters if name.endswith("_id")}
        bust(session, *tags_of(WriteContext(params, principal, result)))
        return result

    wrapper.write_tags = tags_of  # type: ignore[attr-defined]
    return wrapper
