"""A development OIDC issuer for the embedded backend: what Cognito's hosted UI does in AWS.

It holds an RSA key generated at start (never written anywhere but the JWKS, which is public),
seeds the staff users of the season's staff directory with a password generated for this run,
and speaks the part of OIDC the console uses: discovery, JWKS, the authorization endpoint (a
sign-in page) and the token endpoint (authorization code + PKCE S256, public client). Its access
tokens look like a generic OIDC issuer's: `aud` is the client, the groups are in `groups`; the
authorizer is configured for that exactly as a bureau would configure it for its own issuer.

Served by `enrollment.local.http` under `/dev-oidc/` on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from enrollment.core.staff import ROLE_ZH, StaffMember

CLIENT_ID = "enrollment-console-local"
GROUPS_CLAIM = "groups"
PREFIX = "/dev-oidc"
PLACEHOLDER_ISSUER = "http://127.0.0.1" + PREFIX  # until a server gives the real port
TOKEN_LIFETIME_S = 3600
CODE_LIFETIME_S = 120


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    location: str | None = None


@dataclass(frozen=True)
class _Grant:
    username: str
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


class DevIssuer:
    def __init__(self, users: Iterable[StaffMember], *, client_id: str = CLIENT_ID) -> None:
        self.client_id = client_id
        self.issuer = PLACEHOLDER_ISSUER
        self.users = {m.principal: m for m in users if m.role != "community"}  # agencies use IAM
        self.passwords = {name: secrets.token_urlsafe(9) for name in self.users}
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]
        self._codes: dict[str, _Grant] = {}

    # Keys and tokens -------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def write_jwks(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.jwks()), encoding="utf-8")

    def mint(self, username: str, *, lifetime_s: int = TOKEN_LIFETIME_S, **overrides: Any) -> str:
        """An access token for a seeded user (KeyError if there is no such user)."""
        user = self.users[username]
        now = int(time.time())
        groups = [user.district] if user.role == "district" else [user.role]
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}#{username}")),
            "aud": self.client_id,
            "preferred_username": username,
            "name": user.name,
            GROUPS_CLAIM: groups,
            "scope": "openid profile",
            "iat": now,
            "exp": now + lifetime_s,
            **overrides,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def check_password(self, username: str, password: str) -> bool:
        expected = self.passwords.get(username, secrets.token_urlsafe(9))  # same work for unknown names
        return hmac.compare_digest(expected.encode(), password.encode()) and username in self.users

    def logins(self, district_names: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
        """(user name, password, role as staff read it) of every seeded user."""
        names = district_names or {}
        out = []
        for name, m in sorted(self.users.items(), key=lambda kv: (kv[1].role != "district", kv[0])):
            where = f" {names.get(m.district, m.district)}" if m.district else ""
            out.append((name, self.passwords[name], ROLE_ZH[m.role] + where))
        return out

    # HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: bytes) -> Reply:
        """Answer a request whose path starts with /dev-oidc."""
        rest = path.removeprefix(PREFIX)
        if method == "GET" and rest == "/.well-known/openid-configuration":
            return _json(200, self.discovery())
        if method == "GET" and rest == "/jwks.json":
            return _json(200, self.jwks())
        if rest == "/authorize" and method == "GET":
            return self._authorize(_form(query.encode()), None)
        if rest == "/authorize" and method == "POST":
            return self._sign_in(_form(body))
        if rest == "/token" and method == "POST":
            return self._token(_form(body))
        return _json(404, {"error": "not_found"})

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    def _valid_request(self, params: dict[str, str]) -> str | None:
        """What is wrong with an authorization request, or None."""
        if params.get("client_id") != self.client_id:
            return "unknown client_id"
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) < 43:
            return "PKCE (S256) is required"
        base = self.issuer.removesuffix(PREFIX)
        redirect = urlsplit(params.get("redirect_uri", ""))
        if f"{redirect.scheme}://{redirect.netloc}" != base or not redirect.path.startswith("/console"):
            return "redirect_uri must be this server's console"
        return None

    def _authorize(self, params: dict[str, str], error: str | None) -> Reply:
        problem = self._valid_request(params)
        if problem:
            return _json(400, {"error": "invalid_request", "error_description": problem})
        return Reply(200, "text/html; charset=utf-8", _login_page(params, error).encode())  # as IdPs do

    def _sign_in(self, form: dict[str, str]) -> Reply:
        problem = self._valid_request(form)
        if problem:
            return _json(400, {"error": "invalid_request", "error_description": problem})
        username = form.get("username", "").strip()
        if not self.check_password(username, form.get("password", "")):
            return self._authorize(form, "用户名或密码不正确")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            username,
            form["client_id"],
            form["redirect_uri"],
            form["code_challenge"],
            time.time() + CODE_LIFETIME_S,
        )
        target = form["redirect_uri"] + ("&" if "?" in form["redirect_uri"] else "?")
        target += urlencode({"code": code, "state": form.get("state", "")})
        return Reply(302, "text/plain; charset=utf-8", b"", location=target)

    def _token(self, form: dict[str, str]) -> Reply:
        grant = self._codes.pop(form.get("code", ""), None)  # a code is used once, right or wrong
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.expires < time.time()
            or grant.client_id != form.get("client_id")
            or grant.redirect_uri != form.get("redirect_uri")
            or not hmac.compare_digest(_challenge(form.get("code_verifier", "")), grant.challenge)
        ):
            return _json(400, {"error": "invalid_grant"})
        token = self.mint(grant.username)
        return _json(
            200,
            {
                "access_token": token,
                "id_token": self.mint(grant.username, token_use="id"),  # noqa: S106 - a claim, not a password
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
            },
        )


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, "application/json", json.dumps(body, ensure_ascii=False).encode())


_HIDDEN = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _login_page(params: dict[str, str], error: str | None) -> str:
    hidden = "\n".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">' for k in _HIDDEN
    )
    alert = f'<p id="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>工作人员登录（本地开发身份提供方）</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; background: #f3f5f8; margin: 0; color: #1d2733; }}
main {{ max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
  box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.3rem; margin-top: 0; }}
label {{ display: block; margin: 1rem 0 .3rem; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem;
  border: 1px solid #6b7785; border-radius: 4px; }}
button {{ margin-top: 1.4rem; width: 100%; padding: .7rem; font-size: 1rem; background: #0b5cad; color: #fff;
  border: 0; border-radius: 4px; cursor: pointer; }}
#error {{ color: #a40000; font-weight: bold; }}
.note {{ color: #4a5561; font-size: .85rem; }}
</style></head>
<body><main>
<h1>义务教育招生 工作人员登录</h1>
<p class="note">本地开发身份提供方（部署到 AWS 后由 Cognito 或本局的身份系统登录）</p>
{alert}
<form method="post" action="{PREFIX}/authorize">
{hidden}
<label for="username">用户名</label>
<input id="username" name="username" type="text" autocomplete="username" required value="{html.escape(params.get("username", ""))}">
<label for="password">密码</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录</button>
</form>
</main></body></html>
"""
