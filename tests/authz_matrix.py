"""The authorization matrix: every route x every actor, with the exact status each gets.

One row per route (a route may have more rows, for a query that changes who may call it). Read by
tests/test_authz_matrix.py, which fails when a route of the app has no row, and printed in docs/security.md
(`python -m tests.authz_matrix` prints the table; a test checks that the doc's table is this one).

Adding a route: add one `Row` below, with its method, path (the route's template, optionally with a query),
the body it sends (from the `World`'s ids), the six statuses in ACTORS order, and `ids` when its path names an
object other than `url`'s defaults (a shift or timesheet in the state the route acts on).

The world every request meets (built afresh for each request by the test):
- `job`: the owner's job, funded, the hired worker hired on its one opening (so it is in progress);
- `application`: the hired worker's (accepted) application to `job`;
- `done_job`: another job of the owner, completed with the hired worker; the owner reviewed the worker
  (`review`), and its escrow paid the worker out (`payment`: payer the owner, payee the hired worker);
- `shift_job`: another funded job of the owner with six shifts (in Berlin), the hired worker hired on its one
  opening; the hired worker's timesheets of its shifts, one in each state a route acts on: `shift_to_check_in`
  (scheduled, started 10 minutes ago), `shift_checked_in` (checked in), `timesheet_checked_out`,
  `timesheet_submitted`, `timesheet_due_no_show` (scheduled, started two hours ago, nobody came) and one
  disputed by the owner (`dispute`, open);
- `user_id` in a path is the owner; `job_id` is `job` unless a row's `ids` name other objects.
The owner, the other client and the admin are clients/an admin; the hired and the other worker are workers.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.shiftwork import AT_BERLIN

ACTORS = ("anonymous", "owner", "other_client", "hired_worker", "other_worker", "admin")


@dataclass(frozen=True)
class World:
    owner: int
    hired_worker: int
    job: int
    done_job: int
    application: int
    payment: int
    review: int
    shift_job: int
    shift_to_check_in: int
    shift_checked_in: int
    timesheet_checked_out: int
    timesheet_submitted: int
    timesheet_due_no_show: int
    dispute: int
    notification: int  # the owner's newest (a worker applied to the owner's job)
    owner_email: str
    owner_password: str
    nonce: str


Body = Callable[[World], Any]
Ids = Callable[[World], dict[str, int]]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    # anonymous, owner, other_client, hired_worker, other_worker, admin
    expect: tuple[int, int, int, int, int, int]
    json: Body | None = None
    form: Body | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A stream that stays open (server-sent events): only the status of its first answer is read.
    stream: bool = False
    # the objects the path names, over the defaults of `url` (a shift or timesheet in the state the route needs)
    ids: Ids | None = None

    @property
    def route(self) -> tuple[str, str]:
        """The route it exercises: (method, path template without the query)."""
        return self.method, self.path.split("?")[0]

    def url(self, world: World) -> str:
        ids = {
            "job_id": world.job,
            "application_id": world.application,
            "payment_id": world.payment,
            "review_id": world.review,
            "dispute_id": world.dispute,
            "notification_id": world.notification,
            "user_id": world.owner,
        }
        return self.path.format(**{**ids, **(self.ids(world) if self.ids else {})})


API = "/api/v1"
ALL_200 = (200, 200, 200, 200, 200, 200)
SIGNED_IN_200 = (401, 200, 200, 200, 200, 200)


def _new_account(w: World) -> dict[str, Any]:
    return {
        "email": f"new-{w.nonce}@test.example",
        "password": "a-fresh-password",
        "full_name": "New",
        "role": "client",
    }


def _job(w: World) -> dict[str, Any]:
    return {"title": "Paint the fence", "category": "handyman", "pay_type": "fixed", "pay_rate_minor": 5000}


WORKER_ONLY_200 = (401, 403, 403, 200, 403, 403)
OWNER_ONLY = (401, 200, 403, 403, 403, 403)


ROWS: list[Row] = [
    Row("GET", "/health", ALL_200),
    Row("GET", "/health/ready", ALL_200),
    Row("GET", "/metrics", ALL_200),  # loopback clients (the test's); a token when APP_METRICS_TOKEN is set
    Row("GET", "/docs", ALL_200),
    Row("GET", "/docs/oauth2-redirect", ALL_200),
    Row("GET", "/redoc", ALL_200),
    # auth: the token a caller sends plays no part
    Row("POST", f"{API}/auth/register", (201, 201, 201, 201, 201, 201), json=_new_account),
    Row(
        "POST",
        f"{API}/auth/token",
        ALL_200,
        form=lambda w: {"username": w.owner_email, "password": w.owner_password},
    ),
    Row("POST", f"{API}/auth/refresh", (401, 401, 401, 401, 401, 401), json=lambda w: {"refresh_token": "unknown"}),
    Row("POST", f"{API}/auth/logout", (204, 204, 204, 204, 204, 204), json=lambda w: {"refresh_token": "unknown"}),
    # browser sessions: the refresh cookie, not the bearer token, decides (the test sends none)
    Row(
        "POST",
        f"{API}/auth/session",
        ALL_200,
        json=lambda w: {"email": w.owner_email, "password": w.owner_password},
    ),
    Row("POST", f"{API}/auth/session/refresh", (401, 401, 401, 401, 401, 401), json=lambda w: {}),
    Row("POST", f"{API}/auth/session/logout", (204, 204, 204, 204, 204, 204), json=lambda w: {}),
    # users
    Row("GET", f"{API}/users/me", SIGNED_IN_200),
    Row("PATCH", f"{API}/users/me", SIGNED_IN_200, json=lambda w: {"headline": "Reliable"}),
    Row("GET", f"{API}/users/me/applications", (401, 403, 403, 200, 200, 403)),
    Row("GET", f"{API}/users/{{user_id}}", ALL_200),
    Row("GET", f"{API}/users/{{user_id}}/reviews", ALL_200),
    Row("GET", f"{API}/users/{{user_id}}/reviews?filter=unread", (401, 200, 403, 403, 403, 403)),
    Row("GET", f"{API}/users/{{user_id}}/reviews/given", ALL_200),
    Row("GET", f"{API}/users/{{user_id}}/jobs", ALL_200),
    Row("GET", f"{API}/users/{{user_id}}/payments", (401, 200, 403, 403, 403, 200)),
    # catalog
    Row("GET", f"{API}/categories", ALL_200),
    Row("GET", f"{API}/skills", ALL_200),
    # jobs
    Row("GET", f"{API}/jobs", ALL_200),
    Row("POST", f"{API}/jobs", (401, 201, 201, 403, 403, 403), json=_job),
    Row("GET", f"{API}/jobs/{{job_id}}", ALL_200),
    Row("PATCH", f"{API}/jobs/{{job_id}}", (401, 409, 403, 403, 403, 403), json=lambda w: {"title": "A new title"}),
    Row("POST", f"{API}/jobs/{{job_id}}/cancel", (401, 200, 403, 403, 403, 403)),
    Row("POST", f"{API}/jobs/{{job_id}}/complete", (401, 200, 403, 403, 403, 403)),
    # applications
    Row("POST", f"{API}/jobs/{{job_id}}/applications", (401, 403, 403, 409, 409, 403), json=lambda w: {}),
    Row("GET", f"{API}/jobs/{{job_id}}/applications", (401, 200, 403, 403, 403, 200)),
    Row("GET", f"{API}/jobs/{{job_id}}/best-applicants", (401, 200, 403, 403, 403, 200)),
    Row("GET", f"{API}/applications/{{application_id}}", (401, 200, 404, 200, 404, 200)),
    Row("POST", f"{API}/applications/{{application_id}}/withdraw", (401, 403, 403, 409, 404, 403)),
    Row("POST", f"{API}/applications/{{application_id}}/cancel", (401, 403, 403, 200, 404, 403)),
    Row("POST", f"{API}/applications/{{application_id}}/accept", (401, 409, 404, 403, 403, 403)),
    Row("POST", f"{API}/applications/{{application_id}}/reject", (401, 409, 404, 403, 403, 403)),
    # payments
    Row(
        "POST",
        f"{API}/jobs/{{job_id}}/payments",
        (401, 409, 403, 403, 403, 403),
        json=lambda w: {"amount_minor": 1},
        headers={"Idempotency-Key": "authz-matrix"},
    ),
    Row("GET", f"{API}/payments/{{payment_id}}", (401, 200, 404, 200, 404, 200)),
    # reviews
    Row(
        "POST",
        f"{API}/jobs/{{job_id}}/reviews",
        (401, 409, 403, 409, 403, 403),
        json=lambda w: {"reviewee_id": w.owner, "rating": 5},
    ),
    Row("POST", f"{API}/reviews/{{review_id}}/read", (401, 403, 403, 200, 403, 403)),
    # shifts and timesheets: a public job's, so a wrong person is 403 (a missing one 404)
    Row(
        "POST",
        f"{API}/shifts/{{shift_id}}/check-in",
        WORKER_ONLY_200,
        json=lambda w: AT_BERLIN,
        ids=lambda w: {"shift_id": w.shift_to_check_in},
    ),
    Row(
        "POST",
        f"{API}/shifts/{{shift_id}}/check-out",
        WORKER_ONLY_200,
        json=lambda w: AT_BERLIN,
        ids=lambda w: {"shift_id": w.shift_checked_in},
    ),
    Row(
        "GET",
        f"{API}/jobs/{{job_id}}/timesheets",
        (401, 200, 403, 200, 403, 200),
        ids=lambda w: {"job_id": w.shift_job},
    ),
    Row(
        "POST",
        f"{API}/timesheets/{{timesheet_id}}/submit",
        WORKER_ONLY_200,
        json=lambda w: {"minutes": 60},
        ids=lambda w: {"timesheet_id": w.timesheet_checked_out},
    ),
    Row(
        "POST",
        f"{API}/timesheets/{{timesheet_id}}/approve",
        OWNER_ONLY,
        ids=lambda w: {"timesheet_id": w.timesheet_submitted},
    ),
    Row(
        "POST",
        f"{API}/timesheets/{{timesheet_id}}/dispute",
        (401, 201, 403, 403, 403, 403),
        json=lambda w: {"proposed_minutes": 30, "reason": "Left early."},
        ids=lambda w: {"timesheet_id": w.timesheet_submitted},
    ),
    Row(
        "POST",
        f"{API}/timesheets/{{timesheet_id}}/no-show",
        OWNER_ONLY,
        ids=lambda w: {"timesheet_id": w.timesheet_due_no_show},
    ),
    # disputes: private like payments (the job's owner, the worker concerned, admins)
    Row(
        "POST",
        f"{API}/jobs/{{job_id}}/disputes",
        (401, 201, 403, 403, 403, 403),
        json=lambda w: {"worker_id": w.hired_worker, "reason": "The fence is half painted."},
    ),
    Row("GET", f"{API}/disputes?status=open", (401, 403, 403, 403, 403, 200)),
    Row("GET", f"{API}/disputes/{{dispute_id}}", (401, 200, 404, 200, 404, 200)),
    Row(
        "POST",
        f"{API}/disputes/{{dispute_id}}/resolve",
        (401, 403, 403, 403, 403, 200),
        json=lambda w: {"minutes": 45},
    ),
    # notifications: each user's own (404 for anyone else's)
    Row("GET", f"{API}/notifications", SIGNED_IN_200),
    Row("GET", f"{API}/notifications/unread-count", SIGNED_IN_200),
    Row("GET", f"{API}/notifications/stream", SIGNED_IN_200, stream=True),
    Row("POST", f"{API}/notifications/read-all", (401, 204, 204, 204, 204, 204)),
    Row("POST", f"{API}/notifications/{{notification_id}}/read", (401, 200, 404, 404, 404, 404)),
    Row("GET", f"{API}/users/me/notification-settings", SIGNED_IN_200),
    Row(
        "PATCH",
        f"{API}/users/me/notification-settings",
        SIGNED_IN_200,
        json=lambda w: {"job_funded": {"email": True}},
    ),
    # messages: the thread of an application, between the job's owner and its worker (admins read)
    Row("GET", f"{API}/applications/{{application_id}}/messages", (401, 200, 404, 200, 404, 200)),
    Row(
        "POST",
        f"{API}/applications/{{application_id}}/messages",
        (401, 201, 404, 201, 404, 403),
        json=lambda w: {"body": "Where do I park?"},
    ),
    # account e-mails: anyone; a token decides, not the caller (the test's tokens are unknown: 400)
    Row("POST", f"{API}/auth/password-reset", (202, 202, 202, 202, 202, 202), json=lambda w: {"email": w.owner_email}),
    Row(
        "POST",
        f"{API}/auth/password-reset/confirm",
        (400, 400, 400, 400, 400, 400),
        json=lambda w: {"token": "unknown", "password": "a-fresh-password"},
    ),
    Row("POST", f"{API}/auth/verify-email", (400, 400, 400, 400, 400, 400), json=lambda w: {"token": "unknown"}),
]


def markdown() -> str:
    """The matrix as the table printed in docs/security.md."""
    lines = [
        "| route | " + " | ".join(a.replace("_", " ") for a in ACTORS) + " |",
        "|---|" + "---|" * len(ACTORS),
    ]
    lines += [f"| `{row.method} {row.path}` | " + " | ".join(map(str, row.expect)) + " |" for row in ROWS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
