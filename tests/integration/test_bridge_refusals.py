"""The local API Gateway bridge (enrollment/local/http.py) answers every request in the one refusal
shape, and a function that fails is logged with its traceback and answered 500, never swallowed."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pytest

from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason


def send(
    url: str, method: str = "GET", body: bytes | None = None, ctype: str | None = None
) -> tuple[int, Any, Any]:
    req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - our own 127.0.0.1
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - our own 127.0.0.1
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def shaped(answer: dict[str, Any]) -> list[str]:
    assert answer["message"] and answer["errors"], answer
    return [e["field"] for e in answer["errors"]]


def test_unknown_routes_wrong_methods_and_missing_tokens_answer_in_one_shape(
    embedded: EmbeddedSeason,
) -> None:
    with serve(embedded) as base:
        status, answer, _ = send(base + "nowhere")
        assert status == 404 and shaped(answer) == ["path"]
        status, answer, headers = send(base + "admin/me", "DELETE")
        assert status == 405 and shaped(answer) == ["method"] and "GET" in headers["Allow"]
        status, answer, _ = send(base + "api/season", "TRACE")
        assert status == 405 and shaped(answer) == ["method"]
        status, answer, _ = send(base + "admin/me")
        assert status == 401 and shaped(answer) == ["Authorization"]
        status, answer, _ = send(base + "agency/community/visits", "POST", b"{}", "application/json")
        assert status == 401 and shaped(answer) == ["Authorization"]
        status, answer, _ = send(base + "api/registrations", "POST", b"--x--", "multipart/form-data")
        assert status == 415 and shaped(answer) == ["Content-Type"]
        status, answer, _ = send(base + "api/registrations", "POST", b"[" * 10_000, "application/json")
        assert status == 400 and shaped(answer) == ["body"]


def test_a_failing_function_is_logged_with_its_traceback_and_answered_500(
    embedded: EmbeddedSeason, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the function broke")

    monkeypatch.setattr(embedded, "call_api", broken)
    with serve(embedded) as base, caplog.at_level(logging.ERROR, logger="enrollment.local.http"):
        status, answer, _ = send(base + "api/season")
    assert status == 500 and shaped(answer) == ["body"]
    failed = [r for r in caplog.records if r.name == "enrollment.local.http"]
    assert failed and failed[0].exc_info and "GET /api/season" in failed[0].getMessage()
    assert "the function broke" in caplog.text and "Traceback" in caplog.text
