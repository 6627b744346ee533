from typing import Annotated

from fastapi import APIRouter, Header

from app.cache import invalidates
from app.deps import ClientPrincipal, CurrentPrincipal, SessionDep, SettingsDep
from app.errors import NotFound, problem_responses
from app.repositories.payments import PaymentRepository
from app.routers import API_PREFIX
from app.schemas.payments import PaymentCreate, PaymentRead
from app.services.payments import PaymentService

router = APIRouter(prefix=API_PREFIX, tags=["payments"])

# Required: a request without it is a 400 `header_missing` (app/errors.py).
IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=255, description="Repeat it to retry safely.")
]


@router.post(
    "/jobs/{job_id}/payments",
    status_code=201,
    response_model=PaymentRead,
    operation_id="fund_job",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
@invalidates
async def fund_job(
    job_id: int,
    data: PaymentCreate,
    principal: ClientPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
) -> PaymentRead:
    """Fund the job's escrow with exactly its total_cost_minor. The same key and request replay the answer."""
    return await PaymentService(session, settings).fund(principal, job_id, data, idempotency_key)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentRead,
    operation_id="get_payment",
    responses=problem_responses(401, 404),
)
async def get_payment(payment_id: int, principal: CurrentPrincipal, session: SessionDep) -> PaymentRead:
    payment = await PaymentRepository(session).get(payment_id)
    if payment is None or not (principal.is_admin or principal.id in (payment.payer_id, payment.payee_id)):
        raise NotFound(f"Payment {payment_id} not found.")
    return PaymentRead.model_validate(payment)
