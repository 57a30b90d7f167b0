"""Staff sign-in (docs/ACCESS.md): which tokens open the staff API, and with which role.

The verifier is tested with Cognito-shaped access tokens (the stack's default) and with a generic
OIDC issuer's (the development issuer's shape); the development issuer's code + PKCE flow is
tested as the console uses it. No network: keys are generated here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from enrollment.core.staff import StaffDirectory
from enrollment.local.oidc import CLIENT_ID, GROUPS_CLAIM, DevIssuer
from enrollment.people.access import NoRole, TokenRejected, Verifier, context_of, member_from_context, role_of

ISSUER = "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_Example"
CLIENT = "console-client-id"
DISTRICTS = frozenset({"CY", "CH", "LT", "FM", "GX", "JK"})
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def keys(kid: str) -> Any:
    if kid != "k1":
        raise KeyError(kid)
    return KEY.public_key()


COGNITO = Verifier(ISSUER, CLIENT, "cognito:groups", DISTRICTS, keys)


def cognito_token(key: Any = KEY, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    """A Cognito access token: no `aud`, the client in `client_id`, groups in `cognito:groups`."""
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "0b6f3c5e-0000-4000-8000-000000000001",
        "client_id": CLIENT,
        "token_use": "access",
        "username": "cy-staff-01",
        "cognito:groups": ["CY"],
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm=alg, headers={"kid": kid}
    )


def test_a_cognito_access_token_of_a_district_group_makes_district_staff() -> None:
    member = COGNITO.member(cognito_token())
    assert (member.principal, member.role, member.district) == ("cy-staff-01", "district", "CY")


@pytest.mark.parametrize(
    ("groups", "role", "district"), [(["city"], "city", None), (["auditor"], "auditor", None)]
)
def test_city_and_auditor_groups(groups: list[str], role: str, district: str | None) -> None:
    member = COGNITO.member(cognito_token(**{"cognito:groups": groups}))
    assert (member.role, member.district) == (role, district)


REJECTED = [
    ("expired", cognito_token(exp=int(time.time()) - 120)),
    ("another issuer", cognito_token(iss="https://evil.example/issuer")),
    ("another client", cognito_token(client_id="someone-elses-app")),
    ("an ID token", cognito_token(token_use="id")),
    ("signed with another key", cognito_token(key=OTHER_KEY)),
    ("an unknown key id", cognito_token(kid="k2")),
    ("no expiry", cognito_token(exp=None)),
    ("not a JWT", "not-a-token"),
    ("unsigned", jwt.encode({"iss": ISSUER, "sub": "x", "client_id": CLIENT}, None, algorithm="none")),
]


# ids by name: the tokens carry the collection time, and xdist's workers must collect equal ids
@pytest.mark.parametrize(("why", "token"), REJECTED, ids=[why for why, _ in REJECTED])
def test_tokens_that_open_nothing(why: str, token: str) -> None:
    with pytest.raises(TokenRejected):
        COGNITO.member(token)


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    """The algorithm confusion attack: HS256 'signed' with the issuer's public key."""
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "k1"}).encode()).rstrip(b"=")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "x",
        "client_id": CLIENT,
        "iat": now,
        "exp": now + 60,
        "cognito:groups": ["city"],
    }
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()).rstrip(
        b"="
    )
    with pytest.raises(TokenRejected, match="algorithm"):
        COGNITO.member((header + b"." + payload + b"." + sig).decode())


@pytest.mark.parametrize(
    "groups",
    [[], ["teachers"], ["CY", "CH"], ["CY", "city"], ["city", "auditor"], ["XX"]],
)
def test_a_valid_token_without_exactly_one_staff_group_has_no_role(groups: list[str]) -> None:
    with pytest.raises(NoRole):
        COGNITO.member(cognito_token(**{"cognito:groups": groups}))


def test_other_groups_beside_one_staff_group_do_not_matter() -> None:
    assert role_of(["CY", "Everyone", "teachers"], DISTRICTS) == ("district", "CY")


