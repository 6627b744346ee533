"""Every string enum of the API, in one place: models store them as text with CHECK constraints, schemas,
query parameters and repositories use the same classes, so OpenAPI shows one named schema for each."""

from enum import StrEnum


class Role(StrEnum):
    client = "client"
    worker = "worker"
    admin = "admin"


class SignupRole(StrEnum):
    """The roles one may choose at registration; admins are made only by `marketplace create-admin`."""

    client = Role.client.value
    worker = Role.worker.value


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
    cancelled = "cancelled"  # a hired worker backed out (POST /applications/{id}/cancel)


class TimesheetStatus(StrEnum):
    """scheduled -> checked_in -> checked_out -> submitted -> approved | disputed -> resolved; or -> no_show."""

    scheduled = "scheduled"
    checked_in = "checked_in"
    checked_out = "checked_out"
    submitted = "submitted"
    approved = "approved"
    disputed = "disputed"
    resolved = "resolved"
    no_show = "no_show"


class DisputeKind(StrEnum):
    timesheet = "timesheet"  # the client contests a submitted timesheet's minutes
    work = "work"  # the client contests a hired worker's pay for the job


class DisputeStatus(StrEnum):
    open = "open"
    resolved = "resolved"


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


class PayoutMethod(StrEnum):
    bank_transfer = "bank_transfer"
    paypal = "paypal"


class AccountKind(StrEnum):
    external = "external"
    user = "user"
    escrow = "escrow"
    platform = "platform"


class JobSort(StrEnum):
    """Orders of a job search."""

    newest = "newest"
    pay = "pay"
    distance = "distance"


class ReviewFilter(StrEnum):
    """Which received reviews to list; `recent` is the last 7 days, `unread` is for the reviewee only."""

    all = "all"
    recent = "recent"
    unread = "unread"


class NotificationKind(StrEnum):
    """What a notification reports. A new kind is a member here (the column has no CHECK, so no migration)
    and one `notify(...)` call where the event happens (app/services/notifications.py)."""

    application_received = "application_received"
    application_accepted = "application_accepted"
    application_rejected = "application_rejected"
    job_funded = "job_funded"
    job_cancelled = "job_cancelled"
    job_completed = "job_completed"
    payout_received = "payout_received"
    review_received = "review_received"
    message_received = "message_received"
    # shift work (issue #10)
    shift_starting = "shift_starting"
    checked_in = "checked_in"
    checked_out = "checked_out"
    timesheet_submitted = "timesheet_submitted"
    timesheet_approved = "timesheet_approved"
    timesheet_disputed = "timesheet_disputed"
    work_disputed = "work_disputed"
    no_show = "no_show"
    dispute_resolved = "dispute_resolved"


class AccountTokenPurpose(StrEnum):
    """What a single-use account link is for (e-mailed: a password reset, an address verification)."""

    password_reset = "password_reset"
    verify_email = "verify_email"


def check_in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in enum)})"
