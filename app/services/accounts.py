"""Account e-mails: single-use links to reset a password or verify an address (docs/notifications.md).

- A reset request always does the same work, whatever the address: it defers one job. The worker looks the
  address up and, for an account, issues a link valid 30 minutes. So the answer (202) and its timing say
  nothing about which addresses have accounts.
- A link's token is stored only as its hash; using it spends it (atomically: a second use is refused).
- A new password follows the registration's rules and revokes every refresh token of the account.
"""

from datetime import timedelta

from app.db import UnitOfWork
from app.errors import BadRequest
from app.models.enums import AccountTokenPurpose
from app.repositories.account_tokens import AccountTokenRepository
from app.repositories.users import RefreshTokenRepository, UserRepository
from app.security import account_token, account_token_hash, hash_password_async, new_account_token_salt
from app.settings import Settings
from app.tasks import defer, queue
from app.tasks.emails import send_account_email

LINK_TTL = {
    AccountTokenPurpose.password_reset: timedelta(minutes=30),
    AccountTokenPurpose.verify_email: timedelta(days=7),
}
# The task runs app/tasks/accounts.py's code, which imports this module: it is deferred by name.
PASSWORD_RESET_REQUESTED = "accounts.password_reset_requested"


class InvalidLink(BadRequest):
    def __init__(self) -> None:
        super().__init__("This link is invalid, expired, or used already.")


class AccountService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.tokens = AccountTokenRepository(session)
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)

    async def send_link(self, user_id: int, purpose: AccountTokenPurpose) -> None:
        """Issue a link and defer its e-mail, both in this transaction."""
        salt = new_account_token_salt()
        token_hash = account_token_hash(account_token(salt, self.settings))
        token = await self.tokens.issue(user_id, purpose, token_hash, salt, LINK_TTL[purpose])
        await defer(self.session, send_account_email, token_id=token.id)

    async def request_password_reset(self, email: str) -> None:
        """The request's part: the same single job for any address."""
        await queue.configure_task(PASSWORD_RESET_REQUESTED, connection=self.session).defer_async(email=email.lower())

    async def send_password_reset(self, email: str) -> None:
        """The worker's part: a link for an account with this address; nothing otherwise."""
        user = await self.users.get_by_email(email)
        if user is not None:
            await self.send_link(user.id, AccountTokenPurpose.password_reset)

    async def reset_password(self, token: str, password: str) -> None:
        user_id = await self.tokens.consume(account_token_hash(token), AccountTokenPurpose.password_reset)
        if user_id is None:
            raise InvalidLink
        await self.users.set_password_hash(user_id, await hash_password_async(password, self.settings))
        await self.tokens.spend_all(user_id, AccountTokenPurpose.password_reset)
        await self.refresh_tokens.revoke_user(user_id)  # whoever knew the old password is logged out

    async def verify_email(self, token: str) -> None:
        user_id = await self.tokens.consume(account_token_hash(token), AccountTokenPurpose.verify_email)
        if user_id is None:
            raise InvalidLink
        await self.users.mark_email_verified(user_id)
