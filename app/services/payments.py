"""Escrow: funding, release on completion, refund on cancellation. Every movement is double-entry.

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


def payout_per_worker(total_minor: int, hired_count: int, fee_bps: int) -> int:
    """floor(share * (10000 - fee_bps) / 10000) with share = total // hired_count (integer arithmetic)."""
    share = total_minor // hired_count
    return share * (10_000 - fee_bps) // 10_000


class PaymentService:
    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        self.payments = PaymentRepository(session)
        self.applications = ApplicationRepository(session)
        self.settings = settings
        self.session = session

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
                raise Unprocessable("This Idempotency-Key was used with a different request.")
            return stored.response_body

        if job.status not in FUNDABLE:
            raise Conflict(f"A {job.status} job cannot be funded.")
        if job.escrow_status != EscrowStatus.none:
            raise Conflict("This job is funded already.")
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

    async def release(self, job: Job, worker_ids: list[int]) -> None:
        """Pay each hired worker their share less the platform fee; the rest goes to the platform."""
        escrow = await self.payments.get_escrow(job.id)
        assert escrow is not None and worker_ids
        held = await self.payments.ensure_account(escrow_account_code(job.id), AccountKind.escrow)
        payout = payout_per_worker(job.total_cost_minor, len(worker_ids), self.settings.platform_fee_bps)
        # Lock the workers' accounts in one global order (by id): concurrent releases sharing workers can't deadlock.
        for worker_id in sorted(worker_ids):
            account = await self.payments.ensure_account(user_account_code(worker_id), AccountKind.user, worker_id)
            await self.payments.record(
                Payment(
                    job_id=job.id,
                    kind=PaymentKind.payout,
                    status=PaymentStatus.completed,
                    amount_minor=payout,
                    currency=escrow.currency,
                    payer_id=job.client_id,
                    payee_id=worker_id,
                ),
                [(held, -payout), (account, payout)],
            )
        fee = job.total_cost_minor - payout * len(worker_ids)
        if fee:
            platform = await self.payments.ensure_account(PLATFORM_FEES, AccountKind.platform)
            await self.payments.record(
                Payment(
                    job_id=job.id,
                    kind=PaymentKind.fee,
                    status=PaymentStatus.completed,
                    amount_minor=fee,
                    currency=escrow.currency,
                    payer_id=job.client_id,
                ),
                [(held, -fee), (platform, fee)],
            )
        await self.payments.set_status(escrow, PaymentStatus.released)
        job.escrow_status = EscrowStatus.released
        amount = f"{payout / 100:.2f} {escrow.currency}"
        await notify(
            self.session,
            NotificationKind.payout_received,
            worker_ids,
            actor=job.client_id,
            title=f"You were paid {amount} for {job.title}",
            link="/payments",
            data={"job_id": job.id, "amount_minor": payout, "currency": escrow.currency},
        )

    async def refund(self, job: Job) -> None:
        """Return a held escrow to the client (back to where the money came from)."""
        escrow = await self.payments.get_escrow(job.id)
        assert escrow is not None
        held = await self.payments.ensure_account(escrow_account_code(job.id), AccountKind.escrow)
        external = await self.payments.ensure_account(EXTERNAL_FUNDING, AccountKind.external)
        await self.payments.record(
            Payment(
                job_id=job.id,
                kind=PaymentKind.refund,
                status=PaymentStatus.completed,
                amount_minor=escrow.amount_minor,
                currency=escrow.currency,
                payee_id=job.client_id,
            ),
            [(held, -escrow.amount_minor), (external, escrow.amount_minor)],
        )
        await self.payments.set_status(escrow, PaymentStatus.refunded)
        job.escrow_status = EscrowStatus.refunded
