"""The OpenAPI contract: one named schema per enum, and schema names that do not collide with models."""

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import pytest

from app.main import create_app
from app.models import Base
from app.models import enums as enum_module


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app().openapi()


def _inline_enums(node: Any, path: str) -> Iterator[str]:
    """Paths of `enum` lists outside components/schemas/<Name> (an enum written where it is used)."""
    if isinstance(node, dict):
        if "enum" in node and not (path.startswith("/components/schemas/") and path.count("/") == 3):
            yield path
        for key, value in node.items():
            yield from _inline_enums(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _inline_enums(value, f"{path}/{index}")


def test_no_enum_is_written_inline(openapi: dict[str, Any]) -> None:
    assert list(_inline_enums(openapi, "")) == []


def test_each_enum_component_is_a_strenum_of_the_models(openapi: dict[str, Any]) -> None:
    declared = {
        name: [str(member) for member in value]
        for name, value in vars(enum_module).items()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
    }
    components = {name: schema["enum"] for name, schema in openapi["components"]["schemas"].items() if "enum" in schema}
    assert components  # the API does use enums
    assert {name: declared.get(name) for name in components} == components


def test_enum_fields_reference_the_named_schema(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert schemas["JobRead"]["properties"]["pay_type"] == {"$ref": "#/components/schemas/PayType"}
    assert schemas["JobCreate"]["properties"]["pay_type"] == {"$ref": "#/components/schemas/PayType"}
    assert schemas["UserCreate"]["properties"]["role"] == {"$ref": "#/components/schemas/SignupRole"}
    assert schemas["SignupRole"]["enum"] == ["client", "worker"]


def test_schema_names_do_not_collide_with_models(openapi: dict[str, Any]) -> None:
    models = {mapper.class_.__name__ for mapper in Base.registry.mappers}
    assert "Account" in models
    assert models & set(openapi["components"]["schemas"]) == set()
