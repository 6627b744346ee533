"""Accounts and sessions: registration, password login, rotating refresh tokens."""

from app.db import UnitOfWork
from app.errors import Conflict, Unauthorized
from app.models import User
from app.models.enums import Role
from app.repositories.users import RefreshTokenRepository, UserRepository
from app.schemas.auth import AdminCreate, NewAccount, TokenPair, UserCreate
from app.security import (
    create_access_token,
    hash_password,
    new_refresh_token,
    refresh_token_id,
    verify_password,
)
from app.settings import Settings


class AuthService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)
        self.settings = settings

    async def register(self, data: UserCreate) -> User:
        return await self._create(data, Role(data.role))

    async def create_admin(self, data: AdminCreate) -> User:
        """The `create-admin` command: the rules of a registration, with the admin role."""
        return await self._create(data, Role.admin)

    async def _create(self, data: NewAccount, role: Role) -> User:
        email = data.email.lower()
        if await self.users.get_by_email(email) is not None:
            raise Conflict("An account with this email already exists.")
        user = User(
            email=email,
            password_hash=hash_password(data.password, self.settings),
            full_name=data.full_name,
            role=role,
        )
        # The unique constraint still decides a concurrent duplicate (rendered as 409).
        await self.users.add(user)
        profile = await self.users.get_profile(user.id)
        assert profile is not None  # inserted by this transaction
        return profile

    async def login(self, email: str, password: str) -> TokenPair:
        user = await self.users.get_by_email(email)
        if user is None or not verify_password(password, user.password_hash, self.settings):
            raise Unauthorized("Incorrect email or password.")
        return await self._issue(user.id, user.role)

    async def refresh(self, refresh_token: str) -> TokenPair:
        user_id = await self.tokens.consume(refresh_token_id(refresh_token))
        if user_id is None:
            raise Unauthorized("The refresh token is invalid, expired, or already used.")
        user = await self.users.get(user_id)
        if user is None:  # the token outlived its account
            raise Unauthorized("The refresh token is invalid, expired, or already used.")
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
