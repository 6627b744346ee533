"""Account changes that touch more than the users table (skills)."""

from app.changes import Change
from app.db import UnitOfWork
from app.models import User
from app.repositories.catalog import SkillRepository
from app.repositories.users import UserRepository
from app.schemas.users import MeUpdate
from app.services.catalog import skills_named
from app.services.changes import user_links


class UserService:
    def __init__(self, session: UnitOfWork) -> None:
        self.users = UserRepository(session)
        self.skills = SkillRepository(session)

    async def update_profile(self, user: User, data: MeUpdate) -> Change[User]:
        """`user` is the caller's profile (skills loaded). Names show on other pages: they change too."""
        plain = data.model_dump(exclude_unset=True, exclude={"skills", "location", "payout_details"})
        for name, value in plain.items():
            setattr(user, name, value)
        if "skills" in data.model_fields_set:
            user.skills = await skills_named(self.skills, data.skills or [])
        if "location" in data.model_fields_set:
            loc = data.location
            user.city, user.lat, user.lng = (loc.city, loc.lat, loc.lng) if loc else (None, None, None)
        if "payout_details" in data.model_fields_set:
            payout = data.payout_details
            user.payout_method, user.payout_account = (payout.method, payout.account) if payout else (None, None)
        await self.users.flush()
        user_id = user.id
        links = await user_links(self.users, user_id, names=True)
        self.users.forget(user)
        reloaded = await self.users.get_profile(user_id)
        assert reloaded is not None  # the caller's own row, just written
        return Change(reloaded, users=[links], search=True)
