"""Notifications (issue #11): every event notifies exactly the right people once (never the actor), in the
event's transaction (none after a rollback); e-mails are deferred by the same rules; notifications are
private to their recipient; the list, unread count, read and read-all; per-kind settings and their defaults.
"""

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import UnitOfWork, create_sessionmaker
from app.live import InProcessLive
from app.models import Notification
from app.models.enums import NotificationKind
from app.services.notifications import EMAIL_BY_DEFAULT, notify
from app.services.shifts import ShiftService
from app.services.timesheets import TimesheetService
from app.settings import Settings
from app.state import AppState, app_state
from app.tasks import WorkerState
from tests.conftest import started_app
from tests.factories import API, Actor, apply, assert_problem, fund, hire, make_admin, post_job, register
from tests.shiftwork import AT_BERLIN, act, check_in, check_out, place_shift, schedule, sheet, shift_job, submit

K = NotificationKind

# --- the events -------------------------------------------------------------------------------------------


@dataclass
class World:
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def id_of(self, name: str) -> int:
        return self.actors[name].id

    def headers(self, name: str) -> dict[str, str]:
        return self.actors[name].headers


async def people(http: AsyncClient, *, openings: int = 2, applied: tuple[str, ...] = ("w", "w2")) -> World:
    """Client `c` with job `j` (`openings`), workers `w`, `w2` (applications `a_w`, `a_w2` if applied), and
    a bystander worker `x` who applied to nothing."""
    w = World()
    w.actors["c"] = await register(http, "client", full_name="Carla Client")
    for name in ("w", "w2", "x"):
        w.actors[name] = await register(http, "worker", full_name=f"Worker {name}")
    job = await post_job(http, w.actors["c"], openings=openings, title="Paint the fence")
    w.ids["j"], w.ids["cost"] = job["id"], job["total_cost_minor"]
    for name in applied:
        w.ids[f"a_{name}"] = (await apply(http, w.actors[name], job["id"]))["id"]
    return w


async def hired(http: AsyncClient, *, funded: bool, openings: int = 2) -> World:
    """`w` hired on `j`, funded or not; with 2 openings `j` is still open and `w2` pending, with 1 it is in
    progress (and `w2` rejected)."""
    w = await people(http, openings=openings)
    if funded:
        await fund(http, w.actors["c"], {"id": w.ids["j"], "total_cost_minor": w.ids["cost"]})
    await hire(http, w.actors["c"], w.ids["a_w"])
    return w


async def completed(http: AsyncClient) -> World:
    w = await hired(http, funded=True, openings=1)
    response = await http.post(f"{API}/jobs/{w.ids['j']}/complete", headers=w.headers("c"))
    assert response.status_code == 200, response.text
    return w


Arrange = Callable[[AsyncClient], Awaitable[World]]
Request = Callable[[AsyncClient, World], Awaitable[Response]]
Act = Callable[[AsyncClient, World], Awaitable[Response | None]]  # a request, or a scheduler tick (None)


def call(method: str, path: str, who: str, body: Any = None, **headers: str) -> Request:
    async def act(http: AsyncClient, w: World) -> Response:
        return await http.request(method, API + path.format(**w.ids), json=body, headers={**w.headers(who), **headers})

    return act


async def apply_as_x(http: AsyncClient, w: World) -> Response:
    return await http.post(f"{API}/jobs/{w.ids['j']}/applications", json={}, headers=w.headers("x"))


async def fund_j(http: AsyncClient, w: World) -> Response:
    body = {"amount_minor": w.ids["cost"]}
    return await http.post(
        f"{API}/jobs/{w.ids['j']}/payments", json=body, headers={**w.headers("c"), "Idempotency-Key": "event"}
    )


def review(reviewer: str, reviewee: str) -> Act:
    async def act(http: AsyncClient, w: World) -> Response:
        body = {"reviewee_id": w.id_of(reviewee), "rating": 5}
        return await http.post(f"{API}/jobs/{w.ids['j']}/reviews", json=body, headers=w.headers(reviewer))

    return act


# The shift-work events (issue #10): a funded job "Paint the fence" with shifts, `w` and `w2` hired; `s` is the
# first shift, `t` the timesheet of `w` on it.


def app_of(http: AsyncClient) -> AppState:
    return app_state(http._transport.app)  # type: ignore[attr-defined]


