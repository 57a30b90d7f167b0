"""docs/openapi.json is the document the API serves, generated from the models (make openapi)."""

from __future__ import annotations

import json

from enrollment.core.resources import ROOT


def test_committed_openapi_is_current() -> None:
    from functions.register.handler import openapi_json

    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(openapi_json()), "docs/openapi.json is stale: run `make openapi`"


def test_openapi_describes_the_registration_body_and_its_rules() -> None:
    from functions.register.handler import openapi_json

    doc = json.loads(openapi_json())
    body = doc["paths"]["/api/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False  # R-DATA-1: unknown fields are refused
    assert {"season", "grade", "category", "child", "guardians", "home_address", "residence"} <= set(
        schema["required"]
    )
