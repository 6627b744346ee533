import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, Strict, model_validator

from app.models.enums import EscrowStatus, JobStatus, PayType
from app.models.job import Job
from app.models.user import rating_average
from app.schemas.common import (
    AwareDatetime,
    CatalogItem,
    Hours,
    Input,
    Location,
    LocationRead,
    MinorAmount,
    Output,
    Slug,
    UserRef,
    WholeNumber,
)

Openings = Annotated[int, Field(ge=1, le=50), WholeNumber, Strict()]
MIN_SHIFT, MAX_SHIFT = timedelta(minutes=30), timedelta(hours=16)


class ShiftCreate(Input):
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _length(self) -> "ShiftCreate":
        if not MIN_SHIFT <= self.ends_at - self.starts_at <= MAX_SHIFT:
            raise ValueError("a shift lasts from 30 minutes to 16 hours")
        return self


def _schedule(shifts: list[ShiftCreate]) -> list[ShiftCreate]:
    """Shifts start in the future, in order, without overlapping."""
    if shifts and shifts[0].starts_at <= datetime.now(UTC):
        raise ValueError("shifts must start in the future")
    for before, after in itertools.pairwise(shifts):
        if after.starts_at < before.ends_at:
            raise ValueError("shifts must be in order and must not overlap")
    return shifts


Schedule = Annotated[list[ShiftCreate], Field(min_length=1, max_length=60), AfterValidator(_schedule)]


def _utc(value: datetime) -> datetime:
    """Shift times come from the job row's JSON, in UTC without an offset."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class ShiftRead(Output):
    id: int
    starts_at: Annotated[datetime, AfterValidator(_utc)]
    ends_at: Annotated[datetime, AfterValidator(_utc)]


class _JobFields(Input):
    @model_validator(mode="after")
    def _check_period(self) -> "_JobFields":
        starts, ends = getattr(self, "starts_at", None), getattr(self, "ends_at", None)
        if starts and ends and ends <= starts:
            raise ValueError("ends_at must be after starts_at")
        return self


class JobCreate(_JobFields):
    title: str = Field(min_length=3, max_length=120)
    description: str = Field("", max_length=5000)
    category: Slug
    skills: list[Slug] = Field(default_factory=list, max_length=20)
    pay_type: PayType
    pay_rate_minor: MinorAmount
    hours: Hours | None = Field(None, description="Whole hours; hourly jobs only (with shifts: their sum).")
    openings: Openings = 1
    location: Location | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    shifts: Schedule | None = Field(
        None, description="1 to 60 shifts: the job's schedule; starts_at/ends_at are then its first start and last end."
    )

    @model_validator(mode="after")
    def _hours_iff_hourly(self) -> "JobCreate":
        if self.pay_type == PayType.hourly and self.hours is None and not self.shifts:
            raise ValueError("hours is required for an hourly job")
        if self.pay_type == PayType.fixed and self.hours is not None:
            raise ValueError("hours is only for hourly jobs")
        return self


class JobUpdate(_JobFields):
    """Partial update while the job is open and nobody is hired; the total cost is recomputed."""

    title: str | None = Field(None, min_length=3, max_length=120)
    description: str | None = Field(None, max_length=5000)
    category: Slug | None = None
    skills: list[Slug] | None = Field(None, max_length=20)
    pay_type: PayType | None = None
    pay_rate_minor: MinorAmount | None = None
    hours: Hours | None = None
    openings: Openings | None = None
    location: Location | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    shifts: Schedule | None = Field(None, description="Replaces the schedule; null removes it.")

    @model_validator(mode="after")
    def _required_stay_set(self) -> "JobUpdate":
        for name in ("title", "description", "category", "skills", "pay_type", "pay_rate_minor", "openings"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ClientSummary(Output):
    id: int
    full_name: str
    rating_avg: float | None


class _JobView(Output):
    """What every view of a job shows."""

    id: int
    title: str
    description: str
    status: JobStatus
    category: CatalogItem
    skills: list[CatalogItem]
    pay_type: PayType
    pay_rate_minor: int
    hours: int | None
    openings: int
    total_cost_minor: int
    currency: str
    location: LocationRead | None
    starts_at: datetime | None
    ends_at: datetime | None
    shifts: list[ShiftRead] = Field(description="The schedule (empty for a job without shifts), in order.")
    created_at: datetime

    @classmethod
    def of(cls, job: Job, currency: str, **extra: Any) -> Self:
        location = LocationRead(city=job.city, lat=job.lat, lng=job.lng) if job.lat is not None else None
        computed = {"currency": currency, "location": location, "shifts": job.schedule, **extra}
        data = {name: getattr(job, name) for name in cls.model_fields if name not in computed}
        return cls.model_validate({**data, **computed})


class JobCard(_JobView):
    """A job in search results: what a listing shows. Counters, escrow and ratings are on the detail
    (GET /jobs/{id}), so search pages stay cached while people apply and review."""

    client: UserRef
    distance_km: float | None = Field(None, description="Only in searches with `near`.")


class JobRead(_JobView):
    """A job in full: GET /jobs/{id}, a client's jobs, and the answer to every job write."""

    hired_count: int
    applications_count: int
    funded: bool = Field(description="True while the job's escrow holds its total cost.")
    escrow_status: EscrowStatus
    client: ClientSummary
    updated_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of_row(cls, row: Mapping[str, Any], currency: str) -> Self:
        """From `JobRepository.get_detail_row`'s plain row: what `of` shows of the loaded job, field by field."""
        return cls.model_validate(
            {
                **row,
                "currency": currency,
                "category": {"id": row["category_id"], "slug": row["category_slug"], "name": row["category_name"]},
                "location": {"city": row["city"], "lat": row["lat"], "lng": row["lng"]}
                if row["lat"] is not None
                else None,
                "funded": row["escrow_status"] == EscrowStatus.held,
                "client": {
                    "id": row["client_id"],
                    "full_name": row["client_full_name"],
                    "rating_avg": rating_average(row["client_rating_sum"], row["client_rating_count"]),
                },
            }
        )


class JobSummary(Output):
    id: int
    title: str
    status: JobStatus
    pay_type: PayType
    pay_rate_minor: int
    client_id: int
