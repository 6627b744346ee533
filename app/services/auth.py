"""Accounts and sessions: registration, password login, rotating refresh tokens."""

from app.db import UnitOfWork
from app.errors import Conflict, Unauthorized
from app.models import User
from app.models.enums import AccountTokenPurpose, Role
from app.repositories.users import RefreshTokenRepository, UserRepository
from app.schemas.auth import AdminCreate, NewAccount, TokenPair, UserCreate
from app.security import (
    create_access_token,
    dummy_hash,
    hash_password_async,
    new_refresh_token,
    new_token_family,
    refresh_token_id,
    verify_password_async,
)
from app.services.accounts import AccountService
from app.settings import Settings


class RefreshTokenReused(Unauthorized):
    """A rotated refresh token came back: its family is revoked, and that revocation must be committed."""

    keeps_changes = True
    code = "invalid_refresh_token"  # to the client, like any refused refresh: sign in again


class AuthService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.users = UserRepository(session)
        self.tokens = RefreshTokenRepository(session)
        self.accounts = AccountService(session, settings)
        self.settings = settings

    async def register(self, data: UserCreate) -> User:
        user = await self._create(data, Role(data.role))
        await self.accounts.send_link(user.id, AccountTokenPurpose.verify_email)
        return user

    async def create_admin(self, data: AdminCreate) -> User:
        """The `create-admin` command: the rules of a registration, with the admin role."""
        return await self._create(data, Role.admin)

    async def _create(self, data: NewAccount, role: Role) -> User:
        email = data.email.lower()
        if await self.users.get_by_email(email) is not None:
            raise Conflict("An account with this email already exists.", "email_taken")
        user = User(
            email=email,
            password_hash=await hash_password_async(data.password, self.settings),
            full_name=data.full_name,
            role=role,
        )
        # The unique constraint still decides a concurrent duplicate (rendered as 409).
        await self.users.add(user)
        profile = await self.users.get_profile(user.id)
        assert profile is not None  # inserted by this transaction
        return profile

    async def login(self, email: str, password: str) -> TokenPair:
        # PostgreSQL text holds no NUL, so such an e-mail names no account (and must not reach the driver).
        user = await self.users.get_by_email(email) if "\x00" not in email else None
        # An unknown e-mail verifies against a dummy hash: the same work, so timing does not tell accounts apart.
        stored = user.password_hash if user is not None else await dummy_hash(self.settings)
        if not await verify_password_async(password, stored, self.settings) or user is None:
            raise Unauthorized("Incorrect email or password.", "invalid_credentials")
        return await self._issue(user.id, user.role, new_token_family())

    async def refresh(self, refresh_token: str, grace_seconds: int = 0) -> TokenPair:
        jti = refresh_token_id(refresh_token)
        consumed = await self.tokens.consume(jti, grace_seconds)
        if consumed is None:
            if await self.tokens.revoke_family_if_used(jti):
                raise RefreshTokenReused("This refresh token was used already: every token of its login is revoked.")
            raise Unauthorized("The refresh token is invalid, expired, or already used.", "invalid_refresh_token")
        user_id, family_id = consumed
        user = await self.users.get(user_id)
        if user is None:  # the token outlived its account
            raise Unauthorized("The refresh token is invalid, expired, or already used.", "invalid_refresh_token")
        return await self._issue(user.id, user.role, family_id)

    async def logout(self, refresh_token: str) -> None:
        await self.tokens.revoke_family(refresh_token_id(refresh_token))

    async def _issue(self, user_id: int, role: str, family_id: str) -> TokenPair:
        refresh = new_refresh_token()
        await self.tokens.issue(refresh_token_id(refresh), user_id, self.settings.refresh_token_ttl_seconds, family_id)
        return TokenPair(
            access_token=create_access_token(user_id, role, self.settings),
            refresh_token=refresh,
            expires_in=self.settings.access_token_ttl_seconds,
        )
