"""Two-way reviews on completed jobs, the received/given lists, read marks and rating summaries."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Review
from tests.conftest import StatementCounter
from tests.factories import API, Actor, apply, completed_job, fund, hire, post_job, register

PROBLEM_JSON = "application/problem+json"


async def review(
    client: AsyncClient, reviewer: Actor | None, job_id: int, reviewee_id: int, rating: Any = 5, **extra: Any
) -> Response:
    return await client.post(
        f"{API}/jobs/{job_id}/reviews",
        json={"reviewee_id": reviewee_id, "rating": rating, **extra},
        headers=reviewer.headers if reviewer else {},
    )


async def reviewed(client: AsyncClient, reviewer: Actor, job_id: int, reviewee_id: int, rating: int = 5) -> int:
    response = await review(client, reviewer, job_id, reviewee_id, rating)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def review_count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Review)) or 0)


async def profile(client: AsyncClient, user_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/users/{user_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def backdate(db: AsyncSession, review_id: int, at: datetime) -> None:
    await db.execute(update(Review).where(Review.id == review_id).values(created_at=at))
    await db.commit()


# Writing reviews


async def test_the_client_reviews_a_hired_worker(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])

    response = await review(client, owner, job["id"], worker.id, 4, comment="Quick and tidy.")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reviewer"]["id"] == owner.id and body["reviewer"]["full_name"]
    assert body["reviewee"]["id"] == worker.id and body["reviewee"]["full_name"]
    assert body["job"] == {"id": job["id"], "title": job["title"]}
    assert body["rating"] == 4 and body["comment"] == "Quick and tidy." and body["read_at"] is None


async def test_a_hired_worker_reviews_the_client(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])

    response = await review(client, worker, job["id"], owner.id, 3)

    assert response.status_code == 201, response.text
    assert response.json()["reviewer"]["id"] == worker.id and response.json()["reviewee"]["id"] == owner.id
    assert (await profile(client, owner.id))["rating_count"] == 1


async def test_a_job_that_is_not_completed_cannot_be_reviewed(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await post_job(client, owner)
    await fund(client, owner, job)
    await hire(client, owner, (await apply(client, worker, job["id"]))["id"])  # in progress now

    by_client = await review(client, owner, job["id"], worker.id)
    by_worker = await review(client, worker, job["id"], owner.id)

    assert by_client.status_code == by_worker.status_code == 409
    assert by_client.headers["content-type"] == PROBLEM_JSON and by_client.json()["status"] == 409
    assert (await client.post(f"{API}/jobs/{job['id']}/cancel", headers=owner.headers)).status_code == 200
    assert (await review(client, owner, job["id"], worker.id)).status_code == 409  # cancelled, never completed
    assert await review_count(db) == 0


async def test_a_caller_who_took_no_part_cannot_review(client: AsyncClient, db: AsyncSession) -> None:
    owner, hired, passed_over = await register(client, "client"), await register(client), await register(client)
    stranger_client, stranger_worker = await register(client, "client"), await register(client)
    job = await post_job(client, owner, openings=1)
    await fund(client, owner, job)
    await apply(client, passed_over, job["id"])
    await hire(client, owner, (await apply(client, hired, job["id"]))["id"])
    assert (await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)).status_code == 200

    for caller, reviewee in ((stranger_client, hired), (stranger_worker, owner), (passed_over, owner)):
        response = await review(client, caller, job["id"], reviewee.id)
        assert response.status_code == 403, caller
        assert response.json()["status"] == 403
    assert (await review(client, None, job["id"], owner.id)).status_code == 401
    assert await review_count(db) == 0


async def test_a_reviewee_who_took_no_part_is_refused(client: AsyncClient, db: AsyncSession) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    passed_over, stranger = await register(client), await register(client, "client")
    job = await post_job(client, owner, openings=2)
    await fund(client, owner, job)
    await apply(client, passed_over, job["id"])
    for worker in (first, second):
        await hire(client, owner, (await apply(client, worker, job["id"]))["id"])
    assert (await client.post(f"{API}/jobs/{job['id']}/complete", headers=owner.headers)).status_code == 200

    cases = [
        (owner, passed_over),  # applied but was not hired
        (owner, stranger),
        (owner, owner),
        (first, second),  # workers review the client, not each other
        (first, stranger),
    ]
    for reviewer, reviewee in cases:
        assert (await review(client, reviewer, job["id"], reviewee.id)).status_code == 403, (reviewer, reviewee)
    assert (await review(client, owner, job["id"], 999_999)).status_code == 403
    assert await review_count(db) == 0


async def test_reviewing_a_missing_job_is_404(client: AsyncClient) -> None:
    owner = await register(client, "client")
    response = await review(client, owner, 999_999, owner.id)
    assert response.status_code == 404 and response.json()["status"] == 404


async def test_a_second_review_of_the_same_pair_is_a_409_problem(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])
    await reviewed(client, owner, job["id"], worker.id, 5)

    again = await review(client, owner, job["id"], worker.id, 1)

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["status"] == 409 and "already reviewed" in again.json()["detail"]
    assert await review_count(db) == 1
    summary = await profile(client, worker.id)
    assert summary["rating_count"] == 1 and summary["rating_avg"] == 5.0
    # the other direction is a different pair
    assert (await review(client, worker, job["id"], owner.id)).status_code == 201


@pytest.mark.committing
async def test_concurrent_duplicate_reviews_create_one_and_409_the_rest(committing_client: AsyncClient) -> None:
    client = committing_client
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])

    responses = await asyncio.gather(*(review(client, owner, job["id"], worker.id, 4) for _ in range(5)))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    assert all(r.json()["status"] == 409 for r in responses if r.status_code == 409)
    summary = await profile(client, worker.id)
    assert summary["rating_count"] == 1 and summary["rating_avg"] == 4.0


@pytest.mark.parametrize(
    "payload",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": 4.5},
        {"rating": "5"},
        {"rating": None},
        {"rating": True},
        {"rating": 5, "comment": "x" * 2001},
        {"rating": 5, "stars": 5},
    ],
    ids=[
        "rating-0",
        "rating-6",
        "rating-4.5",
        "rating-string",
        "rating-null",
        "rating-bool",
        "comment-too-long",
        "unknown-field",
    ],
)
async def test_invalid_reviews_are_422(client: AsyncClient, db: AsyncSession, payload: dict[str, Any]) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])

    response = await client.post(
        f"{API}/jobs/{job['id']}/reviews", json={"reviewee_id": worker.id, **payload}, headers=owner.headers
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 422 and response.json()["errors"]
    assert await review_count(db) == 0


async def test_a_comment_of_2000_characters_is_accepted(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])
    response = await review(client, owner, job["id"], worker.id, 1, comment="y" * 2000)
    assert response.status_code == 201 and len(response.json()["comment"]) == 2000


async def test_ratings_update_the_reviewees_average_and_count(client: AsyncClient) -> None:
    owner, other_owner = await register(client, "client"), await register(client, "client")
    worker = await register(client, "worker")
    first = await completed_job(client, owner, [worker])
    second = await completed_job(client, other_owner, [worker])
    assert (await profile(client, worker.id))["rating_count"] == 0

    await reviewed(client, owner, first["id"], worker.id, 5)
    await reviewed(client, other_owner, second["id"], worker.id, 2)

    summary = await profile(client, worker.id)
    assert summary["rating_avg"] == 3.5 and summary["rating_count"] == 2
    page = (await client.get(f"{API}/users/{worker.id}/reviews")).json()
    assert page["rating_avg"] == 3.5 and page["rating_count"] == 2
    assert (await profile(client, owner.id))["rating_count"] == 0  # the reviewer's own rating is untouched


# Listing received and given reviews


async def three_reviews_of(client: AsyncClient, worker: Actor) -> list[tuple[int, Actor, dict[str, Any]]]:
    """Three clients each complete a job with `worker` and review them: (review id, reviewer, job)."""
    made = []
    for rating in (5, 4, 3):
        owner = await register(client, "client")
        job = await completed_job(client, owner, [worker])
        made.append((await reviewed(client, owner, job["id"], worker.id, rating), owner, job))
    return made


async def test_received_reviews_are_newest_first_with_reviewer_and_job(client: AsyncClient, db: AsyncSession) -> None:
    worker = await register(client, "worker")
    made = await three_reviews_of(client, worker)
    now = datetime.now(UTC)
    # the first review is the newest, the last the oldest: the opposite of the id order
    for age, (review_id, _, _) in enumerate(made):
        await backdate(db, review_id, now - timedelta(hours=age + 1))

    response = await client.get(f"{API}/users/{worker.id}/reviews")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [r["id"] for r in items] == [review_id for review_id, _, _ in made]
    for item, (_, owner, job) in zip(items, made, strict=True):
        assert item["reviewer"] == {"id": owner.id, "full_name": item["reviewer"]["full_name"]}
        assert item["reviewer"]["full_name"].startswith("Test User")
        assert item["job"] == {"id": job["id"], "title": job["title"]}
        assert item["reviewee"]["id"] == worker.id
    assert response.json()["rating_avg"] == 4.0 and response.json()["rating_count"] == 3


async def test_recent_reviews_are_those_of_the_last_seven_days(client: AsyncClient, db: AsyncSession) -> None:
    worker = await register(client, "worker")
    (fresh, _, _), (six_days, _, _), (old, _, _) = await three_reviews_of(client, worker)
    now = datetime.now(UTC)
    await backdate(db, six_days, now - timedelta(days=6))
    await backdate(db, old, now - timedelta(days=8))

    recent = await client.get(f"{API}/users/{worker.id}/reviews", params={"filter": "recent"})
    everything = await client.get(f"{API}/users/{worker.id}/reviews", params={"filter": "all"})

    assert recent.status_code == 200
    assert [r["id"] for r in recent.json()["items"]] == [fresh, six_days]
    assert [r["id"] for r in everything.json()["items"]] == [fresh, six_days, old]
    bad = await client.get(f"{API}/users/{worker.id}/reviews", params={"filter": "bogus"})
    assert bad.status_code == 422


async def test_unread_reviews_are_listed_only_to_the_user_themself(client: AsyncClient) -> None:
    worker, other = await register(client, "worker"), await register(client, "client")
    made = await three_reviews_of(client, worker)
    read_id = made[1][0]
    assert (await client.post(f"{API}/reviews/{read_id}/read", headers=worker.headers)).status_code == 200
    url = f"{API}/users/{worker.id}/reviews"

    own = await client.get(url, params={"filter": "unread"}, headers=worker.headers)

    assert own.status_code == 200
    assert sorted(r["id"] for r in own.json()["items"]) == sorted(r for r, _, _ in made if r != read_id)
    assert all(r["read_at"] is None for r in own.json()["items"])
    for headers, status in ((other.headers, 403), (made[0][1].headers, 403), ({}, 401)):
        response = await client.get(url, params={"filter": "unread"}, headers=headers)
        assert response.status_code == status and response.json()["status"] == status
    assert (await client.get(url, headers=other.headers)).status_code == 200  # 'all' is public


async def test_received_reviews_paginate_with_a_cursor(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    made = await three_reviews_of(client, worker)
    ids = [review_id for review_id, _, _ in made]
    url = f"{API}/users/{worker.id}/reviews"

    seen: list[int] = []
    cursor = None
    for _ in range(len(ids)):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params)).json()
        assert len(page["items"]) == 1 and page["rating_count"] == 3
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None
    assert seen == sorted(ids, reverse=True)  # same created_at in one transaction: newest id first
    assert (await client.get(url, params={"cursor": "not-a-cursor"})).status_code == 422


async def test_review_lists_take_the_same_number_of_queries_however_many_items(
    client: AsyncClient, statements: StatementCounter
) -> None:
    one, three = await register(client, "worker"), await register(client, "worker")
    owner = await register(client, "client")
    await reviewed(client, owner, (await completed_job(client, owner, [one]))["id"], one.id)
    await three_reviews_of(client, three)

    counts = []
    for url in (f"{API}/users/{one.id}/reviews", f"{API}/users/{three.id}/reviews"):
        statements.statements.clear()
        statements.enabled = True
        response = await client.get(url)
        statements.enabled = False
        assert response.status_code == 200
        counts.append(statements.count())
    assert counts[0] == counts[1]


async def test_reviews_of_a_missing_user_are_404(client: AsyncClient) -> None:
    assert (await client.get(f"{API}/users/999999/reviews")).status_code == 404
    assert (await client.get(f"{API}/users/999999/reviews/given")).status_code == 404


async def test_given_reviews_list_what_the_user_wrote_with_the_reviewee(client: AsyncClient, db: AsyncSession) -> None:
    owner, first, second = await register(client, "client"), await register(client), await register(client)
    job = await completed_job(client, owner, [first, second])
    to_first = await reviewed(client, owner, job["id"], first.id, 5)
    to_second = await reviewed(client, owner, job["id"], second.id, 2)
    await reviewed(client, first, job["id"], owner.id, 4)  # received by the owner: not in their given list
    await backdate(db, to_second, datetime.now(UTC) - timedelta(days=1))

    response = await client.get(f"{API}/users/{owner.id}/reviews/given")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [r["id"] for r in items] == [to_first, to_second]
    assert [r["reviewee"]["id"] for r in items] == [first.id, second.id]
    assert all(r["reviewee"]["full_name"].startswith("Test User") for r in items)
    assert all(r["reviewer"]["id"] == owner.id and r["job"]["id"] == job["id"] for r in items)
    worker_given = (await client.get(f"{API}/users/{first.id}/reviews/given")).json()["items"]
    assert [(r["reviewee"]["id"], r["rating"]) for r in worker_given] == [(owner.id, 4)]


# Read marks


async def test_the_reviewee_marks_a_review_read(client: AsyncClient) -> None:
    owner, worker = await register(client, "client"), await register(client, "worker")
    job = await completed_job(client, owner, [worker])
    review_id = await reviewed(client, owner, job["id"], worker.id)

    response = await client.post(f"{API}/reviews/{review_id}/read", headers=worker.headers)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == review_id and response.json()["read_at"] is not None
    unread = await client.get(f"{API}/users/{worker.id}/reviews?filter=unread", headers=worker.headers)
    assert unread.json()["items"] == []
    everything = (await client.get(f"{API}/users/{worker.id}/reviews")).json()["items"]
    assert [r["id"] for r in everything] == [review_id] and everything[0]["read_at"] is not None


async def test_only_the_reviewee_may_mark_a_review_read(client: AsyncClient, db: AsyncSession) -> None:
    owner, worker, stranger = await register(client, "client"), await register(client), await register(client)
    job = await completed_job(client, owner, [worker])
    review_id = await reviewed(client, owner, job["id"], worker.id)

    for actor in (owner, stranger):
        response = await client.post(f"{API}/reviews/{review_id}/read", headers=actor.headers)
        assert response.status_code == 403 and response.json()["status"] == 403
    assert (await client.post(f"{API}/reviews/{review_id}/read")).status_code == 401
    assert await db.scalar(select(Review.read_at).where(Review.id == review_id)) is None


async def test_marking_a_missing_review_read_is_404(client: AsyncClient) -> None:
    worker = await register(client, "worker")
    response = await client.post(f"{API}/reviews/999999/read", headers=worker.headers)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM_JSON
