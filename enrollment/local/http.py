"""A local HTTP front for the embedded backend: what API Gateway (REST API, Lambda proxy) does in AWS.

Its routes are those of `infra/api.py`; keep the two in step.

`serve(runtime)` listens on 127.0.0.1 (a free port, never another address) in a background thread,
turns each HTTP request into an API Gateway REST proxy event and hands it to the function the
REST API routes it to, through `forward` and `EmbeddedSeason.call_api`:

    GET  /                                              -> register      (public: the parents' portal)
    GET  /form.js, /form.css, /common.js                -> register      (public: the portal's files)
    ANY  /api/{proxy+}                                  -> register      (public)
    POST /api/registrations/{registration_id}/code, /session (and DELETE), /notice, /decline
         ANY /api/registrations, .../{registration_id}, .../{registration_id}/{proxy+}
                                                        -> register      (public: the family's proofs
                                                           have their own resources, throttled in AWS)
    GET  /console, /console/{proxy+}                    -> console       (public: pages, no data)
    GET  /admin/me                                      -> console       (staff token)
    GET  /admin/seasons/{season}/phases                 -> gate-advance  (staff token)
    GET  /admin/seasons/{season}/districts/{district}/dead-letters -> gate-advance (staff token)
    GET  /admin/seasons/{season}/pauses, POST …/pauses/{pause}/resume -> gate-advance (staff token)
    POST /admin/seasons/{season}/phases/{phase}/advance -> gate-advance  (staff token)
    POST /admin/seasons/{season}/windows/{grade}/extend -> gate-advance  (staff token)
    GET  /admin/seasons/{season}/status, POST .../start -> gate-advance  (staff token)
    GET  /admin/seasons/{season}/visits/overdue         -> gate-advance  (staff token)
    ANY  /admin/verification/{proxy+}                   -> verify-api    (staff token)
    ANY  /admin/lottery/{proxy+}                        -> lottery-api   (staff token)
    ANY  /admin/placement/{proxy+}                      -> place-api     (staff token)
    ANY  /admin/complaints/{proxy+}                     -> complaints-api (staff token)
    ANY  /admin/exports/{proxy+}                        -> exports-api   (staff token)
    POST /agency/community/visits                       -> verify-api    (AWS_IAM: the community office)
    GET  /agency/community/visits                       -> verify-api    (AWS_IAM: its open visits)

    GET  /local-s3/{bucket}/{key}?X-Amz-...              -> S3 itself (presigned links: every such link
                                                           in an answer is rewritten to lead here;
                                                           enrollment/local/s3_links.py)

Anything else is refused in the API's one error shape (functions/api.py's `refusal`: `message` in
Chinese and `errors[]` naming `field` and `rule`): 404 for a path no resource has, 405 (with `Allow`)
for a method the path's resources do not take. (API Gateway itself answers both with 403 "Missing
Authentication Token" unless its gateway responses say otherwise.) The authorizer's refusals (401,
403) come in the same shape, their English message kept as `message_en`. A function that fails is
logged here with its traceback and answered 500 in the same shape (API Gateway answers 502 there).

Staff routes run the real token authorizer (functions/authorize) on the request's `Authorization:
Bearer ...` header, exactly as API Gateway's TOKEN authorizer would: 401 without a valid token, 403
for a valid token without a staff role, else the handler gets the authorizer's context. Tokens come
from the development issuer served here under `/dev-oidc/` (enrollment/local/oidc.py), which
stands in for Cognito's hosted UI.

The agency route is IAM-authorised in AWS (SigV4). Locally nothing is signed: the header
`X-Local-IAM-Principal: <IAM ARN>` stands in for a verified signature on that route only.

Calls into the runtime are serialised with a lock: moto and the handlers' cached adapters are
shared by every server thread. API Gateway's own body validation (the models in infra/api.py) is not
repeated: the handlers validate bodies themselves.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from enrollment.local import s3_links
from enrollment.local.oidc import PREFIX as OIDC_PREFIX
from enrollment.local.runtime import EmbeddedSeason

HOST = "127.0.0.1"
IAM_HEADER = "X-Local-IAM-Principal"
API_RESOURCE = "/api/{proxy+}"
PORTAL_FILES = ("/form.js", "/form.css", "/common.js")  # as infra/api.py: the portal's files beside `/`
# As infra/api.py PROOF_ROUTES and REGISTRATION_RESOURCES: the family's routes under one registration.
PROOF_ROUTES = {"code": ("POST",), "session": ("POST", "DELETE"), "notice": ("POST",), "decline": ("POST",)}
REGISTRATION = re.compile(r"/api/registrations/(?P<registration_id>[^/]+)(?:/(?P<rest>.+))?")
Auth = Literal["none", "staff", "iam"]
# Staff routes with their own resource: (method, resource, pattern, function).
STAFF_ROUTES = (
    ("GET", "/admin/me", re.compile(r"/admin/me"), "console"),
    (
        "GET",
        "/admin/seasons/{season}/phases",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/phases"),
        "gate-advance",
    ),
    (
        "GET",
        "/admin/seasons/{season}/districts/{district}/dead-letters",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/districts/(?P<district>[^/]+)/dead-letters"),
        "gate-advance",
    ),
    (
        "POST",
        "/admin/seasons/{season}/phases/{phase}/advance",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/phases/(?P<phase>[^/]+)/advance"),
        "gate-advance",
    ),
    (
        "POST",
        "/admin/seasons/{season}/windows/{grade}/extend",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/windows/(?P<grade>[^/]+)/extend"),
        "gate-advance",
    ),
    # the season started and watched (issue 15)
    (
        "GET",
        "/admin/seasons/{season}/status",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/status"),
        "gate-advance",
    ),
    (
        "POST",
        "/admin/seasons/{season}/start",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/start"),
        "gate-advance",
    ),
    # home visits past their deadline, per district (issue 17)
    (
        "GET",
        "/admin/seasons/{season}/visits/overdue",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/visits/overdue"),
        "gate-advance",
    ),
    # failures pause, they do not end (issue 16)
    (
        "GET",
        "/admin/seasons/{season}/pauses",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/pauses"),
        "gate-advance",
    ),
    (
        "POST",
        "/admin/seasons/{season}/pauses/{pause}/resume",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/pauses/(?P<pause>[^/]+)/resume"),
        "gate-advance",
    ),
)
# The staff {proxy+} routes: (prefix, function).
STAFF_PROXIES = (
    ("/admin/verification/", "verify-api"),
    ("/admin/lottery/", "lottery-api"),
    ("/admin/placement/", "place-api"),
    ("/admin/complaints/", "complaints-api"),
    ("/admin/exports/", "exports-api"),
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_BODY = 1024 * 1024  # bytes the bridge reads at all; the handlers refuse far less (functions/api.py)
log = logging.getLogger(__name__)


def refused(status: int, field: str, rule: str, zh: str, en: str) -> dict[str, Any]:
    """A refusal in the API's one shape (functions/api.py `refusal`), for what the bridge answers itself."""
    return {
        "message": zh,
        "message_en": en,
        "errors": [{"field": field, "rule": rule, "message": zh, "message_en": en}],
    }


