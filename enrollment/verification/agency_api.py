"""The contract an agency (or the government data-sharing platform) implements: docs/agency-api.yaml.

One call asks one agency about a batch of checks (hundreds of children a call) and names a request
id: the same id asked again answers the same, so a retry after a lost answer never asks twice. Every
request is signed with HMAC-SHA256 over the method, path, timestamp and the body's SHA-256, with a
key both sides hold (ours in Secrets Manager); the agency refuses an unsigned, wrongly signed or stale
request. Each answer names its check, the agency's reason code, the register it came from and when.

The models here are the contract: docs/agency-api.yaml is generated from them (`enroll agency-api`)
and a test keeps it current, as docs/openapi.json is kept.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from enrollment.verification.verdicts import Agency

# What each agency is asked: public security looks up a person, housing a deed, planning its use.
CheckKind = Literal["hukou", "deed", "planned-use"]
KIND_OF: dict[Agency, CheckKind] = {"public-security": "hukou", "housing": "deed", "planning": "planned-use"}
PATH = "/v1/checks"
MAX_CHECKS = 1000
# whose ownership a deed check may ask about: up to two guardians and the child (R-VER-1)
MAX_OWNER_CANDIDATES = 3

KEY_ID_HEADER = "X-Enrollment-Key-Id"
TIMESTAMP_HEADER = "X-Enrollment-Timestamp"
SIGNATURE_HEADER = "X-Enrollment-Signature"
# an agency refuses a request signed longer ago (or later) than this: a captured request cannot be replayed
MAX_SKEW_S = 300

FactValue = str | int | bool | None


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckRequest(_Contract):
    """One question: a person by ID (hukou) or a property by deed number (deed, planned-use).

    A deed check may name the people whose ownership housing is to confirm (`owner_id_numbers`: the
    child's guardians and the child). Housing then answers *whether* they own the deed, as a 核验
    (verification) and not a 查询 (look-up): `owner_match` (true when at least one of them is a
    registered owner) and `owners_matched` (how many of them are), never the owners' ID numbers or
    names, so an owner who is not one of the family's named people (a grandparent, a landlord) is not
    disclosed. A deed check that names nobody is answered without these two facts."""

    check_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,80}$", description="Unique within the request")
    kind: CheckKind
    id_type: Literal["resident-id", "passport"] | None = None
    id_number: str | None = Field(default=None, min_length=1, max_length=40)
    deed_number: str | None = Field(default=None, min_length=1, max_length=60)
    owner_id_numbers: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_OWNER_CANDIDATES,
        description=(
            "deed checks only: ID numbers (resident ID or passport) of the people whose ownership "
            "housing confirms; the answer says whether any of them owns the deed, never who does"
        ),
    )

    @model_validator(mode="after")
    def _subject(self) -> CheckRequest:
        if self.kind == "hukou" and (self.id_type is None or self.id_number is None):
            raise ValueError("a hukou check needs id_type and id_number")
        if self.kind != "hukou" and self.deed_number is None:
            raise ValueError(f"a {self.kind} check needs deed_number")
        if self.kind != "deed" and self.owner_id_numbers is not None:
            raise ValueError("only a deed check names owner_id_numbers")
        return self


class BatchRequest(_Contract):
    """A batch of checks for one agency. The same request_id always gets the same answer."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9-]{8,64}$", description="Idempotency key")
    agency: Literal["public-security", "housing", "planning"]
    sent_at: AwareDatetime
    checks: list[CheckRequest] = Field(min_length=1, max_length=MAX_CHECKS)

    @model_validator(mode="after")
    def _unique(self) -> BatchRequest:
        ids = [c.check_id for c in self.checks]
        if len(set(ids)) != len(ids):
            raise ValueError("check_id must be unique within a request")
        wrong = {c.kind for c in self.checks} - {KIND_OF[self.agency]}
        if wrong:
            raise ValueError(f"{self.agency} answers {KIND_OF[self.agency]} checks, not {sorted(wrong)}")
        return self


