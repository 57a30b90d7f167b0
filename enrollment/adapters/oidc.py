"""The OIDC issuer's signing keys, for the staff token authorizer (docs/ACCESS.md).

In AWS the keys are the issuer's published JWKS, found through its discovery document
(`{issuer}/.well-known/openid-configuration` → `jwks_uri`; Cognito's is
`{issuer}/.well-known/jwks.json`) and cached for the life of the Lambda container. Locally the
development issuer writes its JWKS to a file (`OIDC_JWKS_FILE`), read the same way.
"""

from __future__ import annotations

import json
import urllib.request
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt

DISCOVERY = "/.well-known/openid-configuration"
TIMEOUT_S = 5


class IssuerKeys:
    """kid -> public key, from the issuer's JWKS (KeyError for a kid the issuer does not publish)."""

    def __init__(self, issuer: str, jwks_file: str = "") -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_file = jwks_file
        self._file_keys: dict[str, Any] = {}

    def __call__(self, kid: str) -> Any:
        if self.jwks_file:
            if kid not in self._file_keys:  # read once; again only for a key not seen yet
                self._file_keys = _keys(json.loads(Path(self.jwks_file).read_text()))
            if kid not in self._file_keys:
                raise KeyError(kid)
            return self._file_keys[kid]
        try:
            return self._client.get_signing_key(kid).key
        except jwt.PyJWKClientError as e:
            if "Unable to find a signing key" in str(e):
                raise KeyError(kid) from None
            raise

    @cached_property
    def _client(self) -> jwt.PyJWKClient:
        url = self.issuer + DISCOVERY
        if not url.startswith("https://"):
            raise ValueError(f"the OIDC issuer must be https: {self.issuer!r}")
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r:  # noqa: S310 - https only, checked above
            jwks_uri = str(json.loads(r.read())["jwks_uri"])
        return jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=3600, timeout=TIMEOUT_S)


def _keys(jwks: dict[str, Any]) -> dict[str, Any]:
    return {str(k.key_id): k.key for k in jwt.PyJWKSet.from_dict(jwks)}
