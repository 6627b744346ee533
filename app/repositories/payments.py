from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.models import Account, IdempotencyKey, LedgerEntry, Payment
from app.models.enums import AccountKind, PaymentKind
from app.repositories.base import Repository, SortKey

EXTERNAL_FUNDING = "external:funding"
PLATFORM_FEES = "platform:fees"


def escrow_account_code(job_id: int) -> str:
    return f"escrow:job:{job_id}"


def user_account_code(user_id: int) -> str:
    return f"user:{user_id}"


class PaymentRepository(Repository[Payment]):
    model = Payment

    async def ensure_account(self, code: str, kind: AccountKind, user_id: int | None = None) -> int:
        """The account's id, creating it on first use (one statement, safe under concurrency)."""
        stmt = (
            insert(Account)
            .values(code=code, kind=kind, user_id=user_id)
            .on_conflict_do_update(index_elements=[Account.code], set_={"code": code})
            .returning(Account.id)
        )
        account_id: int = (await self.session.execute(stmt)).scalar_one()
        return account_id

    async def record(self, payment: Payment, legs: list[tuple[int, int]]) -> Payment:
        """Insert a payment and its ledger legs, and move the balances; the legs must sum to zero.

        A leg that would take a non-external account below zero violates a CHECK constraint: the whole
        transaction fails (rendered as a 409) and nothing moves.
        """
        if sum(amount for _, amount in legs) != 0:
            raise ValueError(f"unbalanced ledger legs: {legs}")
        await self.add(payment)
        self.session.add_all(
            LedgerEntry(payment_id=payment.id, account_id=account, amount_minor=amount)
            for account, amount in legs
            if amount
        )
        for account, amount in legs:
            if amount:
                await self.session.execute(
                    update(Account).where(Account.id == account).values(balance_minor=Account.balance_minor + amount)
                )
        await self.session.flush()
        return payment

    async def get_escrow(self, job_id: int) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.job_id == job_id, Payment.kind == PaymentKind.escrow)
        )

    async def set_status(self, payment: Payment, status: str) -> None:
        payment.status = status
        await self.session.flush()

    async def list_by_user(self, user_id: int, cursor: str | None, limit: int) -> tuple[list[Payment], str | None]:
        stmt = select(Payment).where(or_(Payment.payer_id == user_id, Payment.payee_id == user_id))
        rows, next_cursor = await self.paginate(
            stmt, [SortKey(Payment.created_at, datetime), SortKey(Payment.id, int)], cursor, limit
        )
        return [r[0] for r in rows], next_cursor

    # Idempotency keys live here: they are written in the same transaction as the payment they answer for.

    async def claim_key(self, user_id: int, key: str, request_hash: str) -> bool:
        """Claim (user, key) for this request; False if it was claimed before (a concurrent claim waits)."""
        stmt = (
            insert(IdempotencyKey)
            .values(user_id=user_id, key=key, request_hash=request_hash, response_body={})
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def get_key(self, user_id: int, key: str) -> IdempotencyKey | None:
        return await self.session.get(IdempotencyKey, (user_id, key))

    async def answer_key(self, user_id: int, key: str, body: dict[str, Any]) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .values(response_body=body)
        )
