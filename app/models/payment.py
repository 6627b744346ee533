from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin, TimestampMixin
from app.models.enums import AccountKind, PaymentKind, PaymentStatus, check_in
from app.models.job import Job


class Account(IdMixin, TimestampMixin, Base):
    """A ledger account. Only the external-funding account may go negative."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(check_in("kind", AccountKind), name="kind"),
        CheckConstraint("kind = 'external' OR balance_minor >= 0", name="balance_non_negative"),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    balance_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(check_in("kind", PaymentKind), name="kind"),
        CheckConstraint(check_in("status", PaymentStatus), name="status"),
        CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        # one escrow per job (a second funding attempt is a conflict)
        Index("uq_payments_escrow_job", "job_id", unique=True, postgresql_where=text("kind = 'escrow'")),
        # GET /users/{id}/payments: payments the user made, newest first
        Index("ix_payments_payer_newest", "payer_id", text("created_at DESC"), text("id DESC")),
        # GET /users/{id}/payments: payments the user received, newest first
        Index("ix_payments_payee_newest", "payee_id", text("created_at DESC"), text("id DESC")),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    job: Mapped[Job] = relationship(lazy="raise")


class LedgerEntry(IdMixin, CreatedMixin, Base):
    """One leg of a double-entry movement: the legs of a payment sum to zero."""

    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_minor <> 0", name="amount_non_zero"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKey(CreatedMixin, Base):
    """A stored answer to a keyed request, per user, written in the request's own transaction."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_body: Mapped[dict[str, object]] = mapped_column(JSONB)
