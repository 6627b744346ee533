"""The layer rules of docs/architecture.md, read from the imports (import-linter contracts in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_holds() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_a_broken_rule_is_reported(tmp_path: Path) -> None:
    """The check can fail: a contract that the code breaks (routers import the cache) is reported."""
    config = tmp_path / "contract.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "app"\n\n[[tool.importlinter.contracts]]\nname = "x"\n'
        'type = "forbidden"\nsource_modules = ["app.routers"]\nforbidden_modules = ["app.cache"]\n'
    )
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), str(config)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "app.routers is not allowed to import app.cache" in result.stdout


def test_uvicorn_app_main_app_is_an_application() -> None:
    """`uvicorn app.main:app`, the command FastAPI users type first, finds an application."""
    import app.main

    assert isinstance(app.main.app, FastAPI)
