"""String enums shared by models, schemas and services (stored as text with CHECK constraints)."""

from enum import StrEnum


class Role(StrEnum):
    client = "client"
    worker = "worker"
    admin = "admin"


class JobStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class PayType(StrEnum):
    fixed = "fixed"
    hourly = "hourly"


class ApplicationStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"


class EscrowStatus(StrEnum):
    none = "none"
    held = "held"
    released = "released"
    refunded = "refunded"


class PaymentKind(StrEnum):
    escrow = "escrow"
    payout = "payout"
    refund = "refund"
    fee = "fee"


class PaymentStatus(StrEnum):
    held = "held"
    released = "released"
    refunded = "refunded"
    completed = "completed"


class AccountKind(StrEnum):
    external = "external"
    user = "user"
    escrow = "escrow"
    platform = "platform"


def check_in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in enum)})"
