from typing import Annotated

from fastapi import APIRouter, Header

from app.cache import invalidates
from app.deps import ClientPrincipal, SessionDep, SettingsDep
from app.errors import problem_responses
from app.loaders import JobForOwner, PaymentForParty
from app.models import Payment
from app.routers import API_PREFIX
from app.routers.invalidation import funding_write
from app.schemas.payments import PaymentCreate, PaymentRead
from app.services.payments import PaymentService

router = APIRouter(prefix=API_PREFIX, tags=["payments"])

# Required: a request without it is a 400 `header_missing` (app/errors.py).
IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=255, description="Repeat it to retry safely.")
]


def _answer(payment: Payment) -> dict[str, object]:
    return PaymentRead.model_validate(payment).model_dump(mode="json")


@router.post(
    "/jobs/{job_id}/payments",
    status_code=201,
    response_model=PaymentRead,
    operation_id="fund_job",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
@invalidates(funding_write)
async def fund_job(
    job: JobForOwner,
    data: PaymentCreate,
    principal: ClientPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
) -> PaymentRead:
    """Fund the job's escrow with exactly its total_cost_minor. The same key and request replay the answer."""
    funded = await PaymentService(session, settings).fund(principal, job, data, idempotency_key, _answer)
    return PaymentRead.model_validate(funded)


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentRead,
    operation_id="get_payment",
    responses=problem_responses(401, 404),
)
async def get_payment(payment: PaymentForParty) -> PaymentRead:
    return PaymentRead.model_validate(payment)
