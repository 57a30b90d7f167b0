"""What every API handler answers when a request breaks a rule: 4xx JSON naming field and rule."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from enrollment.registration import Violation, violations_from_errors


def refusal(status: int, violations: list[Violation]) -> Response[str]:
    body = {
        "message": violations[0].message_zh if violations else "请求有误",
        "errors": [v.as_dict() for v in violations],
    }
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False))


def invalid_request(errors: list[Any]) -> list[Violation]:
    """Powertools' request validation errors, as violations of the fields they are about."""
    return violations_from_errors(errors, prefix=("body", "path", "query"))
