"""`enroll serve` as a person runs it: a season loaded, portal, console and API on 127.0.0.1.

The command runs as a subprocess; the test reads what it prints (the URLs, the seeded logins, a
sample registration id, each SMS) and uses them as a parent and a city staff member would, over
real HTTP, then stops it with Ctrl-C (SIGINT).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from enrollment.core.resources import ROOT

pytestmark = pytest.mark.xdist_group("serve")

STARTUP_S = 240


class Served:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the output:\n" + "\n".join(self.lines))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    args = [
        sys.executable,
        "-m",
        "enrollment.cli",
        "serve",
        "--applicants",
        "40",
        "--seed",
        "11",
        "--port",
        "0",
    ]
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    s = Served(proc)
    try:
        s.wait_for(r"Ctrl-C", STARTUP_S)
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def request(
    url: str, data: Any = None, headers: dict[str, str] | None = None, form: bool = False
) -> tuple[int, Any]:
    body = None
    sent = dict(headers or {})
    if data is not None:
        body = urllib.parse.urlencode(data).encode() if form else json.dumps(data).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    req = urllib.request.Request(url, data=body, headers=sent)  # noqa: S310 - our own 127.0.0.1
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - our own 127.0.0.1
            raw = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read().decode(), e.code
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign_in(base: str, user: str, password: str) -> str:
    """The console's code + PKCE flow against the development issuer, without a browser."""
    config = request(base + "console/config.json")[1]
    discovery = request(config["issuer"] + "/.well-known/openid-configuration")[1]
    verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = base + "console"
    form = {
        "client_id": config["client_id"],
        "response_type": "code",
        "redirect_uri": redirect,
        "scope": config["scopes"],
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "username": user,
        "password": password,
    }
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(discovery["authorization_endpoint"], urllib.parse.urlencode(form).encode(), timeout=30)
    assert moved.value.code == 302
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(moved.value.headers["Location"]).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": config["client_id"],
        "code_verifier": verifier,
    }
    status, tokens = request(discovery["token_endpoint"], exchange, form=True)
    assert status == 200, tokens
    return str(tokens["access_token"])


def test_serve_prints_the_urls_and_the_seeded_logins(served: Served) -> None:
    base = served.wait_for(r"(http://127\.0\.0\.1:\d+/)\s", 5).group(1)
    assert request(base)[0] == 200
    assert request(base + "console")[0] == 200
    for user in ("cy-staff-01", "city-staff-01", "auditor-01"):
        served.wait_for(rf"{user}\s+│\s+\S+", 5)
    assert "区教育局" in served.text and "simulated time: 2023-05-" in served.text


def test_city_staff_sign_in_and_see_grade_1_registration_open(served: Served) -> None:
    base = served.wait_for(r"(http://127\.0\.0\.1:\d+/)\s", 5).group(1)
    password = served.wait_for(r"city-staff-01\s+│\s+(\S+)", 5).group(1)
    token = sign_in(base, "city-staff-01", password)
    auth = {"Authorization": f"Bearer {token}"}
    status, me = request(base + "admin/me", headers=auth)
    assert status == 200 and me["role"] == "city"
    status, board = request(base + "admin/seasons/2023/phases", headers=auth)
    assert status == 200 and board["may_advance"] is True
    state = {p["phase"]: p["state"] for p in board["phases"]}
    assert state["grade7-registration"] == "advanced" and state["grade1-registration"] == "open"
    assert request(base + "admin/me")[0] == 401  # no token, no staff API


def test_a_parent_reads_the_status_with_the_code_the_sms_outbox_prints(served: Served) -> None:
    base = served.wait_for(r"(http://127\.0\.0\.1:\d+/)\s", 5).group(1)
    rid = served.wait_for(r"(R(?:-[A-Z2-7]{4}){4})", 5).group(1)
    assert request(f"{base}api/registrations/{rid}/code", {})[0] == 202
    code = served.wait_for(r"验证码(\d{6})", 20).group(1)
    status, session = request(f"{base}api/registrations/{rid}/session", {"code": code})
    assert status == 200, session
    status, answer = request(
        f"{base}api/registrations/{rid}", headers={"Authorization": f"Bearer {session['token']}"}
    )
    assert status == 200 and answer["registration_id"] == rid


def test_ctrl_c_stops_it_cleanly(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(timeout=30) == 0
    served.wait_for("已停止", 5)
