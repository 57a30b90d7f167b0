"""docs/openapi.json is the document the API serves, generated from the models (make openapi)."""

from __future__ import annotations

import json

from enrollment.core.resources import ROOT


def test_committed_openapi_is_current() -> None:
    from functions.openapi import document

    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == document(), "docs/openapi.json is stale: run `make openapi`"


def test_every_operation_documents_its_refusals_in_one_shape() -> None:
    from functions.openapi import document

    doc = document()
    staff = [p for p in doc["paths"] if p.startswith("/admin/")]
    assert "/api/registrations" in doc["paths"] and len(staff) >= 20  # parents' and staff routes
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "409", "413", "415", "422", "429"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Refusal"}, (method, path, status)
            assert any(s.startswith("2") for s in responses), (method, path)
    refusal = doc["components"]["schemas"]["Refusal"]
    assert refusal["required"] == ["message", "errors"]


def test_openapi_describes_the_registration_body_and_its_rules() -> None:
    from functions.register.handler import openapi_json

    doc = json.loads(openapi_json())
    body = doc["paths"]["/api/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False  # R-DATA-1: unknown fields are refused
    assert {"season", "grade", "category", "child", "guardians", "home_address", "residence"} <= set(
        schema["required"]
    )
