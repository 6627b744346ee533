"""Timesheets: a job's list, the worker's submission, the client's approval, dispute or no-show."""

from fastapi import APIRouter

from app.cache import invalidates
from app.changes import Change
from app.deps import SessionDep, SettingsDep
from app.errors import problem_responses
from app.loaders import TimesheetForJobOwner, TimesheetForWorker, TimesheetsViewer
from app.repositories.attendance import TimesheetRepository
from app.routers import API_PREFIX
from app.routers.invalidation import attendance_write, nothing
from app.schemas.attendance import DisputeRead, TimesheetDispute, TimesheetList, TimesheetRead, TimesheetSubmit
from app.services.disputes import DisputeService
from app.services.timesheets import TimesheetService

router = APIRouter(prefix=API_PREFIX, tags=["timesheets"])


@router.get(
    "/jobs/{job_id}/timesheets",
    response_model=TimesheetList,
    operation_id="list_job_timesheets",
    responses=problem_responses(401, 403, 404),
)
async def list_job_timesheets(viewer: TimesheetsViewer, session: SessionDep) -> TimesheetList:
    """Every timesheet for the job's owner and admins; a hired worker sees their own. Not cached: the
    scheduler changes timesheets outside any request."""
    job_id, worker_id = viewer
    rows = await TimesheetRepository(session).list_by_job(job_id, worker_id)
    return TimesheetList(items=[TimesheetRead.of(timesheet, dispute_id) for timesheet, dispute_id in rows])


@router.post(
    "/timesheets/{timesheet_id}/submit",
    response_model=TimesheetRead,
    operation_id="submit_timesheet",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(nothing)
async def submit_timesheet(
    locked: TimesheetForWorker, data: TimesheetSubmit, session: SessionDep, settings: SettingsDep
) -> TimesheetRead:
    """After check-out: 0 <= minutes <= the shift's scheduled minutes."""
    return TimesheetRead.of(await TimesheetService(session, settings).submit(*locked, data), None)


@router.post(
    "/timesheets/{timesheet_id}/approve",
    response_model=TimesheetRead,
    operation_id="approve_timesheet",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(nothing)
async def approve_timesheet(locked: TimesheetForJobOwner, session: SessionDep, settings: SettingsDep) -> TimesheetRead:
    """A submitted timesheet: `approved_minutes` = the claim."""
    return TimesheetRead.of(await TimesheetService(session, settings).approve(*locked), None)


@router.post(
    "/timesheets/{timesheet_id}/dispute",
    status_code=201,
    response_model=DisputeRead,
    operation_id="dispute_timesheet",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(nothing)
async def dispute_timesheet(
    locked: TimesheetForJobOwner, data: TimesheetDispute, session: SessionDep, settings: SettingsDep
) -> DisputeRead:
    """A submitted timesheet, within APP_TIMESHEET_REVIEW_MINUTES of its submission: opens a dispute."""
    return DisputeRead.of(await DisputeService(session, settings).contest_timesheet(*locked, data))


@router.post(
    "/timesheets/{timesheet_id}/no-show",
    response_model=TimesheetRead,
    operation_id="mark_no_show",
    responses=problem_responses(401, 403, 404, 409),
)
@invalidates(attendance_write)
async def mark_no_show(
    locked: TimesheetForJobOwner, session: SessionDep, settings: SettingsDep
) -> Change[TimesheetRead]:
    """Once the shift's start plus APP_NO_SHOW_GRACE_MINUTES passed without a check-in."""
    change = await TimesheetService(session, settings).mark_no_show(*locked)
    return change.map(lambda timesheet: TimesheetRead.of(timesheet, None))
