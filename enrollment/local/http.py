"""A local HTTP front for the embedded backend: what API Gateway (REST API, Lambda proxy) does in AWS.

Its routes are those of `infra/api.py` (API_RESOURCE, ADMIN_RESOURCE); keep the two in step.

`serve(runtime)` listens on 127.0.0.1 (a free port, never another address) in a background thread,
turns each HTTP request into an API Gateway REST proxy event and hands it to the function the
REST API routes it to, through `EmbeddedSeason.call_api`:

    GET  /                                             -> register      (resource "/")
    ANY  /api/{proxy+}                                 -> register      (resource "/api/{proxy+}")
    POST /admin/seasons/{season}/phases/{phase}/advance -> gate-advance (AWS_IAM authorised)
    POST /admin/seasons/{season}/windows/{grade}/extend -> gate-advance (AWS_IAM authorised)
    ANY  /admin/verification/{proxy+}                  -> verify-api   (AWS_IAM authorised)
    ANY  /admin/lottery/{proxy+}                       -> lottery-api  (AWS_IAM authorised)
    ANY  /admin/placement/{proxy+}                     -> place-api    (AWS_IAM authorised)
    POST /agency/community/visits                      -> verify-api   (AWS_IAM authorised)

Anything else gets what API Gateway answers for a path or method it has no resource for:
403 {"message": "Missing Authentication Token"}.

The admin route is IAM-authorised in AWS: the caller signs the request with SigV4 and API Gateway's
AWS_IAM authoriser puts the verified identity in `requestContext.identity`. Locally nothing is
signed; the header `X-Local-Staff: <IAM ARN>` stands in for a verified signature and becomes the
event's caller. Without the header the caller is None, as for an unsigned request, and the handler
refuses with 403. Only the admin route reads the header; the public routes never carry a caller.

Calls into the runtime are serialised with a lock: moto and the handlers' cached adapters are
shared by every server thread. Query strings and request headers are not forwarded (no handler
reads them), and API Gateway's own request validation (the admin body model) is not repeated:
the handlers validate bodies themselves.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from enrollment.local.runtime import EmbeddedSeason

HOST = "127.0.0.1"
STAFF_HEADER = "X-Local-Staff"
API_RESOURCE = "/api/{proxy+}"
# The IAM-authorised admin routes: (resource, pattern).
ADMIN_ROUTES = (
    (
        "/admin/seasons/{season}/phases/{phase}/advance",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/phases/(?P<phase>[^/]+)/advance"),
    ),
    (
        "/admin/seasons/{season}/windows/{grade}/extend",
        re.compile(r"/admin/seasons/(?P<season>[^/]+)/windows/(?P<grade>[^/]+)/extend"),
    ),
)
# The IAM-authorised {proxy+} routes: (prefix, function).
STAFF_PROXIES = (
    ("/admin/verification/", "verify-api"),
    ("/admin/lottery/", "lottery-api"),
    ("/admin/placement/", "place-api"),
)
_NO_ROUTE = {"message": "Missing Authentication Token"}  # API Gateway's answer for unknown routes
_LAMBDA_FAILED = {"message": "Internal server error"}  # API Gateway's answer when the function fails


@dataclass(frozen=True)
class Route:
    """Where the REST API sends a request: the function and the resource it matched."""

    function_key: str
    resource: str
    path_parameters: dict[str, str] | None
    iam: bool = False


def route(method: str, path: str) -> Route | None:
    """The route API Gateway would take for `method` and the (decoded) `path`, or None."""
    if path == "/":
        return Route("register", "/", None) if method == "GET" else None
    proxy = path.removeprefix("/api/") if path.startswith("/api/") else ""
    if proxy:  # {proxy+} needs at least one segment
        return Route("register", API_RESOURCE, {"proxy": proxy})
    for resource, pattern in ADMIN_ROUTES:
        admin = pattern.fullmatch(path)
        if admin and method == "POST":
            return Route("gate-advance", resource, dict(admin.groupdict()), iam=True)
    for prefix, function_key in STAFF_PROXIES:
        rest = path.removeprefix(prefix) if path.startswith(prefix) else ""
        if rest:
            return Route(function_key, prefix + "{proxy+}", {"proxy": rest}, iam=True)
    if path == "/agency/community/visits" and method == "POST":
        return Route("verify-api", path, None, iam=True)
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, runtime: EmbeddedSeason, lock: threading.Lock) -> None:
        super().__init__((HOST, 0), _Handler)
        self.runtime = runtime
        self.lock = lock


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "enrollment-local-apigw"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: tests and the demo print what matters themselves

    def _dispatch(self) -> None:
        method = self.command
        path = unquote(urlsplit(self.path).path) or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        target = route(method, path)
        if target is None:
            self._reply_json(403, _NO_ROUTE)
            return
        try:
            body = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            self._reply_json(400, {"message": "the local server accepts UTF-8 request bodies only"})
            return
        caller = None
        if target.iam:  # stands in for SigV4 + the AWS_IAM authoriser (see the module's docstring)
            caller = (self.headers.get(STAFF_HEADER) or "").strip() or None
        try:
            with self.server.lock:
                response = self.server.runtime.call_api(
                    target.function_key,
                    method,
                    path,
                    body,
                    resource=target.resource,
                    path_parameters=target.path_parameters,
                    caller=caller,
                )
        except Exception as e:  # the function failed: API Gateway answers 502
            self.log_error("%s %s failed: %r", method, path, e)
            self._reply_json(502, _LAMBDA_FAILED)
            return
        self._reply_proxy(response)

    def _reply_proxy(self, response: dict[str, Any]) -> None:
        """Write a Lambda proxy response: statusCode, headers and multiValueHeaders, body."""
        raw_body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            payload = base64.b64decode(raw_body)
        else:
            payload = str(raw_body).encode("utf-8")
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
        self.wfile.write(payload)

    def _reply_json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def serve(runtime: EmbeddedSeason, *, lock: threading.Lock | None = None) -> Iterator[str]:
    """Serve `runtime` over HTTP on 127.0.0.1 until the block ends; yields the base URL ("http://127.0.0.1:PORT/").

    Pass `lock` to share it with other code that uses the runtime while the server runs.
    """
    server = _Server(runtime, lock or threading.Lock())
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-apigw", daemon=True
    )
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
