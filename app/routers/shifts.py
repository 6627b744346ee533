"""Attendance on a shift: the hired worker checks in (on site, in the time window) and out."""

from fastapi import APIRouter

from app.cache import invalidates
from app.changes import Change
from app.deps import SessionDep, SettingsDep
from app.errors import problem_responses
from app.loaders import ShiftForHiredWorker
from app.routers import API_PREFIX
from app.routers.invalidation import attendance_write
from app.schemas.attendance import Position, TimesheetRead
from app.services.shifts import ShiftService

router = APIRouter(prefix=f"{API_PREFIX}/shifts", tags=["shifts"])


@router.post(
    "/{shift_id}/check-in",
    response_model=TimesheetRead,
    operation_id="check_in",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(attendance_write)
async def check_in(
    locked: ShiftForHiredWorker, at: Position, session: SessionDep, settings: SettingsDep
) -> Change[TimesheetRead]:
    """From 30 minutes before the shift's start until its end, within APP_CHECKIN_RADIUS_M of the job (when it
    has a location; else 422 with the distance); once."""
    change = await ShiftService(session, settings).check_in(*locked, at)
    return change.map(lambda timesheet: TimesheetRead.of(timesheet, None))


@router.post(
    "/{shift_id}/check-out",
    response_model=TimesheetRead,
    operation_id="check_out",
    responses=problem_responses(401, 403, 404, 409, 422),
)
@invalidates(attendance_write)
async def check_out(
    locked: ShiftForHiredWorker, at: Position, session: SessionDep, settings: SettingsDep
) -> TimesheetRead:
    """After check-in: records `recorded_minutes`, the whole minutes between the two."""
    return TimesheetRead.of(await ShiftService(session, settings).check_out(*locked, at), None)