async def on_shift(http: AsyncClient, *, started_minutes_ago: float | None = None) -> World:
    """The job with `w` and `w2` hired; its first shift moved to have started that long ago (if given)."""
    w = World()
    w.actors["c"] = await register(http, "client", full_name="Carla Client")
    for name in ("w", "w2"):
        w.actors[name] = await register(http, "worker", full_name=f"Worker {name}")
    job = await shift_job(http, w.actors["c"], [w.actors["w"], w.actors["w2"]], title="Paint the fence")
    w.ids["j"], w.ids["s"], w.ids["s2"] = job["id"], job["shifts"][0]["id"], job["shifts"][1]["id"]
    if started_minutes_ago is not None:
        async with app_of(http).database.sessionmaker() as session:
            await place_shift(session, w.ids["s"], started_minutes_ago=started_minutes_ago)
    w.ids["t"] = (await sheet(http, w.actors["c"], w.ids["j"], w.ids["s"], w.actors["w"]))["id"]
    return w


async def checked_in(http: AsyncClient) -> World:
    w = await on_shift(http, started_minutes_ago=10)
    assert (await check_in(http, w.actors["w"], w.ids["s"])).status_code == 200
    return w


async def checked_out(http: AsyncClient) -> World:
    w = await checked_in(http)
    assert (await check_out(http, w.actors["w"], w.ids["s"])).status_code == 200
    return w


async def submitted(http: AsyncClient, *, review_ran_out: bool = False) -> World:
    w = await checked_out(http)
    assert (await submit(http, w.actors["w"], w.ids["t"], 100)).status_code == 200
    if review_ran_out:
        async with app_of(http).database.sessionmaker() as session:
            await session.execute(
                text("UPDATE timesheets SET submitted_at = submitted_at - interval '1 minute' * :m WHERE id = :t"),
                {"m": app_of(http).settings.timesheet_review_minutes + 1, "t": w.ids["t"]},
            )
            await session.commit()
    return w


async def disputed(http: AsyncClient) -> World:
    """A dispute `d` about the timesheet `t`, and an admin."""
    w = await submitted(http)
    body = {"proposed_minutes": 60, "reason": "Left an hour early"}
    response = await act(http, w.actors["c"], w.ids["t"], "dispute", **body)
    assert response.status_code == 201, response.text
    w.ids["d"] = response.json()["id"]
    state = app_of(http)
    async with state.database.sessionmaker() as session:
        w.actors["admin"] = await make_admin(http, session, state.settings)
    return w


async def dispute_pay(http: AsyncClient, w: World) -> Response:
    body = {"worker_id": w.id_of("w"), "reason": "No work was done"}
    return await http.post(f"{API}/jobs/{w.ids['j']}/disputes", json=body, headers=w.headers("c"))


def tick(sweep: Callable[[UnitOfWork, Settings], Awaitable[int]]) -> Act:
    """A scheduler tick's work, in its own unit of work as the task runs it (app/tasks/shifts.py)."""

    async def run(http: AsyncClient, w: World) -> None:
        state = app_of(http)
        async with WorkerState(state.settings, state.database.sessionmaker).unit_of_work() as session:
            assert await sweep(session, state.settings) > 0

    return run


async def remind(session: UnitOfWork, settings: Settings) -> int:
    return await ShiftService(session, settings).remind_starting_shifts(datetime.now(UTC))


async def approve_unreviewed(session: UnitOfWork, settings: Settings) -> int:
    return await TimesheetService(session, settings).approve_unreviewed(datetime.now(UTC))


async def mark_overdue_no_shows(session: UnitOfWork, settings: Settings) -> int:
    return await TimesheetService(session, settings).mark_overdue_no_shows(datetime.now(UTC))


@dataclass(frozen=True)
class Event:
    name: str
    arrange: Arrange
    act: Act
    actor: str | None  # None: the scheduler
    expected: dict[str, list[NotificationKind]]  # recipient -> the kinds they get, each exactly once


