"""`marketplace create-admin`: an admin account made through the registration code path."""

import argparse

import pytest
from httpx import AsyncClient

from app.cli import admin_from_args, create_admin
from app.schemas.auth import AdminCreate
from app.security import decode_access_token
from app.settings import Settings
from tests.factories import API, PASSWORD, login, register


def admin_args(
    email: str = "boss@test.example", password: str = PASSWORD, full_name: str = "Boss"
) -> argparse.Namespace:
    return argparse.Namespace(email=email, password=password, full_name=full_name)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (admin_args(password="short"), "password"),
        (admin_args(password="x" * 129), "password"),
        (admin_args(email="not-an-email"), "email"),
        (admin_args(full_name=""), "full_name"),
    ],
)
def test_create_admin_refuses_what_a_registration_refuses(args: argparse.Namespace, field: str) -> None:
    with pytest.raises(SystemExit) as exited:
        admin_from_args(args)
    assert str(exited.value.code).startswith(f"{field}:")


@pytest.mark.committing
async def test_create_admin_stores_a_lower_cased_admin_who_can_log_in(
    settings: Settings, committing_client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await create_admin(settings.database_url, settings, admin_from_args(admin_args(email="Boss@Test.Example")))
    assert capsys.readouterr().out == "admin boss@test.example created\n"

    tokens = await login(committing_client, "boss@test.example")
    assert decode_access_token(tokens["access_token"], settings).role == "admin"
    me = await committing_client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["role"] == "admin"


@pytest.mark.committing
async def test_create_admin_refuses_an_email_that_is_taken(settings: Settings, committing_client: AsyncClient) -> None:
    worker = await register(committing_client, "worker")
    with pytest.raises(SystemExit) as exited:
        await create_admin(
            settings.database_url,
            settings,
            AdminCreate(email=worker.email.upper(), password=PASSWORD, full_name="Boss"),
        )
    assert exited.value.code == "An account with this email already exists."