def test_a_generic_oidc_issuer_with_aud_and_its_own_groups_claim() -> None:
    generic = Verifier("https://sso.bureau.example", "enroll-api", "groups", DISTRICTS, keys)
    now = int(time.time())
    claims = {
        "iss": "https://sso.bureau.example",
        "sub": "u-17",
        "aud": ["enroll-api", "other"],
        "preferred_username": "ch-reviewer",
        "groups": "CH",
        "iat": now,
        "exp": now + 300,
    }
    member = generic.member(jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"}))
    assert (member.principal, member.role, member.district) == ("ch-reviewer", "district", "CH")


def test_the_authorizer_context_round_trips() -> None:
    member = COGNITO.member(cognito_token())
    assert member_from_context(context_of(member)) == member
    assert member_from_context(None) is None and member_from_context({"principalId": "x"}) is None


# The development issuer ----------------------------------------------------------------------


@pytest.fixture
def issuer() -> DevIssuer:
    dev = DevIssuer(StaffDirectory.load("jilin-2023"))
    dev.issuer = "http://127.0.0.1:8123/dev-oidc"
    return dev


def local_verifier(dev: DevIssuer) -> Verifier:
    keyset = {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(dev.jwks())}
    return Verifier(dev.issuer, CLIENT_ID, GROUPS_CLAIM, DISTRICTS, lambda kid: keyset[kid])


def pkce() -> tuple[str, str]:
    verifier = "v" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(dev: DevIssuer, username: str, password: str, challenge: str) -> Any:
    form = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:8123/console",
        "scope": "openid profile",
        "state": "s-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "username": username,
        "password": password,
    }
    return dev.handle("POST", "/dev-oidc/authorize", "", urlencode(form).encode())


def exchange(dev: DevIssuer, code: str, verifier: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8123/console",
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
    }
    return dev.handle("POST", "/dev-oidc/token", "", urlencode(form).encode())


def test_sign_in_with_code_and_pkce_gives_a_token_the_verifier_accepts(issuer: DevIssuer) -> None:
    verifier, challenge = pkce()
    reply = authorize(issuer, "ch-staff-01", issuer.passwords["ch-staff-01"], challenge)
    assert reply.status == 302
    query = parse_qs(urlsplit(reply.location).query)
    assert query["state"] == ["s-42"]
    tokens = json.loads(exchange(issuer, query["code"][0], verifier).body)
    member = local_verifier(issuer).member(tokens["access_token"])
    assert (member.principal, member.role, member.district) == ("ch-staff-01", "district", "CH")
    with pytest.raises(TokenRejected, match="ID token"):
        local_verifier(issuer).member(tokens["id_token"])


def test_a_wrong_password_or_unknown_user_gets_the_same_page(issuer: DevIssuer) -> None:
    _, challenge = pkce()
    wrong = authorize(issuer, "ch-staff-01", "guess", challenge)
    unknown = authorize(issuer, "nobody", "guess", challenge)
    assert wrong.status == unknown.status == 200  # the sign-in page again, with the error
    assert "用户名或密码不正确" in wrong.body.decode()
    assert wrong.body.decode().replace("ch-staff-01", "nobody") == unknown.body.decode()


def test_a_code_is_used_once_and_only_with_its_verifier(issuer: DevIssuer) -> None:
    verifier, challenge = pkce()
    code = parse_qs(
        urlsplit(
            authorize(issuer, "city-staff-01", issuer.passwords["city-staff-01"], challenge).location
        ).query
    )["code"][0]
    assert exchange(issuer, code, "x" * 43).status == 400  # wrong verifier: the code is gone too
    assert exchange(issuer, code, verifier).status == 400


def test_the_issuer_redirects_only_to_its_own_console(issuer: DevIssuer) -> None:
    _, challenge = pkce()
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": "https://evil.example/console",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    reply = issuer.handle("GET", "/dev-oidc/authorize", query, b"")
    assert reply.status == 400 and b"redirect_uri" in reply.body


def test_the_issuer_seeds_staff_users_but_not_the_community_agency(issuer: DevIssuer) -> None:
    names = {name for name, _, _ in issuer.logins()}
    assert {"cy-staff-01", "city-staff-01", "auditor-01"} <= names
    assert not any(n.startswith("arn:") for n in names)
    assert len(set(issuer.passwords.values())) == len(issuer.passwords)  # one generated password each


def test_a_function_without_a_staff_directory_still_knows_its_staff_from_tokens() -> None:
    """In AWS only the agency route's function gets STAFF_DIRECTORY; the others read staff from the
    authorizer's context and must not fail loading a directory they were not given."""
    from enrollment.adapters.settings import Settings
    from enrollment.adapters.wiring import Wiring

    w = Wiring(Settings.model_validate({"SEASON_CONFIG": "seasons/jilin-2023.yaml", "TABLE_NAME": "t"}))
    assert len(w.staff) == 0
