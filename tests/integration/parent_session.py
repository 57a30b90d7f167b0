"""Helpers for tests that act as a family: ask for the SMS code, read it from the local outbox, sign in.

The embedded backend's SMS goes to a JSONL outbox file (`EmbeddedSeason.sms_outbox`), as the demo
prints it; the code is read from there exactly as a parent would read the message on the phone.
"""

from __future__ import annotations

import json
import re
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from enrollment.local.runtime import EmbeddedSeason
from enrollment.people.parents import SESSION_TTL

CODE = re.compile(r"验证码(\d{6})")
RECEIPT = "网上报名，报名编号"  # registration-received's text: the id sent on registering
_tokens: weakref.WeakKeyDictionary[EmbeddedSeason, dict[str, tuple[str, datetime]]] = (
    weakref.WeakKeyDictionary()
)


def family_call(
    rt: EmbeddedSeason,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    source_ip: str = "127.0.0.1",
) -> tuple[int, Any, dict[str, str]]:
    """A request to the register function as API Gateway sends it, with the family's bearer token,
    from `source_ip` (API Gateway's `requestContext.identity.sourceIp`)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    r = rt.call_api(
        "register",
        method,
        path,
        body,
        resource="/api/{proxy+}",
        path_parameters={"proxy": path.removeprefix("/api/")},
        headers=headers,
        source_ip=source_ip,
    )
    text = r.get("body") or ""
    sent = {k.lower(): str(v) for k, v in (r.get("headers") or {}).items()}
    for k, values in (r.get("multiValueHeaders") or {}).items():
        sent.setdefault(k.lower(), str(values[-1]))
    return int(r["statusCode"]), json.loads(text) if text else None, sent


def outbox(rt: EmbeddedSeason) -> list[dict[str, str]]:
    path = Path(rt.sms_outbox)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def notice_sms(rt: EmbeddedSeason) -> list[str]:
    """The outbox's lines but the parents' sign-in codes (those say 查询…招生进度) and the registration
    ids sent on registering (`receipts`)."""
    return [
        json.dumps(m, ensure_ascii=False)
        for m in outbox(rt)
        if "招生进度" not in m["text"] and RECEIPT not in m["text"]
    ]


def codes(rt: EmbeddedSeason) -> list[dict[str, str]]:
    """The outbox's sign-in code SMS alone."""
    return [m for m in outbox(rt) if CODE.search(m["text"])]


def receipts(rt: EmbeddedSeason) -> list[dict[str, str]]:
    """The outbox's registration-id SMS alone (template registration-received, issue 19)."""
    return [m for m in outbox(rt) if RECEIPT in m["text"]]


def last_code(rt: EmbeddedSeason, registration_id: str) -> str | None:
    """The newest code the outbox holds for this registration (None if none was sent)."""
    for message in reversed(outbox(rt)):
        found = CODE.search(message["text"])
        if found and registration_id in message["text"]:
            return found.group(1)
    return None


def sign_in(rt: EmbeddedSeason, registration_id: str, source_ip: str = "127.0.0.1") -> str:
    """Ask for a code, read it from the outbox, exchange it for a session token."""
    status, body, _ = family_call(
        rt, "POST", f"/api/registrations/{registration_id}/code", source_ip=source_ip
    )
    assert status == 202, body
    code = last_code(rt, registration_id)
    assert code is not None, f"no SMS code for {registration_id} in the outbox"
    status, body, _ = family_call(
        rt, "POST", f"/api/registrations/{registration_id}/session", {"code": code}, source_ip=source_ip
    )
    assert status == 200, body
    token: str = body["token"]
    _tokens.setdefault(rt, {})[registration_id] = (token, rt.clock.now() + SESSION_TTL)
    return token


def token_for(rt: EmbeddedSeason, registration_id: str) -> str:
    """A valid session token for the child: the last one while it lasts, else a new sign-in."""
    known = _tokens.get(rt, {}).get(registration_id)
    if known is not None and rt.clock.now() < known[1]:
        return known[0]
    return sign_in(rt, registration_id)


def status_of(rt: EmbeddedSeason, registration_id: str) -> dict[str, Any]:
    """The child's status page data, as the signed-in family reads it."""
    status, body, _ = family_call(
        rt, "GET", f"/api/registrations/{registration_id}", token=token_for(rt, registration_id)
    )
    assert status == 200, body
    return dict(body)