EVENTS = [
    Event("new application", people, apply_as_x, "x", {"c": [K.application_received]}),
    Event("accepted", people, call("POST", "/applications/{a_w}/accept", "c"), "c", {"w": [K.application_accepted]}),
    Event(
        "accepted, filling the last opening",
        lambda http: people(http, openings=1),
        call("POST", "/applications/{a_w}/accept", "c"),
        "c",
        {"w": [K.application_accepted], "w2": [K.application_rejected]},
    ),
    Event("rejected", people, call("POST", "/applications/{a_w}/reject", "c"), "c", {"w": [K.application_rejected]}),
    Event("withdrawn", people, call("POST", "/applications/{a_w}/withdraw", "w"), "w", {}),
    Event("funded", lambda http: hired(http, funded=False), fund_j, "c", {"w": [K.job_funded]}),
    Event(
        "cancelled",
        lambda http: hired(http, funded=True),
        call("POST", "/jobs/{j}/cancel", "c"),
        "c",
        {"w": [K.job_cancelled], "w2": [K.job_cancelled]},
    ),
    Event(
        "completed, paid out",
        lambda http: hired(http, funded=True, openings=1),
        call("POST", "/jobs/{j}/complete", "c"),
        "c",
        {"w": [K.job_completed, K.payout_received]},
    ),
    Event("review of the worker", completed, review("c", "w"), "c", {"w": [K.review_received]}),
    Event("review of the client", completed, review("w", "c"), "w", {"c": [K.review_received]}),
    Event(
        "message to the worker",
        people,
        call("POST", "/applications/{a_w}/messages", "c", {"body": "Can you bring a ladder?"}),
        "c",
        {"w": [K.message_received]},
    ),
    Event(
        "message to the client",
        people,
        call("POST", "/applications/{a_w}/messages", "w", {"body": "Yes, I will."}),
        "w",
        {"c": [K.message_received]},
    ),
    # shift work
    Event(
        "shift starting within the hour",
        lambda http: on_shift(http, started_minutes_ago=-30),
        tick(remind),
        None,
        {"w": [K.shift_starting], "w2": [K.shift_starting]},
    ),
    Event(
        "checked in",
        lambda http: on_shift(http, started_minutes_ago=10),
        call("POST", "/shifts/{s}/check-in", "w", AT_BERLIN),
        "w",
        {"c": [K.checked_in]},
    ),
    Event(
        "checked out", checked_in, call("POST", "/shifts/{s}/check-out", "w", AT_BERLIN), "w", {"c": [K.checked_out]}
    ),
    Event(
        "timesheet submitted",
        checked_out,
        call("POST", "/timesheets/{t}/submit", "w", {"minutes": 100}),
        "w",
        {"c": [K.timesheet_submitted]},
    ),
    Event(
        "timesheet approved",
        submitted,
        call("POST", "/timesheets/{t}/approve", "c"),
        "c",
        {"w": [K.timesheet_approved]},
    ),
    Event(
        "timesheet approved by the scheduler",
        lambda http: submitted(http, review_ran_out=True),
        tick(approve_unreviewed),
        None,
        {"w": [K.timesheet_approved]},
    ),
    Event(
        "timesheet disputed",
        submitted,
        call("POST", "/timesheets/{t}/dispute", "c", {"proposed_minutes": 60, "reason": "Left an hour early"}),
        "c",
        {"w": [K.timesheet_disputed]},
    ),
    Event(
        "pay disputed",
        on_shift,
        dispute_pay,
        "c",
        {"w": [K.work_disputed]},
    ),
    Event(
        "no-show marked",
        lambda http: on_shift(http, started_minutes_ago=120),
        call("POST", "/timesheets/{t}/no-show", "c"),
        "c",
        {"w": [K.no_show]},
    ),
    Event(
        "no-shows marked by the scheduler",
        lambda http: on_shift(http, started_minutes_ago=120),
        tick(mark_overdue_no_shows),
        None,
        {"w": [K.no_show], "w2": [K.no_show]},
    ),
    Event(
        "dispute resolved",
        disputed,
        call("POST", "/disputes/{d}/resolve", "admin", {"minutes": 90}),
        "admin",
        {"w": [K.dispute_resolved], "c": [K.dispute_resolved]},
    ),
]


# What the shift-work notifications' data names (besides the job): the ids of what they are about.
TIMESHEET = {"job_id", "shift_id", "timesheet_id"}
SHIFT_DATA = {
    K.shift_starting: {"job_id", "shift_id"},
    K.checked_in: TIMESHEET,
    K.checked_out: TIMESHEET,
    K.timesheet_submitted: TIMESHEET,
    K.timesheet_approved: TIMESHEET,
    K.timesheet_disputed: TIMESHEET | {"dispute_id"},
    K.work_disputed: {"job_id", "dispute_id"},
    K.no_show: TIMESHEET,
    K.dispute_resolved: TIMESHEET | {"dispute_id"},
}


