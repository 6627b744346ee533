"""Schemathesis against the app's own OpenAPI: every check, every phase (examples, coverage, fuzzing, stateful
links), positive and negative data, once per actor (anonymous, client, worker, admin).

A real uvicorn server on a scratch database (its own migrated database, real commits), rate limits off.
The run is the `schemathesis run` command, so a failure prints its reproducing `curl` line.

CI runs `SCHEMATHESIS_MAX_EXAMPLES` (default 15) examples per operation with a fixed seed; run it deeper
locally, e.g. `SCHEMATHESIS_MAX_EXAMPLES=200 SCHEMATHESIS_SEED=random scripts/test tests/test_schemathesis.py`.
Findings that are accepted, each with its reason, are in tests/schemathesis-baseline.json; any other
failure fails the test.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import _server_url, scratch_database

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "schemathesis-baseline.json"
SECRET = "test-secret-key-0123456789abcdef0123456789"
PASSWORDS = {"client": "Client-pass-4711!", "worker": "Worker-pass-4711!", "admin": "Admin-pass-4711!"}
ACTORS = ["anonymous", "client", "worker", "admin"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_DATABASE_URL": database_url,
        "APP_ENVIRONMENT": "test",
        "APP_SECRET_KEY": SECRET,
        "APP_RATE_LIMIT_ENABLED": "false",
        "APP_ARGON2_MEMORY_KIB": "1024",
        "APP_REDIS_URL": "",
        "APP_LOG_FORMAT": "text",
        "APP_DB_POOL_SIZE": "3",  # the machine's PostgreSQL is shared by the whole suite
    }


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, str]]]:
    """The server's base URL and an access token per signed-in actor."""
    with scratch_database(_server_url(), "marketplace_schemathesis") as url:
        env = _env(url)
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [bin_dir / "marketplace", "create-admin", "--email", "admin@example.org", "--password", PASSWORDS["admin"]],
            env=env,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        proc = subprocess.Popen(
            [bin_dir / "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            tokens = {}
            for role, password in PASSWORDS.items():
                email = f"{role}@example.org"
                if role != "admin":
                    account = {"email": email, "password": password, "full_name": role.title(), "role": role}
                    httpx.post(f"{base}/api/v1/auth/register", json=account).raise_for_status()
                login = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
                login.raise_for_status()
                tokens[role] = login.json()["access_token"]
            yield base, tokens
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.parametrize("actor", ACTORS)
def test_schemathesis_finds_nothing_new(server: tuple[str, dict[str, str]], actor: str, tmp_path: Path) -> None:
    base, tokens = server
    seed = os.environ.get("SCHEMATHESIS_SEED", "20261201")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/openapi.json",
        "--checks=all",
        f"--max-examples={os.environ.get('SCHEMATHESIS_MAX_EXAMPLES', '15')}",
        "--workers=1",
        "--no-color",
        "--output-sanitize=false",
        f"--baseline={BASELINE}",
        # Record the failures of this run as accepted (then give each a reason in the file).
        *(["--baseline-update"] if os.environ.get("SCHEMATHESIS_BASELINE_UPDATE") else []),
        *([] if seed == "random" else [f"--seed={seed}", "--generation-deterministic"]),
        *([f"--header=Authorization: Bearer {tokens[actor]}"] if actor in tokens else []),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "operations" in run.stdout.lower() or "API Operations" in run.stdout, run.stdout  # it really ran
