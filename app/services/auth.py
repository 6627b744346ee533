from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Unauthorized
from app.models import User
from app.repositories.users import RefreshTokenRepository, UserRepository
from app.schemas.auth import RegisterIn, TokenPair
from app.security import (
    create_access_token,
    hash_password,
    new_refresh_token,
    refresh_token_id,
    verify_password,
)
from app.settings import Settings


class AuthService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)
        self.settings = settings

    async def register(self, data: RegisterIn) -> User:
        email = data.email.lower()
        if await self.users.by_email(email) is not None:
            raise Conflict("An account with this email already exists.", "email_taken")
        user = User(
            email=email,
            password_hash=hash_password(data.password, self.settings),
            full_name=data.full_name,
            role=data.role,
        )
        # The unique constraint still decides a concurrent duplicate (rendered as 409).
        await self.users.add(user)
        return await self.users.profile(user.id)

    async def login(self, email: str, password: str) -> TokenPair:
        user = await self.users.by_email(email)
        if user is None or not verify_password(password, user.password_hash, self.settings):
            raise Unauthorized("Incorrect email or password.", "invalid_credentials")
        return await self._issue(user.id, user.role)

    async def refresh(self, refresh_token: str, grace_seconds: int = 0) -> TokenPair:
        user_id = await self.tokens.consume(refresh_token_id(refresh_token), grace_seconds)
        if user_id is None:
            raise Unauthorized("The refresh token is invalid, expired, or already used.", "invalid_refresh_token")
        user = await self.users.get_or_404(user_id)
        return await self._issue(user.id, user.role)

    async def logout(self, refresh_token: str) -> None:
        await self.tokens.revoke(refresh_token_id(refresh_token))

    async def _issue(self, user_id: int, role: str) -> TokenPair:
        refresh = new_refresh_token()
        await self.tokens.issue(refresh_token_id(refresh), user_id, self.settings.refresh_token_ttl_seconds)
        return TokenPair(
            access_token=create_access_token(user_id, role, self.settings),
            refresh_token=refresh,
            expires_in=self.settings.access_token_ttl_seconds,
        )