async def high_water(db: AsyncSession) -> tuple[int, int]:
    """The last notification id and the last job id of the queue."""
    notification = await db.scalar(select(func.coalesce(func.max(Notification.id), 0)))
    job = await db.scalar(text("SELECT coalesce(max(id), 0) FROM procrastinate_jobs"))
    return int(notification or 0), int(job or 0)


async def created_since(db: AsyncSession, mark: tuple[int, int], w: World) -> tuple[Counter[Any], Counter[Any]]:
    """(recipient name, kind) of the notifications, and the recipient names of the e-mail jobs, since `mark`."""
    names = {actor.id: name for name, actor in w.actors.items()}
    rows = (await db.execute(select(Notification.user_id, Notification.kind).where(Notification.id > mark[0]))).all()
    jobs = await db.execute(
        text("SELECT args FROM procrastinate_jobs WHERE id > :id AND task_name = 'emails.notification'"),
        {"id": mark[1]},
    )
    return (
        Counter((names.get(user_id, user_id), K(kind)) for user_id, kind in rows),
        Counter(names.get(args["user_id"], args["user_id"]) for (args,) in jobs),
    )


@pytest.mark.parametrize("event", [pytest.param(e, id=e.name) for e in EVENTS])
async def test_each_event_notifies_exactly_the_right_people_once(
    client: AsyncClient, db: AsyncSession, event: Event
) -> None:
    w = await event.arrange(client)
    mark = await high_water(db)
    response = await event.act(client, w)
    assert response is None or response.is_success, response.text
    notified, emailed = await created_since(db, mark, w)
    assert notified == Counter((who, kind) for who, kinds in event.expected.items() for kind in kinds)
    assert event.actor not in {who for who, _ in notified}
    # e-mail by default only for hired, rejected, paid, messages and disputes, one job per notification
    assert emailed == Counter(
        who for who, kinds in event.expected.items() for kind in kinds if kind in EMAIL_BY_DEFAULT
    )
    # about the job, by public information only
    emails = [a.email for a in w.actors.values()]
    for n in await db.scalars(select(Notification).where(Notification.id > mark[0])):
        assert n.data["job_id"] == w.ids["j"] and "Paint the fence" in n.title, (n.title, n.data)
        assert not any(e in n.title or e in n.body for e in emails)
        if n.kind in SHIFT_DATA:  # the job's page shows its shifts, timesheets and disputes
            assert n.link == f"/jobs/{w.ids['j']}"
            assert set(n.data) == SHIFT_DATA[K(n.kind)], n.data
            assert n.data.get("shift_id", w.ids["s"]) == w.ids["s"]
            if "d" in w.ids:  # (a dispute the event opens is new)
                assert n.data["dispute_id"] == w.ids["d"]
            if n.user_id != w.id_of("w2"):  # (the scheduler's no-show of w2 is about w2's own timesheet)
                assert n.data.get("timesheet_id", w.ids["t"]) == w.ids["t"]


def commit_fails_after(connection: AsyncConnection) -> tuple[async_sessionmaker[UnitOfWork], type[UnitOfWork]]:
    class CommitFails(UnitOfWork):
        failing = False

        async def commit(self) -> None:
            if type(self).failing:
                raise RuntimeError("simulated commit failure")
            await super().commit()

    maker: async_sessionmaker[UnitOfWork] = async_sessionmaker(
        bind=connection,
        class_=CommitFails,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )
    return maker, CommitFails


# Every request's event; a tick's rollback is tested below (the rollback of its unit of work).
@pytest.mark.parametrize("event", [pytest.param(e, id=e.name) for e in EVENTS if e.expected and e.actor])
async def test_a_rolled_back_event_leaves_no_notification_no_email_and_publishes_nothing(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, db: AsyncSession, event: Event
) -> None:
    maker, session_class = commit_fails_after(connection)
    async with started_app(settings, engine, maker) as app:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            w = await event.arrange(http)
            mark = await high_water(db)
            live = app_state(app).live
            with live.subscribe(w.id_of(next(iter(event.expected)))) as subscription:
                session_class.failing = True  # type: ignore[attr-defined]
                response = await event.act(http, w)
                session_class.failing = False  # type: ignore[attr-defined]
                assert response is not None and response.status_code == 500, response
                assert await subscription.next(within=0.05) is None
    assert await created_since(db, mark, w) == (Counter(), Counter())


