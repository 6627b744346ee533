from datetime import datetime
from typing import Literal

from app.schemas.common import Input, MinorAmount, Output


class PaymentCreate(Input):
    amount_minor: MinorAmount


class PaymentRead(Output):
    id: int
    job_id: int
    kind: Literal["escrow", "payout", "refund", "fee"]
    status: Literal["held", "released", "refunded", "completed"]
    amount_minor: int
    currency: str
    payer_id: int | None
    payee_id: int | None
    created_at: datetime
