from datetime import datetime

from app.models.enums import PaymentKind, PaymentStatus
from app.schemas.common import Input, MinorAmount, Output


class PaymentCreate(Input):
    amount_minor: MinorAmount


class PaymentRead(Output):
    id: int
    job_id: int
    kind: PaymentKind
    status: PaymentStatus
    amount_minor: int
    currency: str
    payer_id: int | None
    payee_id: int | None
    created_at: datetime
