from datetime import datetime

from pydantic import Field, model_validator

from app.models.enums import PayoutMethod, Role
from app.models.user import User
from app.schemas.common import CatalogItem, Input, Location, LocationRead, MinorAmount, Output, Slug


class PayoutDetails(Input):
    method: PayoutMethod
    account: str = Field(min_length=4, max_length=64)


class PayoutDetailsRead(Output):
    method: PayoutMethod
    account: str


def _location(user: User) -> LocationRead | None:
    if user.lat is None or user.lng is None:
        return None
    return LocationRead(city=user.city, lat=user.lat, lng=user.lng)


class Reliability(Output):
    attended: int = Field(description="Shifts the worker checked in to.")
    no_shows: int
    late_cancellations: int
    score: float = Field(description="(attended + 4) / (attended + no_shows + late_cancellations + 4)")

    @classmethod
    def of(cls, user: User) -> "Reliability":
        return cls(
            attended=user.attended_shifts,
            no_shows=user.no_shows,
            late_cancellations=user.late_cancellations,
            score=round(user.reliability_score, 4),
        )


class PublicProfile(Output):
    id: int
    full_name: str
    role: Role
    headline: str | None
    bio: str | None
    skills: list[CatalogItem]
    city: str | None
    hourly_rate_minor: int | None
    rating_avg: float | None
    rating_count: int
    completed_jobs: int
    created_at: datetime
    email: str | None = Field(None, description="Only for the user themself or an admin.")
    phone: str | None = Field(None, description="Only for the user themself or an admin.")
    reliability: Reliability | None = Field(None, description="Workers only.")

    @classmethod
    def of(cls, user: User, *, private: bool) -> "PublicProfile":
        profile = cls.model_validate(user)
        profile.reliability = Reliability.of(user) if user.role == Role.worker else None
        if not private:
            profile.email = profile.phone = None
        return profile


class Me(Output):
    """The caller's own account (GET /users/me)."""

    id: int
    email: str
    email_verified: bool = Field(description="The address was confirmed through its verification link.")
    full_name: str
    role: Role
    phone: str | None
    balance_minor: int
    currency: str
    payout_details: PayoutDetailsRead | None
    headline: str | None
    bio: str | None
    skills: list[CatalogItem]
    hourly_rate_minor: int | None
    location: LocationRead | None
    rating_avg: float | None
    rating_count: int
    completed_jobs: int
    created_at: datetime

    @classmethod
    def of(cls, user: User, currency: str) -> "Me":
        payout = (
            PayoutDetailsRead(method=PayoutMethod(user.payout_method), account=user.payout_account)
            if user.payout_method and user.payout_account
            else None
        )
        return cls.model_validate(
            {
                **{
                    name: getattr(user, name)
                    for name in cls.model_fields
                    if name not in {"currency", "payout_details", "location", "skills"}
                },
                "skills": user.skills,
                "currency": currency,
                "payout_details": payout,
                "location": _location(user),
            }
        )


class MeUpdate(Input):
    """Fields a user may change on their own account; anything else (role, balance, rating, ids) is a 422."""

    full_name: str | None = Field(None, min_length=1, max_length=120)
    headline: str | None = Field(None, max_length=160)
    bio: str | None = Field(None, max_length=5000)
    phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{5,32}$")
    skills: list[Slug] | None = Field(None, max_length=30)
    hourly_rate_minor: MinorAmount | None = None
    location: Location | None = None
    payout_details: PayoutDetails | None = None

    @model_validator(mode="after")
    def _full_name_not_null(self) -> "MeUpdate":
        if "full_name" in self.model_fields_set and self.full_name is None:
            raise ValueError("full_name cannot be null")
        return self


class WorkerSummary(Output):
    id: int
    full_name: str
    headline: str | None
    city: str | None
    rating_avg: float | None
    rating_count: int
    completed_jobs: int
