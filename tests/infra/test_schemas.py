"""API Gateway's request models are the draft 4 form of the pydantic models docs/openapi.json names
(infra/schemas.py): self-contained, draft 4 keywords only, and they accept and refuse what the
pydantic models do on the cases that matter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft4Validator

from functions.openapi import document
from infra.api import PROXY_BODY_ROUTES
from infra.schemas import DRAFT4, SchemaError, draft4, request_schemas, unknown_keywords
from tests.infra.conftest import minimal_config
from tests.support import valid_body

PUBLIC_BODIES = {
    ("/api/registrations", "POST"): "RegistrationRequest",
    ("/api/registrations/{registration_id}/session", "POST"): "SessionRequest",
    ("/api/registrations/{registration_id}/decline", "POST"): "DeclineRequest",
    ("/api/registrations/{registration_id}/notice", "POST"): "NoticeRequest",
    ("/api/registrations/{registration_id}/complaints", "POST"): "ComplaintRequest",
}


@pytest.fixture(scope="module")
def models() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    return request_schemas(document())


def test_every_public_body_has_a_model_named_after_its_pydantic_model(models):
    """...but the documented exceptions' (PROXY_BODY_ROUTES, infra/api.py: the recovery routes under
    `/api/{proxy+}`, the family's edit and withdrawal under the registration's ANY and `{proxy+}`,
    checked by their function alone, since methods of their own would take the stack past 500
    resources)."""
    public = {route: name for route, (name, _) in models.items() if route[0].startswith("/api/")}
    assert {r: n for r, n in public.items() if r not in PROXY_BODY_ROUTES} == PUBLIC_BODIES
    assert {r: public[r] for r in PROXY_BODY_ROUTES} == {
        ("/api/recovery/code", "POST"): "RecoveryCodeRequest",
        ("/api/recovery/session", "POST"): "RecoverySessionRequest",
        ("/api/registrations/{registration_id}", "PUT"): "RegistrationRequest",
        ("/api/registrations/{registration_id}/withdraw", "POST"): "WithdrawRequest",
    }


def test_models_are_draft4_documents_without_later_keywords(models):
    for name, schema in models.values():
        Draft4Validator.check_schema(schema)  # a valid draft 4 schema
        assert schema["$schema"] == DRAFT4 and schema["title"] == name
        text = json.dumps(schema)
        for later in ('"$ref"', '"$defs"', '"const"', '"prefixItems"', '"examples"', '"format": "date"'):
            assert later not in text, (name, later)
        assert unknown_keywords(schema) == set(), name


def test_the_registration_model_accepts_a_valid_registration_and_refuses_bad_ones(models):
    _, schema = models[("/api/registrations", "POST")]
    validator = Draft4Validator(schema)
    body = valid_body(minimal_config())
    assert list(validator.iter_errors(body)) == []
    # the nested models were inlined: a guardian's phone, an unknown field, a missing child
    bad_phone = json.loads(json.dumps(body))
    bad_phone["guardians"][0]["phone"] = "12345"
    unknown = {**body, "income": 9000}
    no_child = {k: v for k, v in body.items() if k != "child"}
    wrong_grade = {**body, "grade": 3}
    house_zero = json.loads(json.dumps(body))
    house_zero["home_address"]["number"] = 0
    for bad in (bad_phone, unknown, no_child, wrong_grade, house_zero):
        assert not validator.is_valid(bad), bad
    # a property owned by the child itself: `const` became `enum`
    self_owned = json.loads(json.dumps(body))
    self_owned["residence"]["property"]["owner"] = "本人"
    assert validator.is_valid(self_owned)
    self_owned["residence"]["property"]["owner"] = "邻居"
    assert not validator.is_valid(self_owned)


def test_the_session_model_takes_a_six_digit_code_only(models):
    validator = Draft4Validator(models[("/api/registrations/{registration_id}/session", "POST")][1])
    assert validator.is_valid({"code": "123456"})
    for bad in ({"code": "12345"}, {}, {"code": "123456", "extra": 1}, ["123456"]):
        assert not validator.is_valid(bad)


def test_converter_rewrites_what_draft4_spells_differently():
    components = {"Leaf": {"type": "string", "const": "x"}}
    schema = {
        "$defs": {"Inner": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}},
        "type": "object",
        "properties": {
            "leaf": {"$ref": "#/components/schemas/Leaf", "description": "a leaf"},
            "inner": {"$ref": "#/$defs/Inner"},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "day": {"type": "string", "format": "date", "examples": ["2031-05-13"]},
            "at": {"type": "string", "format": "date-time"},
            "nothing": {"type": "object", "properties": {}, "additionalProperties": False},
        },
    }
    out = draft4(schema, components, "Example")
    assert out["properties"]["leaf"] == {"type": "string", "enum": ["x"], "description": "a leaf"}
    assert out["properties"]["inner"] == {
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    assert out["properties"]["pair"] == {
        "type": "array",
        "items": [{"type": "string"}, {"type": "integer"}],
        "additionalItems": True,
    }
    assert out["properties"]["day"] == {"type": "string"}
    assert out["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert out["properties"]["nothing"] == {"type": "object", "additionalProperties": False}
    assert "$defs" not in out
    validator = Draft4Validator(out)
    assert validator.is_valid({"inner": 9, "pair": ["a", 1]})
    assert not validator.is_valid({"inner": 0}) and not validator.is_valid({"inner": 10})
    assert not validator.is_valid({"pair": ["a", "b"]}) and not validator.is_valid({"leaf": "y"})


def test_a_recursive_or_unknown_reference_is_refused_by_name():
    tree = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Tree"}}}
    with pytest.raises(SchemaError, match=r"Tree.*refers to itself"):
        draft4(tree, {"Tree": tree})
    with pytest.raises(SchemaError, match="Missing"):
        draft4({"$ref": "#/components/schemas/Missing"}, {})
