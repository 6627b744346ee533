"""`marketplace` command line: serve | worker | migrate | seed | create-admin."""

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from app.cache import Metrics, build_cache, namespace_of, tags
from app.db import create_engine, create_sessionmaker, database_identity, database_url
from app.errors import Conflict
from app.schemas.auth import AdminCreate
from app.services.auth import AuthService
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
SHUTDOWN_GRACE_SECONDS = 10.0


def migrate(url: str, *, alembic_logging: bool = True) -> None:
    """`alembic upgrade head` against `url` (the only way the schema is built).

    `alembic_logging=False` keeps alembic.ini's handlers off the root logger: `serve` logs through the app's
    one handler (app/observability.py), and with alembic's too every request line was written twice.
    """
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = alembic_logging
    command.upgrade(config, "head")


def _resolve(settings: Settings) -> str:
    url = database_url(settings)
    # Child processes (uvicorn workers) must use the same database without starting their own server.
    os.environ["APP_DATABASE_URL"] = url
    return url


async def _seed(url: str, settings: Settings, args: argparse.Namespace) -> None:
    from app.seed import SeedPlan, seed

    engine = create_engine(url, settings)
    try:
        await seed(create_sessionmaker(engine), settings, SeedPlan.from_args(args))
        namespace = settings.cache_namespace or namespace_of(await database_identity(engine))
    finally:
        await engine.dispose()
    # Rows written behind the API's back: drop every cached response (a shared Redis would keep them).
    cache = build_cache(settings.model_copy(update={"cache_namespace": namespace}), Metrics())
    await cache.invalidate("seed", {tags.ALL})
    await cache.close()


def admin_from_args(args: argparse.Namespace) -> AdminCreate:
    """The create-admin arguments, checked by the rules of a registration (or exit with what is wrong)."""
    try:
        return AdminCreate(email=args.email, password=args.password, full_name=args.full_name)
    except ValidationError as exc:
        sys.exit("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


async def create_admin(url: str, settings: Settings, data: AdminCreate) -> None:
    """Store an admin account through the registration code path (hashing, lower-cased email, duplicates)."""
    engine = create_engine(url, settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            admin = await AuthService(session, settings).create_admin(data)
    except Conflict as exc:
        sys.exit(exc.detail)
    finally:
        await engine.dispose()
    print(f"admin {admin.email} created")


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    """End the process as `sys.exit` does, so atexit handlers run (they stop the embedded PostgreSQL).

    Uvicorn drains on SIGTERM/SIGINT, restores this handler and raises the signal again once it is done.
    """
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_on_signal)
    parser = argparse.ArgumentParser(prog="marketplace", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, seed demo data if the database is empty, and serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-demo", action="store_true", help="do not seed demo data into an empty database")
    serve.add_argument("--access-log", action="store_true")
    serve.add_argument("--no-worker", action="store_true", help="do not run a task worker beside the API")

    worker_cmd = sub.add_parser("worker", help="run a task worker (background jobs and the scheduler) until SIGTERM")
    worker_cmd.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this process")
    serve.add_argument(
        "--shutdown-timeout",
        type=float,
        default=SHUTDOWN_GRACE_SECONDS,
        help="seconds a SIGTERM waits for requests in flight before it closes their connections (notification"
        " streams last until their token expires: they are cut then, and the clients reconnect and replay)",
    )

    sub.add_parser("migrate", help="apply all migrations (alembic upgrade head)")

    seed_cmd = sub.add_parser("seed", help="generate demo data (any amount; bulk COPY)")
    from app.seed import add_seed_arguments

    add_seed_arguments(seed_cmd)

    admin = sub.add_parser("create-admin", help="create an admin account (the only way to get one)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--full-name", default="Administrator")

    args = parser.parse_args(argv)
    settings = get_settings()
    url = _resolve(settings)

    if args.command == "migrate":
        migrate(url)
    elif args.command == "worker":
        from app.tasks import queue, work

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        work(queue, settings, concurrency=args.concurrency)
    elif args.command == "seed":
        migrate(url)
        asyncio.run(_seed(url, settings, args))
    elif args.command == "create-admin":
        asyncio.run(create_admin(url, settings, admin_from_args(args)))
    elif args.command == "serve":
        import uvicorn

        migrate(url, alembic_logging=False)
        if args.workers > 1 and settings.cache_enabled and not settings.redis_url:
            # In-process caches cannot see each other's invalidations: without Redis, run uncached.
            print("several workers and no APP_REDIS_URL: the response cache is disabled", file=sys.stderr)
            os.environ["APP_CACHE_ENABLED"] = "false"
        if not args.no_demo:
            from app.seed import seed_demo_if_empty

            engine = create_engine(url, settings)
            asyncio.run(seed_demo_if_empty(engine, settings))
        worker_process = None if args.no_worker else _start_worker()
        try:
            uvicorn.run(
                "app.main:create_app",
                factory=True,
                host=args.host,
                port=args.port,
                workers=args.workers,
                access_log=args.access_log,
                timeout_graceful_shutdown=args.shutdown_timeout,
                loop="uvloop",
                http="httptools",
                server_header=False,  # no `server: uvicorn` banner
                log_config=None,  # uvicorn's records go to the app's handler (APP_LOG_FORMAT, request ids)
            )
        finally:
            if worker_process is not None:
                _stop_worker(worker_process)


def _start_worker() -> subprocess.Popen[bytes]:
    """`marketplace worker` as a child of `serve`, in its own process group, on the database `_resolve` chose.

    Its own group: a Ctrl+C in the terminal reaches only `serve`, which then stops the worker with one
    SIGTERM (a second signal would cancel the worker's running jobs).
    """
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], process_group=0)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


if __name__ == "__main__":
    main()
