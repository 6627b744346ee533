"""Shift work: check-in and check-out positions, timesheets, disputes."""

from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from app.models import Dispute, Timesheet
from app.models.enums import DisputeKind, DisputeStatus, TimesheetStatus
from app.schemas.common import Id, Input, Output, UserRef


class Position(Input):
    """Where the worker is (the device's location) when checking in or out."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class TimesheetSubmit(Input):
    minutes: int = Field(ge=0, le=960, strict=True, description="Worked minutes, at most the shift's scheduled.")
    note: str | None = Field(None, max_length=2000)


class TimesheetDispute(Input):
    proposed_minutes: int = Field(ge=0, le=960, strict=True, description="What the client would approve.")
    reason: str = Field(min_length=1, max_length=2000)


class TimesheetRead(Output):
    id: int
    shift_id: int
    worker: UserRef
    status: TimesheetStatus
    scheduled_minutes: int
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    recorded_minutes: int | None = Field(description="Whole minutes between check-in and check-out.")
    submitted_at: datetime | None
    claimed_minutes: int | None
    approved_minutes: int | None
    note: str | None
    dispute_id: int | None

    @classmethod
    def of(cls, timesheet: Timesheet, dispute_id: int | None) -> Self:
        return cls.model_validate({**_attributes(timesheet, cls), "dispute_id": dispute_id})


class TimesheetList(Output):
    items: list[TimesheetRead]


class WorkDisputeCreate(Input):
    worker_id: Id
    reason: str = Field(min_length=1, max_length=2000)


class DisputeResolve(Input):
    """A timesheet dispute takes `minutes` (0..the shift's scheduled); a work dispute `worker_amount_minor`
    (0..the worker's share)."""

    minutes: int | None = Field(None, ge=0, le=960, strict=True)
    worker_amount_minor: int | None = Field(None, ge=0, strict=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> "DisputeResolve":
        if (self.minutes is None) == (self.worker_amount_minor is None):
            raise ValueError("give minutes (a timesheet dispute) or worker_amount_minor (a work dispute)")
        return self


class DisputeRead(Output):
    id: int
    kind: DisputeKind
    status: DisputeStatus
    job_id: int
    worker: UserRef
    timesheet_id: int | None
    reason: str
    proposed_minutes: int | None
    resolved_minutes: int | None
    worker_amount_minor: int | None
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, dispute: Dispute) -> Self:
        return cls.model_validate(dispute)


def _attributes(obj: object, schema: type[Output]) -> dict[str, object]:
    return {name: getattr(obj, name) for name in schema.model_fields if name != "dispute_id"}