class CheckAnswer(_Contract):
    """The agency's answer to one check: its reason code, the facts it holds, the source and time.

    A found deed's facts: its address (`district` with `road` and `number`, or `compound`, `building`
    and `unit`), `registered_on` (ISO date), `owners` (how many registered owners it has) and, when
    the check named `owner_id_numbers`, `owner_match` (bool) and `owners_matched` (int)."""

    check_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,80}$")
    reason: Literal["found", "no-record"]
    source: str = Field(min_length=1, max_length=120, description="The register the answer comes from")
    answered_at: AwareDatetime
    facts: dict[str, FactValue] = Field(default_factory=dict)


class BatchAnswer(_Contract):
    """Answers to a batch. A check the agency could not answer yet is left out and asked again later."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9-]{8,64}$")
    answers: list[CheckAnswer] = Field(max_length=MAX_CHECKS)


class ErrorAnswer(_Contract):
    """Why a request was refused (400 invalid, 401 signature, 409 request id reused for another body)."""

    code: str = Field(min_length=1)
    message: str = Field(min_length=1)


# Signing --------------------------------------------------------------------------------------------


def string_to_sign(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What the signature covers: a body swapped, a request moved to another path or replayed later
    changes it."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign(key: bytes, method: str, path: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key, string_to_sign(method, path, timestamp, body), hashlib.sha256).hexdigest()


def signed_headers(
    key_id: str, key: bytes, method: str, path: str, body: bytes, now: datetime
) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(key, method, path, timestamp, body),
    }


def signature_problem(
    keys: dict[str, bytes], headers: Any, method: str, path: str, body: bytes, now: datetime
) -> str | None:
    """Why a request's signature is refused, or None when it holds (the agency's side of the check)."""
    key = keys.get(headers.get(KEY_ID_HEADER) or "")
    if key is None:
        return "unknown key id"
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > MAX_SKEW_S:
        return "timestamp missing or outside the allowed skew"
    expected = sign(key, method, path, timestamp, body)
    if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER) or ""):
        return "signature does not match"
    return None


# The document -----------------------------------------------------------------------------------------


def document() -> dict[str, Any]:
    """docs/agency-api.yaml: the OpenAPI 3.1 document, with the models' JSON schemas as components."""
    schemas: dict[str, Any] = {}
    for model in (BatchRequest, BatchAnswer, ErrorAnswer):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema

    def ref(name: str) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}

    signed: list[dict[str, list[str]]] = [{"hmac": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Enrollment agency checks",
            "version": "1.0.0",
            "description": (
                "What an agency (public security, housing, planning) or the government data-sharing "
                "platform implements so that the enrollment season can verify children in batches. "
                "Every request is signed: HMAC-SHA256, hex, over METHOD\\nPATH\\nTIMESTAMP\\n"
                "hex(SHA-256(body)), with the key named by the key id header; the timestamp is Unix "
                f"seconds and must be within {MAX_SKEW_S} s of the agency's clock. The same request_id "
                "always answers the same (a retry after a lost answer); reused with another body it is "
                "refused with 409. A check left out of the answer is asked again later."
            ),
        },
        "paths": {
            PATH: {
                "post": {
                    "operationId": "answerChecks",
                    "summary": "Answer a batch of checks",
                    "security": signed,
                    "parameters": [
                        {"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
                        for h in (KEY_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
                    ],
                    "requestBody": {"required": True, **ref("BatchRequest")},
                    "responses": {
                        "200": {
                            "description": "Answers (possibly to some checks only)",
                            **ref("BatchAnswer"),
                        },
                        "400": {"description": "The request is invalid", **ref("ErrorAnswer")},
                        "401": {"description": "Missing, stale or wrong signature", **ref("ErrorAnswer")},
                        "409": {"description": "request_id reused with another body", **ref("ErrorAnswer")},
                        "503": {"description": "Unavailable: ask again later", **ref("ErrorAnswer")},
                    },
                }
            }
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "hmac": {
                    "type": "apiKey",
                    "in": "header",
                    "name": SIGNATURE_HEADER,
                    "description": "HMAC-SHA256 signature; see the description above",
                }
            },
        },
    }


def document_yaml() -> str:
    return yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100)


def utcnow() -> datetime:
    return datetime.now(UTC)
