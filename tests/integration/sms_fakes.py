"""Loopback fakes of Alibaba Cloud's and Tencent Cloud's SMS APIs, for the real SDKs to talk to.

Each parses the request as its provider would (Alibaba Cloud: RPC style, the parameters in the query
and form body, `SendSms` as the action (in the query or the `x-acs-action` header); Tencent Cloud: a JSON POST with `X-TC-Action: SendSms`), records it,
and answers in the provider's documented JSON shapes: success, throttling, an unregistered template, a
wrong number. Which answer depends on the request, as the provider's would:
- a number in `THROTTLED` is over its frequency limit, one in `BUSY` meets the API's own rate limit;
- a template code not in `templates` is not registered (or not approved);
- a number that is not 11 digits starting with 1 is wrong.

Each also keeps the receipts of what it sent, as the carrier would report them: every message is
delivered, except to a number in `UNREACHABLE` (switched off: failed, with the carrier's code).
Alibaba Cloud answers `QuerySendDetails` for one number, send date and BizId; Tencent Cloud hands
out its queue with `PullSmsSendStatus`, each receipt once. `throttle_queries` makes the next so many
receipt queries answer with the provider's throttling error.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAINLAND = re.compile(r"^(\+86)?1\d{10}$")
THROTTLED = "13900000001"
BUSY = "13900000002"
UNREACHABLE = "13900000003"
ALIYUN_OFF = "MK:0001"  # the carrier's code for a phone switched off, as Alibaba Cloud passes it on
TENCENT_OFF = "用户关机"  # Tencent Cloud's Description of the same
SENT_ON = "2026-07-06"  # the fakes' send and receipt date (Beijing time)


@dataclass
class Fake:
    templates: frozenset[str]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    sent: dict[str, str] = field(default_factory=dict)  # message id -> number, as sent
    pulled: set[str] = field(default_factory=set)  # Tencent Cloud: receipts handed out already
    throttle_queries: int = 0


def _aliyun_query(fake: Fake, params: dict[str, str], rid: str) -> tuple[int, dict[str, Any]]:
    if fake.throttle_queries > 0:
        fake.throttle_queries -= 1
        return 400, {
            "Code": "Throttling.User",
            "Message": "Request was denied due to user flow control.",
            "RequestId": rid,
        }
    for required in ("PhoneNumber", "SendDate"):
        if not params.get(required):
            return 400, {"Code": "MissingParameter", "Message": f"{required} is mandatory", "RequestId": rid}
    biz_id, phone = params.get("BizId", ""), params["PhoneNumber"]
    found = (
        [] if fake.sent.get(biz_id) != phone or params["SendDate"] != SENT_ON.replace("-", "") else [biz_id]
    )
    details = [
        {
            "PhoneNum": phone,
            "SendStatus": 2 if phone == UNREACHABLE else 3,
            "ErrCode": ALIYUN_OFF if phone == UNREACHABLE else "DELIVERED",
            "TemplateCode": "SMS_462115011",
            "Content": "【吉林市教育局】…",
            "SendDate": f"{SENT_ON} 18:00:01",
            "ReceiveDate": f"{SENT_ON} 18:00:09",
            "OutId": "",
        }
        for _ in found
    ]
    return 200, {
        "Code": "OK",
        "Message": "OK",
        "RequestId": rid,
        "TotalCount": len(details),
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
    }


def _aliyun_answer(fake: Fake, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    rid = f"F655A8D5-B967-440B-8683-{len(fake.requests):012d}"
    if params.get("Action") == "QuerySendDetails" and params.get("Version") == "2017-05-25":
        return _aliyun_query(fake, params, rid)
    if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
        return 400, {
            "Code": "InvalidAction.NotFound",
            "Message": "Specified api is not found",
            "RequestId": rid,
        }
    phone = params.get("PhoneNumbers", "")
    if phone == BUSY:
        return 400, {
            "Code": "Throttling.User",
            "Message": "Request was denied due to user flow control.",
            "RequestId": rid,
        }
    if phone == THROTTLED:
        return 200, {
            "Code": "isv.BUSINESS_LIMIT_CONTROL",
            "Message": "触发分钟级流控Permits:1",
            "RequestId": rid,
        }
    if params.get("TemplateCode") not in fake.templates:
        return 200, {
            "Code": "isv.SMS_TEMPLATE_ILLEGAL",
            "Message": "该账号下找不到对应模板",
            "RequestId": rid,
        }
    if not MAINLAND.match(phone):
        return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": rid}
    biz_id = f"9006197469364984{len(fake.requests):04d}^0"
    fake.sent[biz_id] = phone
    return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": rid}


def _tencent_pull(fake: Fake, body: dict[str, Any], rid: str) -> dict[str, Any]:
    if fake.throttle_queries > 0:
        fake.throttle_queries -= 1
        return {
            "Response": {
                "Error": {"Code": "RequestLimitExceeded", "Message": "请求的次数超过了频率限制。"},
                "RequestId": rid,
            }
        }
    if not body.get("SmsSdkAppId") or not 1 <= int(body.get("Limit", 0)) <= 100:
        return {"Response": {"Error": {"Code": "InvalidParameter", "Message": "Limit"}, "RequestId": rid}}
    waiting = [serial for serial in fake.sent if serial not in fake.pulled][: int(body["Limit"])]
    fake.pulled.update(waiting)
    statuses = [
        {
            "UserReceiveTime": f"{SENT_ON} 18:00:09",
            "CountryCode": "86",
            "SubscriberNumber": fake.sent[serial].removeprefix("+86"),
            "PhoneNumber": fake.sent[serial],
            "SerialNo": serial,
            "ReportStatus": "FAIL" if fake.sent[serial].endswith(UNREACHABLE) else "SUCCESS",
            "Description": TENCENT_OFF if fake.sent[serial].endswith(UNREACHABLE) else "用户接收成功",
            "SessionContext": "",
        }
        for serial in waiting
    ]
    return {"Response": {"PullSmsSendStatusSet": statuses, "RequestId": rid}}


def _tencent_answer(fake: Fake, body: dict[str, Any], headers: Any) -> dict[str, Any]:
    rid = f"a0aabda6-cf91-4f3e-a2f0-{len(fake.requests):012d}"
    if headers.get("X-TC-Action") == "PullSmsSendStatus" and headers.get("X-TC-Version") == "2021-01-11":
        return _tencent_pull(fake, body, rid)
    if headers.get("X-TC-Action") != "SendSms" or headers.get("X-TC-Version") != "2021-01-11":
        return {
            "Response": {"Error": {"Code": "InvalidAction", "Message": "unknown action"}, "RequestId": rid}
        }
    phones = body.get("PhoneNumberSet", [])
    if BUSY in "".join(phones):
        return {
            "Response": {
                "Error": {"Code": "RequestLimitExceeded", "Message": "请求的次数超过了频率限制。"},
                "RequestId": rid,
            }
        }
    if body.get("TemplateId") not in fake.templates:
        return {
            "Response": {
                "Error": {
                    "Code": "FailedOperation.TemplateIncorrectOrUnapproved",
                    "Message": "模版未审批或请求的内容与审核通过的模版内容不匹配",
                },
                "RequestId": rid,
            }
        }
    statuses = []
    for i, phone in enumerate(phones):
        code, message = "Ok", "send success"
        if phone.endswith(THROTTLED):
            code, message = (
                "LimitExceeded.PhoneNumberThirtySecondLimit",
                "单个手机号30秒内下发短信条数超过设定的上限",
            )
        elif not MAINLAND.match(phone):
            code, message = "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"
        serial = f"5000:10457106691570536578{len(fake.requests):03d}{i}"
        if code == "Ok":
            fake.sent[serial] = phone
        statuses.append(
            {
                "SerialNo": serial,
                "PhoneNumber": phone,
                "Fee": 1 if code == "Ok" else 0,
                "SessionContext": "",
                "Code": code,
                "Message": message,
                "IsoCode": "CN",
            }
        )
    return {"Response": {"SendStatusSet": statuses, "RequestId": rid}}


def _handler(fake: Fake, provider: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if provider == "aliyun":
                params = dict(parse_qsl(urlsplit(self.path).query))
                params.update(parse_qsl(raw))
                # the SDK signs with ACS3-HMAC-SHA256, which names the action in headers
                params.setdefault("Action", self.headers.get("x-acs-action", ""))
                params.setdefault("Version", self.headers.get("x-acs-version", ""))
                fake.requests.append(
                    {"params": params, "authorization": self.headers.get("Authorization", "")}
                )
                status, answer = _aliyun_answer(fake, params)
            else:
                body = json.loads(raw)
                fake.requests.append({"body": body, "headers": dict(self.headers)})
                status, answer = 200, _tencent_answer(fake, body, self.headers)
            fake.requests[-1]["answer"] = answer
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(provider: str, templates: set[str]) -> Iterator[Fake]:
    """A fake of `provider` ("aliyun" or "tencent") on a free loopback port, for the `with` block."""
    fake = Fake(frozenset(templates))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake, provider))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
