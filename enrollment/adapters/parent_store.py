"""`ParentStore` on the season's single table: parents' SMS codes and sessions (enrollment/people/parents.py).

Keys:
- code state:  `PARENT#{registration id}` / `CODE` (kept for ids that do not exist too: the rate
  limit must not tell them apart); only the code's keyed hash is stored, never the code.
- session:     `SESSION#{keyed hash of the token}` / `SESSION`, with its registration id and expiry.
- attempts:    `ATTEMPTS#{scope}#{subject}` / `ATTEMPTS` (scope `client`: a source IP; `registration`:
  a registration id, existing or not): recent code requests and failed proofs, lockout, totals.

Every item carries `expires_epoch` (seconds), for a table TTL to clear it once it is useless (attempt
records a day after their last attempt or lockout, so staff can still see them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from enrollment.adapters.kms import hmac_sha256
from enrollment.adapters.table import DynamoTable
from enrollment.core.resources import TTL_ATTRIBUTE
from enrollment.people.parents import SEND_WINDOW, AttemptRecord, CodeRecord, ParentSession

ATTEMPTS_KEPT = timedelta(days=1)

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DynamoParentStore(DynamoTable):
    def code_record(self, registration_id: str) -> CodeRecord | None:
        item = self._get(f"PARENT#{registration_id}", "CODE")
        if item is None:
            return None
        expires = item.get("expires_at")
        return CodeRecord(
            registration_id=registration_id,
            sends=tuple(datetime.fromisoformat(str(t)) for t in item.get("sends", [])),
            code_hash=str(item["code_hash"]) if item.get("code_hash") else None,
            expires_at=datetime.fromisoformat(str(expires)) if expires else None,
            attempts=int(item.get("attempts", 0)),
            version=int(item["version"]),
        )

    def put_code_record(self, record: CodeRecord, expected_version: int | None) -> bool:
        last = max([*record.sends, *([record.expires_at] if record.expires_at else [])], default=None)
        item: dict[str, Any] = {
            "pk": f"PARENT#{record.registration_id}",
            "sk": "CODE",
            "type": "parent-code",
            "sends": [t.isoformat() for t in record.sends],
            "code_hash": record.code_hash,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
            "attempts": record.attempts,
            "version": record.version,
            TTL_ATTRIBUTE: _epoch(last + SEND_WINDOW) if last else 0,
        }
        condition = (
            Attr("pk").not_exists() if expected_version is None else Attr("version").eq(expected_version)
        )
        return self._put_if(item, condition)

    def put_session(self, session: ParentSession) -> None:
        item = {
            "pk": f"SESSION#{session.token_hash}",
            "sk": "SESSION",
            "type": "parent-session",
            "registration_id": session.registration_id,
            "created_at": session.created_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            TTL_ATTRIBUTE: _epoch(session.expires_at + timedelta(minutes=1)),
        }
        if not self._put_new(item):
            raise RuntimeError("a session token collided with another one")  # 256 random bits: never

    def session(self, token_hash: str) -> ParentSession | None:
        item = self._get(f"SESSION#{token_hash}", "SESSION")
        if item is None:
            return None
        return ParentSession(
            token_hash=token_hash,
            registration_id=str(item["registration_id"]),
            created_at=datetime.fromisoformat(str(item["created_at"])),
            expires_at=datetime.fromisoformat(str(item["expires_at"])),
        )

    def end_session(self, token_hash: str) -> None:
        self._call(self.table.delete_item, Key={"pk": f"SESSION#{token_hash}", "sk": "SESSION"})

    def attempts(self, scope: str, subject: str) -> AttemptRecord | None:
        item = self._get(f"ATTEMPTS#{scope}#{subject}", "ATTEMPTS")
        if item is None:
            return None
        locked = item.get("locked_until")
        return AttemptRecord(
            scope=scope,
            subject=subject,
            requests=tuple(datetime.fromisoformat(str(t)) for t in item.get("requests", [])),
            failures=tuple(datetime.fromisoformat(str(t)) for t in item.get("failures", [])),
            locked_until=datetime.fromisoformat(str(locked)) if locked else None,
            total_requests=int(item.get("total_requests", 0)),
            total_failures=int(item.get("total_failures", 0)),
            lockouts=int(item.get("lockouts", 0)),
            version=int(item["version"]),
        )

    def put_attempts(self, record: AttemptRecord, expected_version: int | None) -> bool:
        last = max(
            [*record.requests, *record.failures, *([record.locked_until] if record.locked_until else [])]
        )
        item: dict[str, Any] = {
            "pk": f"ATTEMPTS#{record.scope}#{record.subject}",
            "sk": "ATTEMPTS",
            "type": "parent-attempts",
            "scope": record.scope,
            "subject": record.subject,
            "requests": [t.isoformat() for t in record.requests],
            "failures": [t.isoformat() for t in record.failures],
            "locked_until": record.locked_until.isoformat() if record.locked_until else None,
            "total_requests": record.total_requests,
            "total_failures": record.total_failures,
            "lockouts": record.lockouts,
            "updated_at": last.isoformat(),
            "version": record.version,
            TTL_ATTRIBUTE: _epoch(last + ATTEMPTS_KEPT),
        }
        condition = (
            Attr("pk").not_exists() if expected_version is None else Attr("version").eq(expected_version)
        )
        return self._put_if(item, condition)


def parent_secret(client: KMSClient, key_id: str, season: str) -> bytes:
    """The key behind parents' code and token hashes, derived in KMS (its HMAC key never leaves KMS)."""
    return hmac_sha256(client, key_id, f"enrollment-parent-secret/1|{season}".encode())
