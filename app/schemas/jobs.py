from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import Field, Strict, model_validator

from app.models.enums import EscrowStatus, JobStatus, PayType
from app.models.job import Job
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
    hours: Hours | None = Field(None, description="Whole hours; hourly jobs only.")
    openings: Openings = 1
    location: Location | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _hours_iff_hourly(self) -> "JobCreate":
        if self.pay_type == PayType.hourly and self.hours is None:
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
    created_at: datetime

    @classmethod
    def of(cls, job: Job, currency: str, **extra: Any) -> Self:
        location = LocationRead(city=job.city, lat=job.lat, lng=job.lng) if job.lat is not None else None
        data = {name: getattr(job, name) for name in cls.model_fields if name not in {"currency", "location", *extra}}
        return cls.model_validate({**data, "currency": currency, "location": location, **extra})


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


class JobSummary(Output):
    id: int
    title: str
    status: JobStatus
    pay_type: PayType
    pay_rate_minor: int
    client_id: int
