from datetime import datetime

from pydantic import Field

from app.models.enums import ApplicationStatus
from app.schemas.common import Hours, Input, MinorAmount, Output
from app.schemas.jobs import JobSummary
from app.schemas.users import Reliability, WorkerSummary


class ApplicationCreate(Input):
    cover_letter: str = Field("", max_length=5000)
    bid_minor: MinorAmount | None = None
    estimated_hours: Hours | None = None


class ApplicationRead(Output):
    id: int
    job_id: int
    worker_id: int
    status: ApplicationStatus
    cover_letter: str
    bid_minor: int | None
    estimated_hours: int | None
    created_at: datetime
    decided_at: datetime | None


class JobApplicationRead(ApplicationRead):
    """An application as the job's owner sees it: with the worker's summary."""

    worker: WorkerSummary


class MyApplicationRead(ApplicationRead):
    """An application as its worker sees it: with the job's summary."""

    job: JobSummary


class ApplicationDetail(ApplicationRead):
    worker: WorkerSummary
    job: JobSummary


class ScoreParts(Output):
    rating: float = Field(description="((n*avg + 5*3.0)/(n+5) - 1)/4 over the worker's n received ratings")
    skills: float = Field(description="share of the job's skills the worker has (1 if the job lists none)")
    distance: float = Field(description="max(0, 1 - km/50), km in whole km, when both have a location, else 0.5")
    experience: float = Field(description="min(completed_jobs, 20)/20")
    reliability: float = Field(description="(attended + 4)/(attended + no_shows + late_cancellations + 4)")


class RankedApplicant(Output):
    score: float = Field(
        description="35*rating + 20*skills + 20*distance + 10*experience + 15*reliability, in [0, 100]"
    )
    parts: ScoreParts
    distance_km: int | None = Field(
        description="Whole km between the job and the worker (their location is private), if both have one."
    )
    reliability: Reliability
    application: JobApplicationRead