async def test_a_committed_notification_is_published_live_after_the_commit(client: AsyncClient) -> None:
    w = await people(client, applied=("w",))
    state = app_state(client._transport.app)  # type: ignore[attr-defined]
    with state.live.subscribe(w.id_of("c")) as subscription:
        response = await apply_as_x(client, w)
        assert response.status_code == 201
        event = await subscription.next(within=1)
    assert event is not None
    listed = (await client.get(f"{API}/notifications", headers=w.headers("c"))).json()["items"]
    assert event.id == listed[0]["id"]
    assert json.loads(event.data) == listed[0]  # the stream's data: the notification as the list shows it


# --- the reminder of a shift starting within the hour ----------------------------------------------------


async def test_the_reminder_tick_run_twice_reminds_each_shift_once(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await on_shift(client, started_minutes_ago=-30)
    assert isinstance(db, UnitOfWork)
    mark = await high_water(db)
    service = ShiftService(db, settings)
    now = datetime.now(UTC)
    assert await service.remind_starting_shifts(now) == 1
    assert await service.remind_starting_shifts(now) == 0
    assert await service.remind_starting_shifts(now + timedelta(minutes=20)) == 0  # still within the hour
    notified, emailed = await created_since(db, mark, w)
    assert notified == Counter({("w", K.shift_starting): 1, ("w2", K.shift_starting): 1})
    assert emailed == Counter()
    newest = (await client.get(f"{API}/notifications", headers=w.headers("w"))).json()["items"][0]
    assert newest["title"] == "Your shift for Paint the fence starts within the hour"
    assert newest["link"] == f"/jobs/{w.ids['j']}"
    assert newest["data"] == {"job_id": w.ids["j"], "shift_id": w.ids["s"]}


async def test_only_a_shift_starting_within_the_hour_is_reminded_and_only_to_who_has_not_checked_in(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await on_shift(client, started_minutes_ago=-61)  # starts in 61 minutes
    assert isinstance(db, UnitOfWork)
    service = ShiftService(db, settings)
    mark = await high_water(db)
    assert await service.remind_starting_shifts(datetime.now(UTC)) == 0
    assert await created_since(db, mark, w) == (Counter(), Counter())
    # 20 minutes before its start: `w` checked in already (check-in opens 30 minutes before), `w2` is told
    await place_shift(db, w.ids["s"], started_minutes_ago=-20)
    assert (await check_in(client, w.actors["w"], w.ids["s"])).status_code == 200
    # and a shift that started already is past reminding
    await place_shift(db, w.ids["s2"], started_minutes_ago=5)
    mark = await high_water(db)
    assert await service.remind_starting_shifts(datetime.now(UTC)) == 1
    notified, _ = await created_since(db, mark, w)
    assert notified == Counter({("w2", K.shift_starting): 1})


async def test_a_failed_reminder_tick_leaves_no_notification_and_the_next_tick_reminds(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await on_shift(client, started_minutes_ago=-30)
    mark = await high_water(db)
    state = WorkerState(settings, app_of(client).database.sessionmaker)
    with pytest.raises(RuntimeError):
        async with state.unit_of_work() as session:
            assert await ShiftService(session, settings).remind_starting_shifts(datetime.now(UTC)) == 1
            raise RuntimeError("the tick fails after notifying")
    assert await created_since(db, mark, w) == (Counter(), Counter())
    async with state.unit_of_work() as session:  # the shift's marker was rolled back with its notifications
        assert await ShiftService(session, settings).remind_starting_shifts(datetime.now(UTC)) == 1
    notified, _ = await created_since(db, mark, w)
    assert notified == Counter({("w", K.shift_starting): 1, ("w2", K.shift_starting): 1})


@pytest.mark.committing
async def test_overlapping_reminder_ticks_remind_each_shift_once(
    committing_client: AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    client = committing_client
    owner = await register(client, "client")
    workers = [await register(client) for _ in range(3)]
    for _ in range(3):  # three shifts starting in 30 minutes, the three workers hired on each
        await shift_job(client, owner, workers, shifts=schedule(1, first_in=timedelta(minutes=30)))
    state = WorkerState(settings, create_sessionmaker(engine))

    async def tick() -> int:
        async with state.unit_of_work() as session:
            return await ShiftService(session, settings).remind_starting_shifts(datetime.now(UTC))

    assert sum(await asyncio.gather(*(tick() for _ in range(4)))) == 3
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT user_id, count(*) FROM notifications WHERE kind = 'shift_starting' GROUP BY user_id")
        )
        assert dict(rows.all()) == {worker.id: 3 for worker in workers}


# --- reading them ---------------------------------------------------------------------------------------


async def three_notifications(http: AsyncClient) -> World:
    """Client `c` has three notifications (applications of `w`, `w2`, `x` to job `j`)."""
    w = await people(http, applied=("w", "w2"))
    assert (await apply_as_x(http, w)).status_code == 201
    return w


async def test_the_list_is_the_callers_own_newest_first_with_a_keyset_cursor(client: AsyncClient) -> None:
    w = await three_notifications(client)
    first = (await client.get(f"{API}/notifications?limit=2", headers=w.headers("c"))).json()
    assert [n["title"] for n in first["items"]] == [
        "Worker x applied to Paint the fence",
        "Worker w2 applied to Paint the fence",
    ]
    assert first["next_cursor"]
    second = (
        await client.get(f"{API}/notifications?limit=2&cursor={first['next_cursor']}", headers=w.headers("c"))
    ).json()
    assert [n["title"] for n in second["items"]] == ["Worker w applied to Paint the fence"]
    assert second["next_cursor"] is None
    item = first["items"][0]
    assert set(item) == {"id", "kind", "title", "body", "link", "data", "created_at", "read_at"}
    assert item["kind"] == "application_received" and item["link"] == f"/jobs/{w.ids['j']}"
    assert item["data"]["job_id"] == w.ids["j"] and item["read_at"] is None
    # nobody else sees them
    assert (await client.get(f"{API}/notifications", headers=w.headers("w"))).json()["items"] == []
    assert_problem(await client.get(f"{API}/notifications"), 401)


async def test_read_one_read_all_unread_filter_and_count(client: AsyncClient) -> None:
    w = await three_notifications(client)
    c = w.headers("c")

    async def count() -> int:
        return int((await client.get(f"{API}/notifications/unread-count", headers=c)).json()["count"])

    assert await count() == 3
    newest = (await client.get(f"{API}/notifications", headers=c)).json()["items"][0]
    read = await client.post(f"{API}/notifications/{newest['id']}/read", headers=c)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = await client.post(f"{API}/notifications/{newest['id']}/read", headers=c)
    assert again.json()["read_at"] == read.json()["read_at"]  # the first read time stays
    assert await count() == 2
    unread = (await client.get(f"{API}/notifications?unread=true", headers=c)).json()["items"]
    assert newest["id"] not in {n["id"] for n in unread} and len(unread) == 2
    assert (await client.post(f"{API}/notifications/read-all", headers=c)).status_code == 204
    assert await count() == 0
    assert (await client.get(f"{API}/notifications?unread=true", headers=c)).json()["items"] == []


async def test_a_notification_is_private_to_its_recipient(
    client: AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    w = await three_notifications(client)
    mine = (await client.get(f"{API}/notifications", headers=w.headers("c"))).json()["items"][0]["id"]
    admin = await make_admin(client, db, settings)
    for headers in (w.headers("w"), admin.headers):
        assert_problem(await client.post(f"{API}/notifications/{mine}/read", headers=headers), 404)
    assert_problem(await client.post(f"{API}/notifications/{mine + 10_000}/read", headers=w.headers("c")), 404)
    # read-all by someone else touches nothing of the client's
    assert (await client.post(f"{API}/notifications/read-all", headers=w.headers("w"))).status_code == 204
    count = (await client.get(f"{API}/notifications/unread-count", headers=w.headers("c"))).json()["count"]
    assert count == 3


# --- settings -------------------------------------------------------------------------------------------


async def test_settings_default_to_in_app_for_all_and_email_for_hired_rejected_paid_messages_and_disputes(
    client: AsyncClient,
) -> None:
    actor = await register(client, "worker")
    chosen = (await client.get(f"{API}/users/me/notification-settings", headers=actor.headers)).json()
    assert set(chosen) == {k.value for k in NotificationKind}
    assert all(v["in_app"] for v in chosen.values())
    emailed = {k for k, v in chosen.items() if v["email"]}
    assert emailed == {
        "application_accepted",
        "application_rejected",
        "payout_received",
        "message_received",
        "timesheet_disputed",
        "work_disputed",
        "dispute_resolved",
    }


async def test_settings_are_followed_per_kind_and_channel(client: AsyncClient, db: AsyncSession) -> None:
    w = await people(client, applied=("w",))
    changed = await client.patch(
        f"{API}/users/me/notification-settings",
        json={"application_received": {"in_app": False, "email": True}},
        headers=w.headers("c"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["application_received"] == {"in_app": False, "email": True}
    assert changed.json()["job_funded"] == {"in_app": True, "email": False}  # the others keep their defaults
    # one channel changed, the other kept
    kept = await client.patch(
        f"{API}/users/me/notification-settings", json={"application_received": {"email": False}}, headers=w.headers("c")
    )
    assert kept.json()["application_received"] == {"in_app": False, "email": False}
    mark = await high_water(db)
    assert (await apply_as_x(client, w)).status_code == 201
    assert await created_since(db, mark, w) == (Counter(), Counter())
    # the worker turns hiring e-mails off: the row still comes, the e-mail does not
    await client.patch(
        f"{API}/users/me/notification-settings", json={"application_accepted": {"email": False}}, headers=w.headers("w")
    )
    mark = await high_water(db)
    await hire(client, w.actors["c"], w.ids["a_w"])
    assert await created_since(db, mark, w) == (Counter({("w", K.application_accepted): 1}), Counter())


@pytest.mark.parametrize(
    "body",
    [{"no_such_kind": {"email": True}}, {"job_funded": {"sms": True}}, {"job_funded": {"email": "maybe"}}, []],
)
async def test_settings_refuse_unknown_kinds_and_channels(client: AsyncClient, body: Any) -> None:
    actor = await register(client, "worker")
    assert_problem(await client.patch(f"{API}/users/me/notification-settings", json=body, headers=actor.headers), 422)


async def test_cancelling_an_open_job_notifies_its_pending_applicants(client: AsyncClient, db: AsyncSession) -> None:
    w = await people(client)
    mark = await high_water(db)
    assert (await call("POST", "/jobs/{j}/cancel", "c")(client, w)).status_code == 200
    notified, _ = await created_since(db, mark, w)
    assert notified == Counter({("w", K.job_cancelled): 1, ("w2", K.job_cancelled): 1})


async def test_a_task_notifies_live_after_its_commit_and_not_after_a_rollback(
    settings: Settings, connection: AsyncConnection, db: AsyncSession, client: AsyncClient
) -> None:
    """What a scheduler tick does (the shift-work events): notify in `unit_of_work()`; live only once committed."""
    w = await people(client, applied=())
    live = InProcessLive()
    state = WorkerState(
        settings, create_sessionmaker(connection, join_transaction_mode="create_savepoint", info={"live": live})
    )
    with live.subscribe(w.id_of("w")) as subscription:
        with pytest.raises(RuntimeError):
            async with state.unit_of_work() as session:
                await notify(session, K.job_funded, [w.id_of("w")], actor=None, title="Rolled back", link="/")
                raise RuntimeError("the task fails")
        assert await subscription.next(within=0.05) is None
        async with state.unit_of_work() as session:
            await notify(session, K.job_funded, [w.id_of("w")], actor=None, title="Committed", link="/")
        event = await subscription.next(within=1)
    assert event is not None and json.loads(event.data)["title"] == "Committed"
    titles = (await client.get(f"{API}/notifications", headers=w.headers("w"))).json()["items"]
    assert [n["title"] for n in titles] == ["Committed"]


async def test_notify_never_notifies_the_actor_and_once_per_recipient(client: AsyncClient, db: AsyncSession) -> None:
    w = await people(client, applied=())
    assert isinstance(db, UnitOfWork)
    mark = await high_water(db)
    recipients = [w.id_of("c"), w.id_of("w"), w.id_of("w"), w.id_of("w2")]
    rows = await notify(db, K.message_received, recipients, actor=w.id_of("c"), title="t", link="/")
    assert sorted(n.user_id for n in rows) == sorted([w.id_of("w"), w.id_of("w2")])
    notified, emailed = await created_since(db, mark, w)
    assert notified == Counter({("w", K.message_received): 1, ("w2", K.message_received): 1})
    assert emailed == Counter({"w": 1, "w2": 1})
    assert await notify(db, K.message_received, [w.id_of("c")], actor=w.id_of("c"), title="t", link="/") == []
