"""Account changes that touch more than the users table (skills)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.repositories.catalog import SkillRepository
from app.repositories.users import UserRepository
from app.schemas.users import ProfileUpdate
from app.services import fanout


class UserService:
    def __init__(self, session: AsyncSession) -> None:
        self.users = UserRepository(session)
        self.skills = SkillRepository(session)

    async def update_profile(self, user_id: int, data: ProfileUpdate) -> User:
        user = await self.users.profile(user_id)
        plain = data.model_dump(exclude_unset=True, exclude={"skills", "location", "payout_details"})
        for name, value in plain.items():
            setattr(user, name, value)
        if "skills" in data.model_fields_set:
            user.skills = await self.skills.by_slugs(data.skills or [])
        if "location" in data.model_fields_set:
            loc = data.location
            user.city, user.lat, user.lng = (loc.city, loc.lat, loc.lng) if loc else (None, None, None)
        if "payout_details" in data.model_fields_set:
            payout = data.payout_details
            user.payout_method, user.payout_account = (payout.method, payout.account) if payout else (None, None)
        await self.users.session.flush()
        await fanout.user_changed(self.users.session, user_id, names=True)
        self.users.session.expire(user)
        return await self.users.profile(user_id)
