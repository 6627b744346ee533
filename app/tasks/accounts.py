"""Account tasks: the worker's side of a password reset request (app/services/accounts.py)."""

from procrastinate import JobContext

from app.services.accounts import PASSWORD_RESET_REQUESTED, AccountService
from app.tasks.core import queue, worker_state
from app.tasks.emails import RETRY


@queue.task(name=PASSWORD_RESET_REQUESTED, pass_context=True, retry=RETRY)
async def send_password_reset(context: JobContext, email: str) -> None:
    state = worker_state(context)
    async with state.unit_of_work() as session:
        await AccountService(session, state.settings).send_password_reset(email)
