"""E-mail delivery tasks: at least once, retried with backoff, each e-mail with a stable Message-ID.

Deferred in the transaction of what they report (app/services/notifications.py, app/services/accounts.py),
so a rolled-back event sends nothing and a committed one is never lost (the job row is the outbox). A task
reloads the recipient when it runs, and sends nothing for an account gone or a link spent or expired.
"""

from datetime import UTC, datetime

from procrastinate import JobContext, RetryStrategy

from app import mail
from app.models.enums import AccountTokenPurpose
from app.repositories.account_tokens import AccountTokenRepository
from app.repositories.users import UserRepository
from app.security import account_token
from app.tasks.core import queue, worker_state

# Waits 2, 4, 8, ... 512 s between attempts (about 17 minutes in all), then the job stays `failed`.
RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)

PREFERENCES_FOOTER = "You can choose which e-mails you get in your notification settings."


@queue.task(name="emails.notification", pass_context=True, retry=RETRY)
async def send_notification_email(
    context: JobContext, user_id: int, title: str, body: str, link: str, key: str
) -> None:
    """A notification to its recipient; `key` (one per notification and recipient) is its Message-ID."""
    state = worker_state(context)
    async with state.sessionmaker() as session:
        user = await UserRepository(session).get(user_id)
    if user is None:
        return
    message = mail.compose(
        state.settings,
        key=key,
        to_name=user.full_name,
        to_address=user.email,
        subject=title,
        paragraphs=[title, *([body] if body else [])],
        action="Open it in Marketplace",
        path=link,
        footer=PREFERENCES_FOOTER,
    )
    await mail.deliver(state.settings, message, key)


LINKS = {
    AccountTokenPurpose.password_reset: (
        "Reset your Marketplace password",
        [
            "Someone (hopefully you) asked to reset the password of your account.",
            "The link works once, for 30 minutes. If you did not ask, ignore this e-mail: nothing changes.",
        ],
        "Choose a new password",
        "/reset-password",
    ),
    AccountTokenPurpose.verify_email: (
        "Confirm your e-mail address",
        ["Welcome to Marketplace! Please confirm that this address is yours."],
        "Confirm my address",
        "/verify-email",
    ),
}


@queue.task(name="emails.account_link", pass_context=True, retry=RETRY)
async def send_account_email(context: JobContext, token_id: int) -> None:
    """A single-use account link; the token is rebuilt from the row (the queue never holds it)."""
    state = worker_state(context)
    async with state.sessionmaker() as session:
        token = await AccountTokenRepository(session).get_with_user(token_id)
    if token is None or token.used_at is not None or token.expires_at <= datetime.now(UTC):
        return
    subject, paragraphs, action, page = LINKS[AccountTokenPurpose(token.purpose)]
    key = f"account-link.{token.id}.{token.salt[:8]}"
    message = mail.compose(
        state.settings,
        key=key,
        to_name=token.user.full_name,
        to_address=token.user.email,
        subject=subject,
        paragraphs=paragraphs,
        action=action,
        # In the fragment: the browser never sends it to a server, so no access log records it.
        path=f"{page}#token={account_token(token.salt, state.settings)}",
    )
    await mail.deliver(state.settings, message, key)
