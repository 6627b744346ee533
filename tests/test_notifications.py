"""Notifications (issue #11): every event notifies exactly the right people once (never the actor), in the
event's transaction (none after a rollback); e-mails are deferred by the same rules; notifications are
private to their recipient; the list, unread count, read and read-all; per-kind settings and their defaults.
"""

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
from app.settings import Settings
from app.state import app_state
from app.tasks import WorkerState
from tests.conftest import started_app
from tests.factories import API, Actor, apply, assert_problem, fund, hire, make_admin, post_job, register

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
Act = Callable[[AsyncClient, World], Awaitable[Response]]


def call(method: str, path: str, who: str, body: Any = None, **headers: str) -> Act:
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


@dataclass(frozen=True)
class Event:
    name: str
    arrange: Arrange
    act: Act
    actor: str
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
]


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
    assert response.is_success, response.text
    notified, emailed = await created_since(db, mark, w)
    assert notified == Counter((who, kind) for who, kinds in event.expected.items() for kind in kinds)
    assert event.actor not in {who for who, _ in notified}
    # e-mail by default only for hired, rejected, paid and messages, one job per notification
    assert emailed == Counter(
        who for who, kinds in event.expected.items() for kind in kinds if kind in EMAIL_BY_DEFAULT
    )


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


@pytest.mark.parametrize("event", [pytest.param(e, id=e.name) for e in EVENTS if e.expected])
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
                assert response.status_code == 500, response.text
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


async def test_settings_default_to_in_app_for_all_and_email_for_hired_rejected_paid_and_messages(
    client: AsyncClient,
) -> None:
    actor = await register(client, "worker")
    chosen = (await client.get(f"{API}/users/me/notification-settings", headers=actor.headers)).json()
    assert set(chosen) == {k.value for k in NotificationKind}
    assert all(v["in_app"] for v in chosen.values())
    emailed = {k for k, v in chosen.items() if v["email"]}
    assert emailed == {"application_accepted", "application_rejected", "payout_received", "message_received"}


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
