"""Escrow: funding, and settling it (payouts, fees, refund) on completion or cancellation. Every movement is
double-entry.

Callers pass jobs the caller owns, already locked (app.loaders.JobForOwner); this module keeps the rules.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from app.db import UnitOfWork
from app.errors import Conflict, Unprocessable
from app.models import Job, Payment
from app.models.enums import AccountKind, EscrowStatus, JobStatus, NotificationKind, PaymentKind, PaymentStatus
from app.repositories.applications import ApplicationRepository
from app.repositories.payments import (
    EXTERNAL_FUNDING,
    PLATFORM_FEES,
    PaymentRepository,
    escrow_account_code,
    user_account_code,
)
from app.schemas.payments import PaymentCreate
from app.security import Principal
from app.services.notifications import notify
from app.settings import Settings

FUNDABLE = {JobStatus.open, JobStatus.in_progress}
JSON = dict[str, Any]


def share_of(job: Job) -> int:
    """What one opening of the job is worth: total_cost_minor // openings."""
    return job.total_cost_minor // job.openings


def after_fee(gross_minor: int, fee_bps: int) -> int:
    """floor(gross * (10000 - fee_bps) / 10000): a payout less the platform fee (integer arithmetic)."""
    return gross_minor * (10_000 - fee_bps) // 10_000


def payout_per_worker(total_minor: int, hired_count: int, fee_bps: int) -> int:
    """A fully hired job's payout per worker: its share (total // hired_count) less the fee."""
    return after_fee(total_minor // hired_count, fee_bps)


class PaymentService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.payments = PaymentRepository(session)
        self.applications = ApplicationRepository(session)
        self.settings = settings
        self.session = session  # for notify(): notifications are written in the event's own transaction

    async def fund(
        self, principal: Principal, job: Job, data: PaymentCreate, key: str, answer: Callable[[Payment], JSON]
    ) -> Payment | JSON:
        """Fund a job's escrow, exactly once per (user, Idempotency-Key).

        Returns the new escrow payment, or, for a repeated key and request, the stored answer of the first
        (`answer` renders a payment as that stored answer, in the same transaction as the payment).
        """
        request_hash = hashlib.sha256(
            json.dumps({"job_id": job.id, "body": data.model_dump(mode="json")}, sort_keys=True).encode()
        ).hexdigest()
        if not await self.payments.claim_key(principal.id, key, request_hash):
            stored = await self.payments.get_key(principal.id, key)
            assert stored is not None  # claimed before, by a committed transaction
            if stored.request_hash != request_hash:
                raise Unprocessable("This Idempotency-Key was used with a different request.", "idempotency_key_reused")
            return stored.response_body

        if job.status not in FUNDABLE:
            raise Conflict(f"A {job.status} job cannot be funded.", "job_not_fundable")
        if job.escrow_status != EscrowStatus.none:
            raise Conflict("This job is funded already.", "job_already_funded")
        if data.amount_minor != job.total_cost_minor:
            raise Unprocessable(f"amount_minor must equal the job's total_cost_minor ({job.total_cost_minor}).")

        escrow = Payment(
            job_id=job.id,
            kind=PaymentKind.escrow,
            status=PaymentStatus.held,
            amount_minor=job.total_cost_minor,
            currency=self.settings.currency,
            payer_id=job.client_id,
        )
        external = await self.payments.ensure_account(EXTERNAL_FUNDING, AccountKind.external)
        held = await self.payments.ensure_account(escrow_account_code(job.id), AccountKind.escrow)
        await self.payments.record(escrow, [(external, -job.total_cost_minor), (held, job.total_cost_minor)])
        job.escrow_status = EscrowStatus.held
        await self.payments.answer_key(principal.id, key, answer(escrow))
        await notify(
            self.session,
            NotificationKind.job_funded,
            await self.applications.list_hired_worker_ids(job.id),
            actor=principal.id,
            title=f"{job.title} is funded: its pay is held in escrow",
            link=f"/jobs/{job.id}",
            data={"job_id": job.id},
        )
        return escrow

    async def settle(self, job: Job, gross: dict[int, int]) -> None:
        """Empty the job's escrow: pay each worker their gross amount less the platform fee, the fees to the
        platform, and refund the rest to the client. Every movement is a balanced posting; the escrow ends at 0.

        `gross` maps worker ids to what their work earned (completion) or what a late cancellation owes them;
        an empty map refunds everything.
        """
        escrow = await self.payments.get_escrow(job.id)
        assert escrow is not None
        paid = sum(gross.values())
        assert all(amount >= 0 for amount in gross.values()) and paid <= escrow.amount_minor
        held = await self.payments.ensure_account(escrow_account_code(job.id), AccountKind.escrow)
        fees = 0
        # Lock the workers' accounts in one global order (by id): concurrent settlements sharing workers can't deadlock.
        for worker_id in sorted(gross):
            payout = after_fee(gross[worker_id], self.settings.platform_fee_bps)
            fees += gross[worker_id] - payout
            if payout:
                account = await self.payments.ensure_account(user_account_code(worker_id), AccountKind.user, worker_id)
                await self._move(escrow, PaymentKind.payout, payout, [(held, -payout), (account, payout)], worker_id)
        if fees:
            platform = await self.payments.ensure_account(PLATFORM_FEES, AccountKind.platform)
            await self._move(escrow, PaymentKind.fee, fees, [(held, -fees), (platform, fees)], None)
        if refund := escrow.amount_minor - paid:
            external = await self.payments.ensure_account(EXTERNAL_FUNDING, AccountKind.external)
            await self._move(escrow, PaymentKind.refund, refund, [(held, -refund), (external, refund)], job.client_id)
        status = PaymentStatus.released if paid else PaymentStatus.refunded
        await self.payments.set_status(escrow, status)
        job.escrow_status = EscrowStatus.released if paid else EscrowStatus.refunded
        for worker_id in sorted(gross):
            payout = after_fee(gross[worker_id], self.settings.platform_fee_bps)
            if payout:
                await notify(
                    self.session,
                    NotificationKind.payout_received,
                    [worker_id],
                    actor=job.client_id,
                    title=f"You were paid {payout / 100:.2f} {escrow.currency} for {job.title}",
                    link="/payments",
                    data={"job_id": job.id, "amount_minor": payout, "currency": escrow.currency},
                )

    async def _move(
        self, escrow: Payment, kind: PaymentKind, amount: int, legs: list[tuple[int, int]], payee_id: int | None
    ) -> None:
        """A payment out of the escrow: payouts and fees are paid by the client, a refund is paid to them."""
        refund = kind == PaymentKind.refund
        await self.payments.record(
            Payment(
                job_id=escrow.job_id,
                kind=kind,
                status=PaymentStatus.completed,
                amount_minor=amount,
                currency=escrow.currency,
                payer_id=None if refund else escrow.payer_id,
                payee_id=payee_id,
            ),
            legs,
        )
