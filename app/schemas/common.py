"""Schema building blocks shared by every resource."""

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
)

T = TypeVar("T")


def _whole_number(value: Any) -> Any:
    # JSON Schema's `integer` includes 2.0; true, "2" and 2.5 stay errors (Strict).
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A JSON integer in a request body, after its bounds (so they stay in the JSON schema): no lax coercion of
# booleans or strings: `Annotated[int, Field(<bounds>), WholeNumber, Strict()]`.
WholeNumber = BeforeValidator(_whole_number)
# A coordinate: a JSON number, never a boolean (lax floats take `false` as 0).
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True)]

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
MAX_MINOR = 10**12
MinorAmount = Annotated[int, Field(gt=0, le=MAX_MINOR), WholeNumber, Strict()]
# A row id (BIGINT): a larger number names no row and would overflow the driver (a 500).
MAX_ID = 2**63 - 1
# The bound is exclusive: OpenAPI's numbers are floats, and 2**63 is one exactly (2**63 - 1 is not).
# In a path or query (text, parsed as a number):
Id = Annotated[int, Field(ge=1, lt=MAX_ID + 1)]
# In a request body (a JSON integer):
RefId = Annotated[int, Field(ge=1, lt=MAX_ID + 1), WholeNumber, Strict()]
Hours = Annotated[int, Field(gt=0, le=10_000), WholeNumber, Strict()]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (ISO 8601, e.g. 2026-01-31T09:00:00Z)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


NO_NUL = r"^[^\x00]*$"


def _state_no_nul(schema: dict[str, Any]) -> None:
    """The JSON schema says what `_no_nul` enforces: strings without a pattern of their own get NO_NUL."""
    for prop in schema.get("properties", {}).values():
        for branch in [prop, *prop.get("anyOf", [])]:
            if branch.get("type") == "string" and "pattern" not in branch and "format" not in branch:
                branch["pattern"] = NO_NUL


class Input(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed and hold no NUL."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_state_no_nul)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here as a 422 instead of failing in the database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class Location(Input):
    city: str = Field(min_length=1, max_length=120)
    lat: Latitude
    lng: Longitude


class LocationRead(Output):
    city: str | None
    lat: float
    lng: float


class CatalogItem(Output):
    id: int
    slug: str
    name: str


class UserRef(Output):
    id: int
    full_name: str
