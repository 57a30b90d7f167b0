"""Every request gets an answer in one shape, never a 5xx (functions/api.py): what a hostile tester
sent without signing in, each refused 4xx with `message` in Chinese and `errors` naming a field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import api_event
from enrollment.registration.form import RegistrationRequest, violations_from_errors
from functions.api import BODY_LIMIT, DEPTH_LIMIT
from tests.support import valid_body

RID = "R-AAAA-BBBB-CCCC-DDDD"
JSON = {"Content-Type": "application/json"}


def call(
    method: str, path: str, body: str | None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    from functions.register.handler import app

    event = api_event(method, path, body, headers=JSON if headers is None else headers)
    r = app.resolve(event, None)  # type: ignore[arg-type]
    return int(r["statusCode"]), json.loads(r["body"]), {**r.get("headers", {}), **r["multiValueHeaders"]}


def fields(answer: dict[str, Any]) -> list[str]:
    assert isinstance(answer["message"], str) and answer["message"], answer
    assert answer["errors"] and all({"field", "rule", "message"} <= set(e) for e in answer["errors"]), answer
    return [e["field"] for e in answer["errors"]]


@pytest.mark.parametrize("kind", [{}, [None, None], ["appeal"], 1])
def test_an_unhashable_complaint_kind_is_refused_naming_kind(kind: Any) -> None:
    body = json.dumps({"kind": kind, "text": "对审核结论有异议，我家实际居住在该地址。"})
    status, answer, _ = call("POST", f"/api/registrations/{RID}/complaints", body)
    assert status == 422 and fields(answer) == ["kind"]


@pytest.mark.parametrize("path", ["/api/registrations", f"/api/registrations/{RID}/complaints"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_json_is_refused_415(path: str, content_type: str) -> None:
    status, answer, _ = call("POST", path, "a=1", {"Content-Type": content_type})
    assert status == 415 and fields(answer) == ["Content-Type"]


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain"])
@pytest.mark.parametrize("body", ["", None])
def test_no_body_is_no_body_whatever_its_content_type(content_type: str, body: str | None) -> None:
    status, answer, _ = call("POST", "/api/registrations", body, {"Content-Type": content_type})
    assert status == 422 and fields(answer) == ["body"]


def test_json_with_a_charset_is_json() -> None:
    status, answer, _ = call(
        "POST", "/api/registrations", "[]", {"Content-Type": "application/json; charset=utf-8"}
    )
    assert status == 422 and fields(answer) == ["body"]


def test_a_body_nested_ten_thousand_levels_is_refused_before_parsing() -> None:
    status, answer, _ = call("POST", "/api/registrations", "[" * 10_000 + "]" * 10_000)
    assert status == 400 and fields(answer) == ["body"]
    deep = "[" * (DEPTH_LIMIT + 1) + "]" * (DEPTH_LIMIT + 1)
    assert call("POST", "/api/registrations", json.dumps({"a": json.loads(deep)}))[0] == 400
    # brackets inside strings are text, not nesting
    status, answer, _ = call("POST", "/api/registrations", json.dumps({"season": "[" * 100}))
    assert status == 422 and "body" not in fields(answer)


def test_an_integer_of_five_thousand_digits_is_refused() -> None:
    status, answer, _ = call("POST", "/api/registrations", '{"grade": ' + "7" * 5000 + "}")
    assert status == 400 and fields(answer) == ["body"]


def test_a_body_over_the_limit_is_refused_413() -> None:
    body = json.dumps({"season": "x" * BODY_LIMIT})
    status, answer, _ = call("POST", "/api/registrations", body)
    assert status == 413 and fields(answer) == ["body"]


@pytest.mark.parametrize("body", ['""', "null", "[]", "123", "true"])
def test_a_body_that_is_not_an_object_names_the_body(body: str) -> None:
    status, answer, _ = call("POST", "/api/registrations", body)
    assert status == 422 and fields(answer) == ["body"], answer


@pytest.mark.parametrize("body", ['{"season": ', "{'a': 1}", "{}}", "\x00"])
def test_a_json_syntax_error_names_the_body_not_an_offset(body: str) -> None:
    status, answer, _ = call("POST", "/api/registrations", body)
    assert status == 400 and fields(answer) == ["body"], answer


def test_an_unknown_route_is_404_and_a_wrong_method_405_in_the_same_shape() -> None:
    status, answer, _ = call("GET", "/api/nothing-here", None)
    assert status == 404 and fields(answer) == ["path"]
    status, answer, headers = call("PUT", "/api/season", None)
    assert status == 405 and fields(answer) == ["method"]
    assert "GET" in str(headers.get("Allow"))


def test_a_staff_router_refuses_in_the_same_shape() -> None:
    from functions.gates.handler import admin

    event = api_event("POST", "/admin/seasons/2023/phases/review/advance", "[" * 5000, headers=JSON)
    r = admin.resolve(event, None)  # type: ignore[arg-type]
    assert r["statusCode"] == 400 and fields(json.loads(r["body"])) == ["body"]
    event = api_event("POST", "/admin/seasons/2023/phases/review/advance", "{}", headers=JSON)
    r = admin.resolve(event, None)  # type: ignore[arg-type]
    assert r["statusCode"] == 422 and fields(json.loads(r["body"])) == ["reason"]


@pytest.mark.parametrize(
    ("path", "value"), [(("grade",), True), (("grade",), 1.0), (("home_address", "number"), True)]
)
def test_booleans_and_floats_are_not_integers(
    season: SeasonConfig, path: tuple[str, ...], value: Any
) -> None:
    body = valid_body(season)
    RegistrationRequest.model_validate(body)  # the body as it is passes
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as e:
        RegistrationRequest.model_validate(body)
    assert ".".join(path) in [v.field for v in violations_from_errors(e.value.errors())]


def test_home_address_number_float_is_refused(season: SeasonConfig) -> None:
    body = valid_body(season)
    body["home_address"]["number"] = float(body["home_address"]["number"])
    with pytest.raises(ValidationError):
        RegistrationRequest.model_validate(body)
