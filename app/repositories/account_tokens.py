from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import joinedload

from app.models import AccountToken
from app.models.enums import AccountTokenPurpose
from app.repositories.base import Repository


class AccountTokenRepository(Repository[AccountToken]):
    model = AccountToken

    async def issue(
        self, user_id: int, purpose: AccountTokenPurpose, token_hash: str, salt: str, ttl: timedelta
    ) -> AccountToken:
        token = AccountToken(
            user_id=user_id, purpose=purpose, token_hash=token_hash, salt=salt, expires_at=datetime.now(UTC) + ttl
        )
        return await self.add(token)

    async def get_with_user(self, token_id: int) -> AccountToken | None:
        return await self.get(token_id, joinedload(AccountToken.user))

    async def consume(self, token_hash: str, purpose: AccountTokenPurpose) -> int | None:
        """Spend a live token, atomically (a concurrent second use finds it spent); its user, or None."""
        user_id: int | None = await self.session.scalar(
            update(AccountToken)
            .where(
                AccountToken.token_hash == token_hash,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(AccountToken.user_id)
        )
        return user_id

    async def spend_all(self, user_id: int, purpose: AccountTokenPurpose) -> None:
        """Spend every live token of the account for `purpose` (one reset link used: the others stop working)."""
        await self.session.execute(
            update(AccountToken)
            .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
            .values(used_at=func.now())
        )