_NO_ROUTE = refused(404, "path", "HTTP-ROUTE", "没有这个地址", "no such route")
_LAMBDA_FAILED = refused(500, "body", "HTTP-500", "服务暂时出错，请稍后再试", "internal server error")
_AUTHORIZER_ZH = {401: "请先登录（工作人员令牌无效或已过期）", 403: "无权访问：不是招生工作人员"}


@dataclass(frozen=True)
class Route:
    """Where the REST API sends a request: the function, the resource it matched, who may call."""

    function_key: str
    resource: str
    path_parameters: dict[str, str] | None
    auth: Auth = "none"


def route(method: str, path: str) -> Route | None:
    """The route API Gateway would take for `method` and the (decoded) `path`, or None."""
    if path == "/" or path in PORTAL_FILES:
        return Route("register", path, None) if method == "GET" else None
    if path == "/api/registrations":
        return Route("register", path, None)
    found = REGISTRATION.fullmatch(path)
    if found:
        rid, rest = found["registration_id"], found["rest"]
        base = "/api/registrations/{registration_id}"
        if rest is None:
            return Route("register", base, {"registration_id": rid})
        if method in PROOF_ROUTES.get(rest, ()):
            return Route("register", f"{base}/{rest}", {"registration_id": rid})
        if rest not in PROOF_ROUTES:
            return Route("register", f"{base}/{{proxy+}}", {"registration_id": rid, "proxy": rest})
        # a proof's path with another method: API Gateway answers 403; the function answers 405 here
    proxy = path.removeprefix("/api/") if path.startswith("/api/") else ""
    if proxy:  # {proxy+} needs at least one segment
        return Route("register", API_RESOURCE, {"proxy": proxy})
    if path == "/console" and method == "GET":
        return Route("console", "/console", None)
    page = path.removeprefix("/console/") if path.startswith("/console/") else ""
    if page and method == "GET":
        return Route("console", "/console/{proxy+}", {"proxy": page})
    for allowed, resource, pattern, function_key in STAFF_ROUTES:
        found = pattern.fullmatch(path)
        if found and method == allowed:
            return Route(function_key, resource, dict(found.groupdict()) or None, auth="staff")
    for prefix, function_key in STAFF_PROXIES:
        rest = path.removeprefix(prefix) if path.startswith(prefix) else ""
        if rest:
            return Route(function_key, prefix + "{proxy+}", {"proxy": rest}, auth="staff")
    if path == "/agency/community/visits" and method in ("POST", "GET"):
        return Route("verify-api", path, None, auth="iam")
    return None


