from datetime import datetime
from typing import Annotated

from pydantic import Field, Strict

from app.schemas.common import Input, Output, Page, RefId, UserRef, WholeNumber


class ReviewCreate(Input):
    reviewee_id: RefId
    rating: Annotated[int, Field(ge=1, le=5), WholeNumber, Strict()]
    comment: str = Field("", max_length=2000)


class JobRef(Output):
    id: int
    title: str


class ReviewRead(Output):
    id: int
    job: JobRef
    reviewer: UserRef
    reviewee: UserRef
    rating: int
    comment: str
    read_at: datetime | None
    created_at: datetime


class ReceivedReviewsPage(Page[ReviewRead]):
    rating_avg: float | None
    rating_count: int
