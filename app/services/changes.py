"""Who else a change touches: one lookup per user whose public data changed (see app/changes.py)."""

from app.changes import UserLinks
from app.repositories.users import UserRepository


async def user_links(users: UserRepository, user_id: int, *, names: bool = False) -> UserLinks:
    posted, applied = await users.list_related_job_ids(user_id)
    if not names:
        return UserLinks(user_id, posted, applied)
    reviewed, reviewers = await users.list_review_counterparts(user_id)
    return UserLinks(user_id, posted, applied, reviewed, reviewers, names=True)
