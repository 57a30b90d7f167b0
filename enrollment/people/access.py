"""Staff sign-in: an OIDC access token becomes a staff member with exactly one role (docs/ACCESS.md).

API Gateway's token authorizer (functions/authorize) verifies each staff request's bearer token
with `Verifier.member`; the member's role and district travel to the staff handlers in the
authorizer context (`context_of` / `member_from_context`), and every handler checks them against
the district of the data it reads or changes (enrollment/core/staff.py).

Roles come from the token's groups (Cognito's `cognito:groups` by default, any claim for another
issuer): a district code (`CY`, `CH`, ...) makes district staff of that district, `city` the city
bureau, `auditor` a read-only auditor. A token with none of these, or with more than one, opens
nothing: one person, one role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt

from enrollment.core.staff import ROLE_ZH, StaffMember

ALGORITHMS = ("RS256",)  # Cognito and most OIDC issuers sign access tokens with RS256
LEEWAY_S = 30  # clock skew tolerated on exp / iat / nbf


class TokenRejected(Exception):
    """Not a valid token of the trusted issuer for this client: API Gateway answers 401."""


class NoRole(Exception):
    """A valid token whose groups give no single staff role: API Gateway answers 403."""


@dataclass(frozen=True)
class Verifier:
    issuer: str
    audience: str  # the console's client id, or the API's audience
    groups_claim: str
    districts: frozenset[str]
    key_for: Callable[[str], Any]  # kid -> the issuer's public key (raises KeyError if unknown)

    def member(self, token: str) -> StaffMember:
        return member_from_claims(self.claims(token), self.groups_claim, self.districts)

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience, expiry and use are checked."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise TokenRejected(f"not a JWT: {e}") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenRejected(f"algorithm {header.get('alg')!r} is not accepted")
        try:
            key = self.key_for(str(header.get("kid", "")))
        except KeyError:
            raise TokenRejected(f"unknown signing key {header.get('kid')!r}") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as e:
            raise TokenRejected(str(e)) from None
        # Cognito access tokens name the client in `client_id` and carry no `aud`; other issuers use `aud`
        aud = claims.get("aud")
        audiences = {aud} if isinstance(aud, str) else set(aud or ())
        if self.audience not in audiences and claims.get("client_id") != self.audience:
            raise TokenRejected("the token is for another client")
        if claims.get("token_use", "access") != "access":
            raise TokenRejected("an ID token is not an access token")
        return claims


def role_of(groups: Iterable[str], districts: Iterable[str]) -> tuple[str, str | None]:
    """(role, district) from a token's groups; NoRole unless exactly one group is a staff role."""
    known = set(districts)
    roles = sorted({g for g in groups if g in ("city", "auditor") or g in known})
    if not roles:
        raise NoRole("no staff group (a district code, city or auditor)")
    if len(roles) > 1:
        raise NoRole(f"more than one staff group: {', '.join(roles)}")
    group = roles[0]
    return (group, None) if group in ("city", "auditor") else ("district", group)


def member_from_claims(claims: dict[str, Any], groups_claim: str, districts: Iterable[str]) -> StaffMember:
    raw = claims.get(groups_claim) or []
    groups = [raw] if isinstance(raw, str) else [str(g) for g in raw]
    role, district = role_of(groups, districts)
    principal = next(
        str(claims[k]) for k in ("username", "cognito:username", "preferred_username", "sub") if claims.get(k)
    )
    return StaffMember(principal=principal, role=role, district=district)


def context_of(member: StaffMember) -> dict[str, str]:
    """What the authorizer hands to the staff handlers (API Gateway allows strings, numbers, booleans)."""
    return {"principal": member.principal, "role": member.role, "district": member.district or ""}


def member_from_context(context: dict[str, Any] | None) -> StaffMember | None:
    """The staff member the authorizer verified, or None on a route without the staff authorizer."""
    if not context or not context.get("role"):
        return None
    return StaffMember(
        principal=str(context["principal"]),
        role=context["role"],
        district=str(context.get("district") or "") or None,
    )


def describe(member: StaffMember, district_names: dict[str, str]) -> dict[str, Any]:
    """Who is signed in, as the console shows it."""
    return {
        "principal": member.principal,
        "role": member.role,
        "role_zh": ROLE_ZH[member.role],
        "district": member.district,
        "district_name": district_names.get(member.district or ""),
    }