class AuthorizerRefused(Exception):
    """The staff token authorizer refused the request: API Gateway answers `status` with `body`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def forward(
    rt: EmbeddedSeason,
    target: Route,
    method: str,
    path: str,
    body: Any,
    *,
    authorization: str | None,
    caller: str | None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """What API Gateway does with a request once `route` found its `target`: on a staff route, the
    `authorization` header through the token authorizer (its refusal raised as `AuthorizerRefused`);
    then the function's proxy response, with `caller` as the IAM identity on the IAM route only."""
    authorizer = None
    if target.auth == "staff":
        status, answer = rt.authorize(authorization, method, path)
        if status != 200:
            raise AuthorizerRefused(status, answer)
        authorizer = answer
    return rt.call_api(
        target.function_key,
        method,
        path,
        body,
        resource=target.resource,
        path_parameters=target.path_parameters,
        caller=caller if target.auth == "iam" else None,
        authorizer=authorizer,
        headers=headers,
        query=query,
        source_ip=source_ip,
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, runtime: EmbeddedSeason, lock: threading.Lock, port: int = 0) -> None:
        super().__init__((HOST, port), _Handler)
        self.runtime = runtime
        self.lock = lock
        self.base = f"http://{HOST}:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "enrollment-local-apigw"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: tests and the demo print what matters themselves

    def _dispatch(self) -> None:
        method = self.command
        url = urlsplit(self.path)
        path = unquote(url.path) or "/"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True  # the body stays unread
            status, what = (413, "larger than 1 MiB") if length > MAX_BODY else (400, "a bad Content-Length")
            self._reply_json(status, refused(status, "body", "HTTP-SIZE", "请求内容过大或长度有误", what))
            return
        raw = self.rfile.read(length) if length > 0 else b""
        if path == OIDC_PREFIX or path.startswith(OIDC_PREFIX + "/"):  # Cognito's hosted UI stand-in
            reply = self.server.runtime.oidc.handle(method, path, url.query, raw)
            extra = {"Location": reply.location} if reply.location else {}
            self._reply(reply.status, reply.content_type, reply.body, {**extra, "Cache-Control": "no-store"})
            return
        if path.startswith(s3_links.PREFIX) and method in ("GET", "HEAD"):  # S3's endpoint stand-in
            with self.server.lock:
                got = s3_links.answer(path, url.query, self.server.runtime.s3_object)
            self._reply(got.status, got.content_type, got.body, {**got.headers, "Cache-Control": "no-store"})
            return
        target = route(method, path)
        if target is None:
            allowed = [m for m in METHODS if route(m, path) is not None]
            if not allowed:
                self._reply_json(404, _NO_ROUTE)
                return
            zh, en = f"不支持此请求方法（可用：{'、'.join(allowed)}）", f"use {', '.join(allowed)}"
            self._reply(
                405,
                "application/json",
                json.dumps(refused(405, "method", "HTTP-METHOD", zh, en), ensure_ascii=False).encode(),
                {"Allow": ", ".join(allowed)},
            )
            return
        try:
            body = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            zh, en = "请求内容须为UTF-8编码", "the local server accepts UTF-8 request bodies only"
            self._reply_json(400, refused(400, "body", "HTTP-JSON", zh, en))
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != IAM_HEADER.lower()}
        query = dict(parse_qsl(url.query, keep_blank_values=True)) or None
        caller = None
        if target.auth == "iam":  # stands in for SigV4 + the AWS_IAM authoriser (see the module's docstring)
            caller = (self.headers.get(IAM_HEADER) or "").strip() or None
            if caller is None and not self.headers.get("Authorization"):  # nothing signed: not authenticated
                zh, en = "请求未签名（AWS SigV4）", "the request is not signed"
                self._reply_json(401, refused(401, "Authorization", "R-DATA-2", zh, en))
                return
        try:
            with self.server.lock:
                response = forward(
                    self.server.runtime,
                    target,
                    method,
                    path,
                    body,
                    authorization=self.headers.get("Authorization"),
                    caller=caller,
                    headers=headers,
                    query=query,
                    source_ip=self.client_address[0],  # API Gateway's requestContext.identity.sourceIp
                )
        except AuthorizerRefused as e:
            en = str(e.body.get("message", ""))
            zh = _AUTHORIZER_ZH.get(e.status, "无权访问")
            self._reply_json(e.status, refused(e.status, "Authorization", "R-DATA-2", zh, en))
            return
        except Exception:  # the function failed: logged with its traceback, answered 500
            log.exception("%s %s failed", method, path)
            self._reply_json(500, _LAMBDA_FAILED)
            return
        if int(response.get("statusCode", 502)) >= 500:
            log.error("%s %s answered %s: %s", method, path, response.get("statusCode"), response.get("body"))
        self._reply_proxy(response)

    # every method goes to the route table, as API Gateway's resources do
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any other method (TRACE, QUERY...) is refused the same way, not 501
            return self._dispatch
        raise AttributeError(name)

    def _reply_proxy(self, response: dict[str, Any]) -> None:
        """Write a Lambda proxy response: statusCode, headers and multiValueHeaders, body."""
        raw_body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            payload = base64.b64decode(raw_body)
        else:  # presigned S3 links lead to this server's S3 stand-in (enrollment/local/s3_links.py)
            payload = s3_links.rewrite(str(raw_body), self.server.base).encode("utf-8")
        headers: dict[str, list[str]] = {}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(name.lower(), []).extend(str(v) for v in values)
        for name, value in (response.get("headers") or {}).items():
            headers[name.lower()] = [str(value)]  # API Gateway: `headers` wins over multiValueHeaders
        headers.pop("content-length", None)
        headers.pop("connection", None)
        self.send_response(int(response.get("statusCode", 502)))
        for name, values in headers.items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":  # HEAD: the headers of the answer, never its body
            self.wfile.write(payload)

    def _reply_json(self, status: int, body: dict[str, Any]) -> None:
        self._reply(status, "application/json", json.dumps(body, ensure_ascii=False).encode("utf-8"), {})

    def _reply(self, status: int, content_type: str, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":  # HEAD: the headers of the answer, never its body
            self.wfile.write(payload)


@contextmanager
def serve(runtime: EmbeddedSeason, *, lock: threading.Lock | None = None, port: int = 0) -> Iterator[str]:
    """Serve `runtime` over HTTP on 127.0.0.1 until the block ends; yields the base URL ("http://127.0.0.1:PORT/").

    Pass `lock` to share it with other code that uses the runtime while the server runs; `port` 0
    takes a free port.
    """
    server = _Server(runtime, lock or threading.Lock(), port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-apigw", daemon=True
    )
    base = server.base
    runtime.serve_issuer_at(base)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
